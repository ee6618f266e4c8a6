import { createHash } from 'node:crypto';

// ---- Package-manager caches ------------------------------------------------------------------------
// What a preset keeps between runs of one repository and what its key is made of (pure: the runner
// reads the key files and copies the directories). Like GitHub Actions' cache with restore-keys: the
// exact key (lockfile hash) restores everything; a miss falls back to the newest cache of the same
// repository and preset, but only for download caches — a stale node_modules would be wrong.

/** A directory a cache keeps, relative to the run's HOME or to its workspace. */
export interface CachedPath {
  base: 'home' | 'workspace';
  path: string;
  /** Environment variable that points the tool at it (set to the absolute path for every step). */
  env?: string;
  /**
   * When a restore brings it back:
   * - always: on the exact key and on the fallback to the newest cache (download caches)
   * - exact: only on the exact key (an installed tree must match its lockfile exactly)
   * - fallback: only when the exact key missed (a download cache that the installed tree makes unneeded)
   */
  restore: 'always' | 'exact' | 'fallback';
}

export const cacheNames = ['npm', 'pnpm', 'yarn', 'pip', 'go', 'cargo'] as const;
export type CacheName = (typeof cacheNames)[number];

export interface CacheSpec {
  name: CacheName;
  /** Root files whose bytes make the key, in this order (lockfiles, else the manifest). */
  keyFiles: string[];
  paths: CachedPath[];
  /** Env every step gets so the tool reads the restored cache before the network. */
  env: Record<string, string>;
}

/** Set for every step of a run with a cache: `true` when the exact key was restored (installed tree included). */
export const CACHE_HIT_ENV = 'PLINTH_CACHE_HIT';

/** A cache key as stored on disk: `<name>-<32 hex>`; nothing else is ever used as a directory name. */
export const cacheKeyPattern = /^(npm|pnpm|yarn|pip|go|cargo)-[0-9a-f]{32}$/;

const home = (path: string, env?: string, restore: CachedPath['restore'] = 'always'): CachedPath => ({ base: 'home', path, restore, ...(env !== undefined ? { env } : {}) });

/** The files at the root that key a cache: the lockfiles present, else the manifest. */
function keyFilesOf(rootFiles: ReadonlySet<string>, lockfiles: readonly (string | RegExp)[], manifests: readonly string[], always: readonly string[] = []): string[] {
  const names = [...rootFiles].sort();
  const locks = names.filter((n) => lockfiles.some((l) => (typeof l === 'string' ? l === n : l.test(n))));
  const fallback = locks.length > 0 ? [] : manifests.filter((m) => rootFiles.has(m));
  return [...new Set([...always.filter((a) => rootFiles.has(a)), ...locks, ...fallback])];
}

/** What to cache for a package manager, given the files at the repository root. */
export function cacheSpecFor(name: CacheName, rootFiles: ReadonlySet<string>): CacheSpec {
  switch (name) {
    case 'npm':
      // package.json is part of the key: `npm ci` refuses a lockfile that disagrees with it, so an installed
      // tree restored for (package.json, lockfile) is exactly what `npm ci` would have produced.
      return {
        name, keyFiles: keyFilesOf(rootFiles, ['package-lock.json', 'npm-shrinkwrap.json'], [], ['package.json']),
        paths: [home('.npm', 'npm_config_cache', 'fallback'), { base: 'workspace', path: 'node_modules', restore: 'exact' }],
        env: { npm_config_prefer_offline: 'true' },
      };
    case 'pnpm':
      return { name, keyFiles: keyFilesOf(rootFiles, ['pnpm-lock.yaml'], [], ['package.json']), paths: [home('.pnpm-store', 'npm_config_store_dir')], env: { npm_config_prefer_offline: 'true' } };
    case 'yarn':
      return { name, keyFiles: keyFilesOf(rootFiles, ['yarn.lock'], [], ['package.json']), paths: [home('.yarn-cache', 'YARN_CACHE_FOLDER')], env: {} };
    case 'pip':
      return { name, keyFiles: keyFilesOf(rootFiles, [/^requirements.*\.txt$/, 'poetry.lock', 'Pipfile.lock'], ['pyproject.toml', 'setup.py']), paths: [home('.cache/pip', 'PIP_CACHE_DIR')], env: {} };
    case 'go':
      return { name, keyFiles: keyFilesOf(rootFiles, ['go.sum'], ['go.mod']), paths: [home('go/pkg/mod', 'GOMODCACHE'), home('.cache/go-build', 'GOCACHE')], env: {} };
    case 'cargo':
      // CARGO_HOME also holds installed binaries and credentials: only the downloaded registry and git checkouts are kept.
      return { name, keyFiles: keyFilesOf(rootFiles, ['Cargo.lock'], ['Cargo.toml']), paths: [home('.cargo/registry'), home('.cargo/git')], env: {} };
  }
}

/**
 * The key of a cache: the manager, the key files' names and bytes, and the runtime (an installed tree
 * with native modules is only valid for the Node version, OS and CPU it was built on).
 */
export function cacheKey(spec: CacheSpec, files: readonly { name: string; content: Buffer | string }[], runtime: string): string {
  const hash = createHash('sha256').update(`plinth-cache-v1\0${spec.name}\0${runtime}\0`);
  for (const file of files) hash.update(`${file.name}\0${Buffer.byteLength(file.content)}\0`).update(file.content);
  return `${spec.name}-${hash.digest('hex').slice(0, 32)}`;
}

/** "12.3 MB" for log lines. */
export const formatMegabytes = (bytes: number): string => `${(bytes / 1_000_000).toFixed(1)} MB`;
