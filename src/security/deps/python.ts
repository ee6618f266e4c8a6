import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import type { DependencyTree, PackageHash, ResolvedPackage } from '../model.js';
import { objectKeyLines } from './npm.js';
import { normalizePypiName, toPurl } from './purl.js';

// Python lockfiles. Pinned requirements and Pipfile.lock are flat (every package hangs off the root);
// poetry.lock records each package's own dependencies, so it keeps the graph.

const pypiPackage = (name: string, version: string, extra: Partial<ResolvedPackage>): ResolvedPackage => ({
  key: `${normalizePypiName(name)}@${version}`,
  ecosystem: 'PyPI',
  name: normalizePypiName(name),
  version,
  purl: toPurl('PyPI', name, version),
  dev: false,
  optional: false,
  hashes: [],
  license: undefined,
  resolved: undefined,
  dependencies: [],
  line: 1,
  ...extra,
});

const sha256Hashes = (values: readonly string[]): PackageHash[] => {
  // One hash per algorithm is all an SBOM component carries; a lock lists one per wheel/sdist, so keep the first.
  const first = values.map((v) => /^sha256:([0-9a-f]{64})$/i.exec(v.trim())?.[1]).find((v) => v !== undefined);
  return first === undefined ? [] : [{ alg: 'SHA-256', hex: first.toLowerCase() }];
};

const rootOf = (file: string, packages: ResolvedPackage[], dependencies?: string[]) => {
  const name = file.includes('/') ? file.slice(0, file.lastIndexOf('/')).split('/').pop()! : 'project';
  return { name, version: '0.0.0', purl: toPurl('PyPI', name, '0.0.0'), dependencies: dependencies ?? packages.map((p) => p.key) };
};

/** `requirements.txt` with `name==version` pins (hashes from `--hash=sha256:`); anything unpinned is a warning, not a guess. */
export function parseRequirements(text: string, file: string): DependencyTree {
  const packages: ResolvedPackage[] = [];
  const warnings: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    while (line.trimEnd().endsWith('\\') && i + 1 < lines.length) line = line.trimEnd().slice(0, -1) + ' ' + lines[++i]!;
    const content = line.replace(/(^|\s)#.*$/, '').trim();
    if (content === '') continue;
    if (content.startsWith('-')) {
      if (/^(-r|--requirement|-c|--constraint)\b/.test(content)) warnings.push(`${file}:${start + 1}: ${content.split(/\s+/)[0]} includes are not followed; scan that file too`);
      continue;
    }
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;,]+)\s*(;[^-]*)?(.*)$/.exec(content);
    if (!m || /[*,]/.test(m[2]!)) {
      warnings.push(`${file}:${start + 1}: "${content.split(/\s+/)[0]}" is not pinned with ==; left out`);
      continue;
    }
    const hashes = [...(m[4] ?? '').matchAll(/--hash[=\s]+(\S+)/g)].map((h) => h[1]!);
    packages.push(pypiPackage(m[1]!, m[2]!, { hashes: sha256Hashes(hashes), line: start + 1 }));
  }
  return { file, ecosystem: 'PyPI', root: rootOf(file, packages), packages, warnings };
}

const PipfileSection = z.record(z.string(), z.looseObject({ version: z.string().optional(), hashes: z.array(z.string()).optional() }));
const PipfileLock = z.looseObject({ default: PipfileSection.optional(), develop: PipfileSection.optional() });

/** `Pipfile.lock`: `default` packages are production, `develop` ones development. */
export function parsePipfileLock(text: string, file: string): DependencyTree {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = PipfileLock.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const lines = objectKeyLines(text);
  const packages: ResolvedPackage[] = [];
  const warnings: string[] = [];
  for (const [section, dev] of [['default', false], ['develop', true]] as const) {
    for (const [name, entry] of Object.entries(parsed.data[section] ?? {})) {
      const version = entry.version?.replace(/^==/, '');
      if (version === undefined || /[<>=!~*]/.test(version)) {
        warnings.push(`${file}: ${section}.${name} has no pinned version (${entry.version ?? 'none'}); left out`);
        continue;
      }
      const key = `${normalizePypiName(name)}@${version}`;
      if (packages.some((p) => p.key === key)) continue;
      packages.push(pypiPackage(name, version, { dev, hashes: sha256Hashes(entry.hashes ?? []), line: lines.get(name) ?? 1 }));
    }
  }
  return { file, ecosystem: 'PyPI', root: rootOf(file, packages), packages, warnings };
}

const PoetryLock = z.looseObject({
  package: z.array(
    z.looseObject({
      name: z.string().min(1),
      version: z.string().min(1),
      category: z.string().optional(),
      groups: z.array(z.string()).optional(),
      optional: z.boolean().optional(),
      dependencies: z.record(z.string(), z.unknown()).optional(),
      files: z.array(z.looseObject({ hash: z.string().optional() })).optional(),
    }),
  ).default([]),
});

/** `poetry.lock` (TOML): packages with their dependency edges; roots are the packages nothing else depends on. */
export function parsePoetryLock(text: string, file: string): DependencyTree {
  let toml: unknown;
  try {
    toml = parseToml(text);
  } catch (err) {
    throw new InputError(`${file}: not valid TOML (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = PoetryLock.safeParse(toml);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const textLines = text.split('\n');
  const lineOf = (name: string, from: number) => {
    const i = textLines.findIndex((l, n) => n >= from && l.trim() === `name = "${name}"`);
    return i;
  };
  const byName = new Map<string, ResolvedPackage>();
  let cursor = 0;
  for (const entry of parsed.data.package) {
    const found = lineOf(entry.name, cursor);
    if (found >= 0) cursor = found + 1;
    const dev = entry.category === 'dev' || (entry.groups !== undefined && entry.groups.length > 0 && !entry.groups.includes('main'));
    const p = pypiPackage(entry.name, entry.version, {
      dev,
      optional: entry.optional === true,
      hashes: sha256Hashes((entry.files ?? []).map((f) => f.hash ?? '')),
      line: found >= 0 ? found + 1 : 1,
    });
    byName.set(p.name, p);
  }
  const depended = new Set<string>();
  for (const entry of parsed.data.package) {
    const p = byName.get(normalizePypiName(entry.name))!;
    for (const dep of Object.keys(entry.dependencies ?? {})) {
      const target = byName.get(normalizePypiName(dep));
      if (target === undefined) continue; // an extra or a platform-specific dependency not installed
      p.dependencies.push(target.key);
      depended.add(target.key);
    }
  }
  const packages = [...byName.values()];
  return { file, ecosystem: 'PyPI', root: rootOf(file, packages, packages.filter((p) => !depended.has(p.key)).map((p) => p.key)), packages, warnings: [] };
}
