import semver from 'semver';
import type { Ecosystem } from '../model.js';

/** Orders two versions of one ecosystem (negative, zero, positive); undefined when either cannot be parsed. */
export type VersionComparator = (a: string, b: string) => number | undefined;

/** npm: SemVer 2.0 ordering, pre-releases included (1.2.3-beta.1 < 1.2.3), build metadata ignored. */
// An audit compares the same few versions thousands of times; parsing dominates, so parses are kept (bounded).
const parsedSemver = new Map<string, semver.SemVer | null>();
function parseSemver(version: string): semver.SemVer | null {
  let parsed = parsedSemver.get(version);
  if (parsed === undefined) {
    if (parsedSemver.size >= 100_000) parsedSemver.clear();
    parsed = semver.parse(version);
    parsedSemver.set(version, parsed);
  }
  return parsed;
}

export const compareSemver: VersionComparator = (a, b) => {
  const x = parseSemver(a);
  const y = parseSemver(b);
  return x === null || y === null ? undefined : x.compare(y);
};

/**
 * Go modules: semver with a `v` prefix (OSV writes Go range events without it). Pseudo-versions
 * (v0.0.0-20210101000000-abcdef123456, vX.Y.Z-0.yyyymmdd…) are pre-releases, so they order by their
 * timestamp before the release they precede; `+incompatible` is build metadata and ignored.
 */
export const compareGo: VersionComparator = (a, b) => compareSemver(a.replace(/^v/, ''), b.replace(/^v/, ''));

// ---- PEP 440 --------------------------------------------------------------------------------------
// Covers: epochs (1!2.0), release segments of any length with trailing zeros ignored (1.0 == 1.0.0),
// pre-releases a/b/rc with their spellings (alpha, beta, c, pre, preview), post-releases (.post1, -1, rev),
// dev releases (.dev0), local versions (+ubuntu.1), a leading v, `-`/`_`/`.` separators, and case.
// Not covered: the legacy (non-PEP 440) versions older setuptools accepted; they do not compare.

interface Pep440 {
  epoch: number;
  release: number[];
  pre: [number, number] | undefined; // [0 a | 1 b | 2 rc, n]
  post: number | undefined;
  dev: number | undefined;
  local: (number | string)[];
}

const pep440Pattern =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/;
const preRank: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };

export function parsePep440(version: string): Pep440 | undefined {
  const m = pep440Pattern.exec(version.trim().toLowerCase());
  if (!m) return undefined;
  const release = m[2]!.split('.').map(Number);
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  return {
    epoch: m[1] === undefined ? 0 : Number(m[1]),
    release,
    pre: m[3] === undefined ? undefined : [preRank[m[3]]!, Number(m[4] ?? 0)],
    post: m[5] !== undefined ? Number(m[5]) : m[6] !== undefined ? Number(m[7] ?? 0) : undefined,
    dev: m[8] === undefined ? undefined : Number(m[9] ?? 0),
    local: m[10] === undefined ? [] : m[10].split(/[-_.]/).map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
  };
}

const cmp = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);
function cmpList<T>(a: readonly T[], b: readonly T[], one: (x: T, y: T) => number, fill?: T): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? fill;
    const y = b[i] ?? fill;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = one(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

/** The sort key of packaging.version: a dev release of a final sorts before its pre-releases, a post after. */
function preKey(v: Pep440): [number, number] {
  if (v.pre === undefined && v.post === undefined && v.dev !== undefined) return [-Infinity, 0];
  return v.pre ?? [Infinity, 0];
}
const localPart = (x: number | string, y: number | string) =>
  typeof x === 'number' && typeof y === 'number' ? cmp(x, y) : typeof x === 'number' ? 1 : typeof y === 'number' ? -1 : x < y ? -1 : x > y ? 1 : 0;

export const comparePep440: VersionComparator = (a, b) => {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (x === undefined || y === undefined) return undefined;
  return (
    cmp(x.epoch, y.epoch) ||
    cmpList(x.release, y.release, cmp, 0) ||
    cmpList(preKey(x), preKey(y), cmp) ||
    cmp(x.post ?? -Infinity, y.post ?? -Infinity) ||
    cmp(x.dev ?? Infinity, y.dev ?? Infinity) ||
    (x.local.length === 0 && y.local.length === 0 ? 0 : x.local.length === 0 ? -1 : y.local.length === 0 ? 1 : cmpList(x.local, y.local, localPart))
  );
};

/** The comparator for an ecosystem's versions. */
export function comparatorFor(ecosystem: Ecosystem): VersionComparator {
  if (ecosystem === 'PyPI') return comparePep440;
  if (ecosystem === 'Go') return compareGo;
  return compareSemver;
}
