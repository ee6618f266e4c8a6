import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { writeTarGz, type TarEntry } from './tar.js';

// What goes into a build artifact, decided by Plinth and not by running `npm pack`: npm pack runs the
// project's prepack/prepare scripts, and a platform step must never run user code next to the
// signing key (SLSA Build L3: provenance is unforgeable by the build's own steps). We follow npm
// pack's file selection instead:
// - package.json names `files`: those (globs or folders), plus package.json, README*, LICENSE*/LICENCE*,
//   the lockfile, and every `bundleDependencies` package under node_modules/ with the packages it
//   needs in turn (its dependencies and optional dependencies, found as Node resolves them);
// - otherwise (and for non-Node projects): every file of the workspace after the build, except .git/
//   and node_modules/ (bundled dependencies excepted).
// Symbolic links are left out (a link can point anywhere once unpacked): the walk neither follows
// nor lists them, and a link met anyway is reported as skipped.

export const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;
const alwaysIncluded = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'README*', 'readme*', 'LICENSE*', 'LICENCE*', 'license*', 'licence*'];

export interface PackedArtifact {
  /** `<name>-<version>.tgz` from package.json (npm's naming), else `<fallbackName>.tgz`. */
  name: string;
  /** Lowercase hex sha256 of the .tgz bytes. */
  sha256: string;
  bytes: Buffer;
  files: number;
  /** Files left out with why (symlinks, special files). */
  skipped: { path: string; reason: string }[];
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  files?: unknown;
  bundleDependencies?: unknown;
  bundledDependencies?: unknown;
}

async function readPackageJson(workspace: string): Promise<PackageJson | undefined> {
  const text = await readFile(join(workspace, 'package.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as PackageJson) : undefined;
  } catch {
    throw new Error('package.json is not valid JSON; fix it so the artifact can be packed');
  }
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : []);

/** npm's tarball name: `@scope/name` → `scope-name-1.0.0.tgz`. */
export function artifactName(pkg: PackageJson | undefined, fallback: string): string {
  if (pkg && typeof pkg.name === 'string' && pkg.name !== '' && typeof pkg.version === 'string' && pkg.version !== '') {
    return `${pkg.name.replace(/^@/, '').replace(/\//g, '-')}-${pkg.version}.tgz`.replace(/[^A-Za-z0-9._+-]/g, '-');
  }
  return `${fallback.replace(/[^A-Za-z0-9._+-]/g, '-')}.tgz`;
}

const dependencyNames = (pkg: Record<string, unknown> | undefined): string[] =>
  [pkg?.dependencies, pkg?.optionalDependencies].flatMap((deps) => (typeof deps === 'object' && deps !== null ? Object.keys(deps) : []));

/**
 * The installed folders (relative, e.g. `node_modules/pg`, `node_modules/a/node_modules/b`) of the
 * bundled packages and of everything they depend on, as npm pack bundles them. Each dependency is
 * found as Node finds it: in the depending package's own node_modules, then its ancestors'. A
 * dependency that is not installed (an optional one for another platform) is left out.
 */
async function bundledFolders(workspace: string, names: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const resolveFrom = async (from: string, name: string): Promise<string | undefined> => {
    for (let dir = from; ; ) {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (await lstat(join(workspace, candidate, 'package.json')).then((i) => i.isFile(), () => false)) return candidate;
      if (dir === '') return undefined;
      // Up from `node_modules/a/node_modules/@s/b` to the folder whose node_modules holds it.
      const at = dir.lastIndexOf('node_modules/');
      dir = at <= 0 ? '' : dir.slice(0, at - 1);
    }
  };
  const queue: [string, string][] = names.map((name) => ['', name]);
  while (queue.length > 0) {
    const [from, name] = queue.shift()!;
    const folder = await resolveFrom(from, name);
    if (!folder || found.has(folder)) continue;
    found.add(folder);
    let manifest: Record<string, unknown> | undefined;
    try {
      manifest = JSON.parse(await readFile(join(workspace, folder, 'package.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      manifest = undefined; // an unreadable manifest names no dependencies; its folder is still packed
    }
    for (const dependency of dependencyNames(manifest)) queue.push([folder, dependency]);
  }
  return [...found];
}

/** Relative paths of the files to pack, sorted (code-unit order, as the tar writer needs). */
async function selectFiles(workspace: string, pkg: PackageJson | undefined): Promise<string[]> {
  const bundled = [...strings(pkg?.bundleDependencies), ...strings(pkg?.bundledDependencies)];
  const bundledGlobs = (await bundledFolders(workspace, bundled)).map((folder) => `${folder}/**`);
  const options = { cwd: workspace, dot: true, onlyFiles: true, followSymbolicLinks: false, expandDirectories: true } as const;
  const declared = strings(pkg?.files);
  const found =
    declared.length > 0
      ? [
          ...(await glob(declared.map((f) => f.replace(/^\.\//, '').replace(/\/$/, '')), { ...options, ignore: ['.git/**', '**/node_modules/**'] })),
          ...(await glob(alwaysIncluded, { ...options, deep: 1 })),
        ]
      : await glob(['**'], { ...options, ignore: ['.git/**', 'node_modules/**'] });
  const withBundled = bundledGlobs.length > 0 ? [...found, ...(await glob(bundledGlobs, options))] : found;
  return [...new Set(withBundled)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Keeps the bits a scan must see (setuid, setgid, sticky, world-writable) and normalizes the rest to 644/755. */
export function normalizedMode(mode: number): number {
  const base = (mode & 0o111) !== 0 ? 0o755 : 0o644;
  return base | (mode & 0o7000) | (mode & 0o002);
}

/** Packs the workspace's build output into a deterministic .tgz (see the rules above). */
export async function packWorkspace(workspace: string, fallbackName: string): Promise<PackedArtifact> {
  const pkg = await readPackageJson(workspace);
  const paths = await selectFiles(workspace, pkg);
  const entries: TarEntry[] = [];
  const skipped: PackedArtifact['skipped'] = [];
  const dirs = new Set<string>();
  let total = 0;
  for (const path of paths) {
    const full = join(workspace, path);
    const info = await lstat(full);
    if (info.isSymbolicLink()) {
      skipped.push({ path, reason: 'a symbolic link; artifacts carry files only' });
      continue;
    }
    if (!info.isFile()) {
      skipped.push({ path, reason: 'not a regular file' });
      continue;
    }
    total += info.size;
    if (total > MAX_ARTIFACT_BYTES) throw new Error(`the artifact would be over ${MAX_ARTIFACT_BYTES} bytes; name the build output in package.json "files"`);
    // Parent folders as entries, so unpacking makes them with a known mode.
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) {
        dirs.add(dir);
        entries.push({ path: dir, type: 'directory', mode: 0o755, content: Buffer.alloc(0) });
      }
    }
    entries.push({ path, type: 'file', mode: normalizedMode(info.mode), content: await readFile(full) });
  }
  // Directories were added as met; sorting everything keeps the order independent of the walk.
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const bytes = writeTarGz(entries);
  return { name: artifactName(pkg, fallbackName), sha256: createHash('sha256').update(bytes).digest('hex'), bytes, files: entries.filter((e) => e.type === 'file').length, skipped };
}

