import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import type { DependencyTree, HashAlgorithm, PackageHash, ResolvedPackage } from '../model.js';
import { toPurl } from './purl.js';

// npm package-lock.json / npm-shrinkwrap.json, lockfileVersion 2 and 3: the `packages` map keyed by install
// path ("" is the root, "node_modules/a/node_modules/b" a nested copy, "packages/x" a workspace).
// https://docs.npmjs.com/cli/v11/configuring-npm/package-lock-json

const depMap = z.record(z.string(), z.string()).optional();
const LockEntry = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  resolved: z.string().optional(),
  integrity: z.string().optional(),
  link: z.boolean().optional(),
  dev: z.boolean().optional(),
  optional: z.boolean().optional(),
  devOptional: z.boolean().optional(),
  peer: z.boolean().optional(),
  license: z.unknown().optional(),
  dependencies: depMap,
  optionalDependencies: depMap,
  peerDependencies: depMap,
  devDependencies: depMap,
});
type LockEntry = z.infer<typeof LockEntry>;
const Lockfile = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  lockfileVersion: z.number().int(),
  packages: z.record(z.string(), LockEntry).optional(),
});

const hashAlgs: Record<string, HashAlgorithm> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/** Subresource-integrity strings (`sha512-<base64>`, possibly several) as hex hashes; unknown algorithms are left out. */
export function integrityHashes(integrity: string | undefined): PackageHash[] {
  const out: PackageHash[] = [];
  for (const part of (integrity ?? '').split(/\s+/)) {
    const m = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/=]+)(?:\?.*)?$/.exec(part);
    if (!m) continue;
    const alg = hashAlgs[m[1]!]!;
    if (!out.some((h) => h.alg === alg)) out.push({ alg, hex: Buffer.from(m[2]!, 'base64').toString('hex') });
  }
  return out;
}

/** The 1-based line of each `"key": {` in a JSON text (first occurrence), so findings point into the lockfile. */
export function objectKeyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const pattern = /^\s*("(?:[^"\\]|\\.)*")\s*:\s*\{/;
  text.split('\n').forEach((line, i) => {
    const m = pattern.exec(line);
    if (!m) return;
    try {
      const key = JSON.parse(m[1]!) as string;
      if (!lines.has(key)) lines.set(key, i + 1);
    } catch {
      // not a plain JSON string: no line for it
    }
  });
  return lines;
}

const nameFromPath = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
const parentDir = (path: string): string | undefined => {
  const i = path.lastIndexOf('/node_modules/');
  if (i >= 0) return path.slice(0, i);
  return path === '' ? undefined : '';
};

function licenseOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string') return (value as { type: string }).type;
  return undefined;
}

/** Parses a v2/v3 npm lockfile into the installed tree; `file` names it in every error. */
export function parseNpmLockfile(text: string, file: string): DependencyTree {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = Lockfile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const lock = parsed.data;
  if (lock.lockfileVersion < 2 || lock.packages === undefined) {
    throw new InputError(`${file}: lockfileVersion ${lock.lockfileVersion} has no "packages" map; regenerate it with npm 7 or later (npm install --lockfile-version 3)`);
  }
  const entries = lock.packages;
  const rootEntry = entries[''] ?? {};
  const lines = objectKeyLines(text);
  const warnings: string[] = [];

  /** Node's resolution: the nearest node_modules/<name> walking up from `from`, following workspace links. */
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir: string | undefined = from; dir !== undefined; dir = parentDir(dir)) {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      const entry = entries[candidate];
      if (entry === undefined) continue;
      if (entry.link === true) {
        const target = entry.resolved;
        if (target !== undefined && entries[target] !== undefined) return target;
        warnings.push(`${candidate} links to ${target ?? 'nothing'}, which the lockfile does not list`);
        return undefined;
      }
      return candidate;
    }
    return undefined;
  };
  const edgesOf = (path: string, entry: LockEntry, withDev: boolean): string[] => {
    const names = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}),
      ...(withDev ? Object.keys(entry.devDependencies ?? {}) : []),
    ];
    const out: string[] = [];
    for (const name of new Set(names)) {
      const target = resolve(path, name);
      // An optional or peer dependency that is not installed is no edge (npm omits it too).
      if (target !== undefined && target !== path) out.push(target);
    }
    return out;
  };

  const packages: ResolvedPackage[] = [];
  for (const [path, entry] of Object.entries(entries)) {
    if (path === '' || entry.link === true) continue;
    const isWorkspace = !path.includes('node_modules/');
    const name = entry.name ?? (isWorkspace ? path.slice(path.lastIndexOf('/') + 1) : nameFromPath(path));
    if (entry.version === undefined) {
      warnings.push(`${path}: no version; left out`);
      continue;
    }
    packages.push({
      key: path,
      ecosystem: 'npm',
      name,
      version: entry.version,
      purl: toPurl('npm', name, entry.version),
      dev: entry.dev === true,
      optional: entry.optional === true || entry.devOptional === true,
      hashes: integrityHashes(entry.integrity),
      license: licenseOf(entry.license),
      resolved: entry.resolved,
      dependencies: edgesOf(path, entry, isWorkspace),
      line: lines.get(path) ?? 1,
    });
  }
  const known = new Set(packages.map((p) => p.key));
  for (const p of packages) p.dependencies = p.dependencies.filter((d) => known.has(d));
  // Workspaces hang off the root through their node_modules links, whether or not the root depends on them.
  const workspaces = Object.entries(entries)
    .filter(([path, e]) => e.link === true && e.resolved !== undefined && known.has(e.resolved) && !path.slice('node_modules/'.length).includes('node_modules/'))
    .map(([, e]) => e.resolved!);
  const rootName = rootEntry.name ?? lock.name ?? 'root';
  const rootVersion = rootEntry.version ?? lock.version ?? '0.0.0';
  return {
    file,
    ecosystem: 'npm',
    root: { name: rootName, version: rootVersion, purl: toPurl('npm', rootName, rootVersion), dependencies: [...new Set([...edgesOf('', rootEntry, true), ...workspaces])].filter((d) => known.has(d)) },
    packages,
    warnings,
  };
}
