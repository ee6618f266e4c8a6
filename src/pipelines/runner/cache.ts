import { spawnOffThread } from '../../kernel/index.js';
import { cp, lstat, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from '../../kernel/index.js';
import { CACHE_HIT_ENV, cacheKey, cacheKeyPattern, formatMegabytes, type CachedPath, type CacheSpec } from '../model/index.js';

// Package-manager caches on the runner's disk: <root>/<owner>/<repository>/<key>/{meta.json,home/…,workspace/…}.
// - Per repository: a run only ever reads its own repository's caches, so one team cannot poison another's.
// - Atomic: a cache is written under `.tmp-<id>` and renamed to its key; a directory named by a key is
//   complete, and a crashed save leaves only a `.tmp-` directory that `sweepCaches` removes.
// - Eviction moves a cache to `.trash-<id>` (one rename) before deleting it, so a reader sees it whole or not at all.
// - LRU: a cache directory's mtime is its last use (set on save and on every restore).

interface CacheMeta {
  key: string;
  createdAt: string;
  sizeBytes: number;
  /** Bytes per cached path (`home/.npm`), to report what a fallback restore brought back. */
  paths: Record<string, number>;
}

export interface CacheLocation {
  /** `<data-dir>/pipelines/caches` */
  root: string;
  /** Total bytes all caches may take; the least recently used go first. */
  maxBytes: number;
}

const runtimeTag = `${process.platform}-${process.arch}-node${process.version}`;
const rel = (p: CachedPath) => `${p.base}/${p.path}`;

/** Bytes in a directory tree (symlinks count as themselves, never followed). */
export async function treeBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await treeBytes(join(path, entry));
  return total;
}

/** `cp -a` (fast, keeps modes and symlinks as symlinks); Node's own copy where there is no cp. */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(join(to, '..'), { recursive: true });
  const code = await new Promise<number | 'missing'>((resolve) => {
    const child = spawnOffThread('cp', ['-a', '--', from, to], { output: 'ignore' });
    child.on('error', () => resolve('missing'));
    child.on('close', (c: number | null) => resolve(c ?? 1));
  });
  if (code === 'missing') await cp(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  else if (code !== 0) throw new Error(`copying ${from} failed (cp exited with ${code})`);
}

async function readMeta(dir: string): Promise<CacheMeta | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as CacheMeta;
    return typeof meta.sizeBytes === 'number' && typeof meta.key === 'string' ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** Complete caches in a repository's folder, newest first. */
async function cachesIn(scope: string): Promise<{ dir: string; meta: CacheMeta; usedMs: number }[]> {
  const names = await readdir(scope).catch(() => [] as string[]);
  const found = await Promise.all(names.filter((n) => cacheKeyPattern.test(n)).map(async (name) => {
    const dir = join(scope, name);
    const [meta, info] = await Promise.all([readMeta(dir), stat(dir).catch(() => undefined)]);
    return meta && info ? { dir, meta, usedMs: info.mtimeMs } : undefined;
  }));
  return found.filter((f) => f !== undefined).sort((a, b) => b.meta.createdAt.localeCompare(a.meta.createdAt));
}

export interface RunCache {
  key: string;
  /** Env for every step: the tools' cache directories, offline preferences and PLINTH_CACHE_HIT. */
  env(): Record<string, string>;
  /** Restores the exact key, else the newest cache of this repository and manager (download caches only). */
  restore(log: (line: string) => void): Promise<void>;
  /** After a passed install: keeps what it produced under the key, unless the key was restored already. */
  save(log: (line: string) => void): Promise<void>;
}

/** The cache of one run: key from the workspace's lockfiles, scope from the repository (`owner/name`). */
export async function openRunCache(input: { location: CacheLocation; spec: CacheSpec; repository: string; home: string; workspace: string; now: () => string }): Promise<RunCache> {
  const { spec, location } = input;
  // Only regular files: a lockfile committed as a symlink must not make the key (shown in logs) depend on a file outside the workspace.
  const readKeyFile = async (name: string) => ((await lstat(join(input.workspace, name)).catch(() => undefined))?.isFile() ? readFile(join(input.workspace, name)) : '');
  const files = await Promise.all(spec.keyFiles.map(async (name) => ({ name, content: await readKeyFile(name).catch(() => '') })));
  const key = cacheKey(spec, files, runtimeTag);
  const [owner, name] = input.repository.split('/') as [string, string];
  const scope = join(location.root, owner, name);
  const abs = (p: CachedPath) => join(p.base === 'home' ? input.home : input.workspace, p.path);
  let hit = false;

  /** Copies `paths` out of a cache; the ones it started to write are in `written` (to undo a failed restore). */
  async function restorePaths(dir: string, paths: readonly CachedPath[], written: CachedPath[]): Promise<void> {
    for (const p of paths) {
      const from = join(dir, rel(p));
      // Never over what the repository itself holds (a committed node_modules, say).
      if (!(await lstat(from).catch(() => undefined)) || (await lstat(abs(p)).catch(() => undefined))) continue;
      written.push(p);
      await copyTree(from, abs(p));
    }
  }

  return {
    key,
    env: () => ({ ...Object.fromEntries(spec.paths.filter((p) => p.env !== undefined).map((p) => [p.env!, abs(p)])), ...spec.env, [CACHE_HIT_ENV]: String(hit) }),

    async restore(log) {
      const all = await cachesIn(scope);
      const exact = all.find((c) => c.meta.key === key);
      const chosen = exact ?? all.find((c) => c.meta.key.startsWith(`${spec.name}-`));
      if (!chosen) {
        log(`cache miss (key ${key})`);
        return;
      }
      const paths = spec.paths.filter((p) => p.restore === 'always' || p.restore === (exact ? 'exact' : 'fallback'));
      const written: CachedPath[] = [];
      try {
        await restorePaths(chosen.dir, paths, written);
        // It may have been evicted while we copied: then what we copied is incomplete; start clean.
        if (!(await readMeta(chosen.dir))) throw new Error('it was evicted while being restored');
      } catch (err) {
        await Promise.all(written.map((p) => rm(abs(p), { recursive: true, force: true })));
        log(`cache miss (key ${key}; restoring ${chosen.meta.key} failed: ${(err as Error).message})`);
        return;
      }
      const now = new Date();
      await utimes(chosen.dir, now, now).catch(() => undefined);
      const bytes = paths.reduce((n, p) => n + (chosen.meta.paths[rel(p)] ?? 0), 0);
      if (exact) {
        hit = true;
        log(`cache restored (key ${key}, ${formatMegabytes(bytes)})`);
      } else {
        log(`cache miss (key ${key}); restored the newest ${spec.name} cache of this repository instead (key ${chosen.meta.key}, ${formatMegabytes(bytes)}: ${paths.map((p) => p.path).join(', ')})`);
      }
    },

    async save(log) {
      if (hit) return;
      const tmp = join(scope, `.tmp-${newId()}`);
      try {
        const sizes: Record<string, number> = {};
        for (const p of spec.paths) {
          if (!(await lstat(abs(p)).catch(() => undefined))) continue;
          await copyTree(abs(p), join(tmp, rel(p)));
          sizes[rel(p)] = await treeBytes(join(tmp, rel(p)));
        }
        const sizeBytes = Object.values(sizes).reduce((a, b) => a + b, 0);
        if (Object.keys(sizes).length === 0) {
          log(`cache not saved: the install left none of ${spec.paths.map((p) => p.path).join(', ')}`);
          return;
        }
        if (sizeBytes > location.maxBytes) {
          log(`cache not saved: ${formatMegabytes(sizeBytes)} is more than all caches may take (${formatMegabytes(location.maxBytes)})`);
          return;
        }
        const meta: CacheMeta = { key, createdAt: input.now(), sizeBytes, paths: sizes };
        await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta));
        try {
          await rename(tmp, join(scope, key));
        } catch (err) {
          // Another run of this repository saved the same key first: theirs is as good as ours.
          if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') {
            log(`cache saved by another run already (key ${key})`);
            return;
          }
          throw err;
        }
        log(`cache saved (key ${key}, ${formatMegabytes(sizeBytes)})`);
        const evicted = await evictCaches(location, join(scope, key));
        if (evicted.length > 0) log(`evicted ${evicted.length} least recently used cache(s) to stay under ${formatMegabytes(location.maxBytes)}`);
      } catch (err) {
        log(`cache not saved: ${(err as Error).message}`);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => join(dir, e.name));
}

/** Removes the least recently used caches until all fit in `maxBytes`; never `keep`. Returns the removed directories. */
export async function evictCaches(location: CacheLocation, keep?: string): Promise<string[]> {
  const all: { dir: string; sizeBytes: number; usedMs: number }[] = [];
  for (const owner of await subdirs(location.root)) {
    for (const repo of await subdirs(owner)) {
      for (const c of await cachesIn(repo)) all.push({ dir: c.dir, sizeBytes: c.meta.sizeBytes, usedMs: c.usedMs });
    }
  }
  let total = all.reduce((n, c) => n + c.sizeBytes, 0);
  const removed: string[] = [];
  for (const c of all.sort((a, b) => a.usedMs - b.usedMs)) {
    if (total <= location.maxBytes) break;
    if (c.dir === keep) continue;
    const trash = join(location.root, `.trash-${newId()}`);
    try {
      await rename(c.dir, trash);
    } catch {
      continue; // another runner evicted it first
    }
    total -= c.sizeBytes;
    removed.push(c.dir);
    await rm(trash, { recursive: true, force: true });
  }
  return removed;
}

/** At start: removes what a crash left behind (unfinished saves, unfinished evictions) older than `olderThanMs`. */
export async function sweepCaches(root: string, olderThanMs = 3_600_000): Promise<void> {
  await mkdir(root, { recursive: true });
  const candidates = [root, ...(await Promise.all((await subdirs(root)).map(subdirs))).flat()];
  for (const dir of candidates) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith('.tmp-') && !name.startsWith('.trash-')) continue;
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > olderThanMs) await rm(join(dir, name), { recursive: true, force: true });
    }
  }
}
