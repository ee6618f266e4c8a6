import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheSpecFor } from '../model/index.js';
import { evictCaches, openRunCache, sweepCaches, type CacheLocation } from './cache.js';

const spec = cacheSpecFor('npm', new Set(['package.json', 'package-lock.json']));
const now = () => new Date().toISOString();
const temps: string[] = [];
const tempDir = async (prefix: string) => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A run's home and workspace with the given lockfile; `install()` does what npm would leave behind. */
async function newRun(location: CacheLocation, repository: string, lock: string) {
  const dir = await tempDir('plinth-cache-run-');
  const home = join(dir, 'home');
  const workspace = join(dir, 'ws');
  await mkdir(home, { recursive: true });
  await mkdir(workspace, { recursive: true });
  await writeFile(join(workspace, 'package.json'), '{"dependencies":{"dep":"1.0.0"}}');
  await writeFile(join(workspace, 'package-lock.json'), lock);
  const cache = await openRunCache({ location, spec, repository, home, workspace, now });
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  return {
    cache, home, workspace, lines, log,
    async install(payload = 'x'.repeat(1000)) {
      await mkdir(join(home, '.npm', '_cacache'), { recursive: true });
      await writeFile(join(home, '.npm', '_cacache', `blob-${lock}`), payload);
      await mkdir(join(workspace, 'node_modules', 'dep'), { recursive: true });
      await writeFile(join(workspace, 'node_modules', 'dep', 'index.js'), `module.exports = '${lock}';`);
    },
  };
}

const location = async (maxBytes = 1024 ** 3): Promise<CacheLocation> => ({ root: await tempDir('plinth-caches-'), maxBytes });

describe('package-manager caches on disk', () => {
  it('misses, saves, then restores the exact key with node_modules and says so', async () => {
    const loc = await location();
    const cold = await newRun(loc, 'team-a/svc', 'v1');
    await cold.cache.restore(cold.log);
    expect(cold.lines).toEqual([`cache miss (key ${cold.cache.key})`]);
    expect(cold.cache.env()).toMatchObject({ npm_config_cache: join(cold.home, '.npm'), npm_config_prefer_offline: 'true', PLINTH_CACHE_HIT: 'false' });
    await cold.install();
    await cold.cache.save(cold.log);
    expect(cold.lines[1]).toMatch(/^cache saved \(key npm-[0-9a-f]{32}, 0\.0 MB\)$/);
    expect(await readdir(join(loc.root, 'team-a', 'svc'))).toEqual([cold.cache.key]);

    const warm = await newRun(loc, 'team-a/svc', 'v1');
    expect(warm.cache.key).toBe(cold.cache.key);
    await warm.cache.restore(warm.log);
    expect(warm.lines).toEqual([`cache restored (key ${warm.cache.key}, 0.0 MB)`]);
    expect(warm.cache.env().PLINTH_CACHE_HIT).toBe('true');
    expect(await readFile(join(warm.workspace, 'node_modules', 'dep', 'index.js'), 'utf8')).toBe("module.exports = 'v1';");
    // The installed tree makes the download cache unneeded: it stays in the cache, not copied.
    expect(existsSync(join(warm.home, '.npm'))).toBe(false);
    // The exact key was there: nothing to save again.
    await warm.cache.save(warm.log);
    expect(warm.lines).toHaveLength(1);
  });

  it('falls back to the newest cache of the repository for downloads only when the lockfile changed', async () => {
    const loc = await location();
    const first = await newRun(loc, 'team-a/svc', 'v1');
    await first.install();
    await first.cache.save(first.log);
    const changed = await newRun(loc, 'team-a/svc', 'v2');
    expect(changed.cache.key).not.toBe(first.cache.key);
    await changed.cache.restore(changed.log);
    expect(changed.lines[0]).toBe(`cache miss (key ${changed.cache.key}); restored the newest npm cache of this repository instead (key ${first.cache.key}, 0.0 MB: .npm)`);
    expect(existsSync(join(changed.home, '.npm', '_cacache', 'blob-v1'))).toBe(true);
    expect(existsSync(join(changed.workspace, 'node_modules'))).toBe(false);
    expect(changed.cache.env().PLINTH_CACHE_HIT).toBe('false');
    await changed.install();
    await changed.cache.save(changed.log);
    expect((await readdir(join(loc.root, 'team-a', 'svc'))).sort()).toEqual([first.cache.key, changed.cache.key].sort());
  });

  it('never gives one repository the cache of another', async () => {
    const loc = await location();
    const ours = await newRun(loc, 'team-a/svc', 'v1');
    await ours.install();
    await ours.cache.save(ours.log);
    const theirs = await newRun(loc, 'team-b/svc', 'v1');
    await theirs.cache.restore(theirs.log);
    expect(theirs.lines).toEqual([`cache miss (key ${theirs.cache.key})`]);
    expect(existsSync(join(theirs.home, '.npm'))).toBe(false);
  });

  it('keeps one complete cache when two runs save the same key at once', async () => {
    const loc = await location();
    const runs = await Promise.all([1, 2, 3].map(() => newRun(loc, 'team-a/svc', 'v1')));
    for (const r of runs) await r.install();
    await Promise.all(runs.map((r) => r.cache.save(r.log)));
    expect(await readdir(join(loc.root, 'team-a', 'svc'))).toEqual([runs[0]!.cache.key]);
    expect(runs.flatMap((r) => r.lines).filter((l) => l.startsWith('cache saved ('))).toHaveLength(1);
    const next = await newRun(loc, 'team-a/svc', 'v1');
    await next.cache.restore(next.log);
    expect(next.lines[0]).toMatch(/^cache restored/);
  });

  it('evicts the least recently used caches past the size limit', async () => {
    const loc = await location(5000);
    const saved: string[] = [];
    for (const [i, repo] of ['team-a/one', 'team-a/two', 'team-b/three'].entries()) {
      const r = await newRun(loc, repo, 'v1');
      await r.install('y'.repeat(1500));
      await r.cache.save(r.log);
      saved.push(join(loc.root, repo, r.cache.key));
      // Distinct, increasing last-use times.
      await utimes(saved[i]!, new Date(Date.now() - (10 - i) * 60_000), new Date(Date.now() - (10 - i) * 60_000));
    }
    // team-a/one is used again: team-a/two is now the least recently used.
    const reuse = await newRun(loc, 'team-a/one', 'v1');
    await reuse.cache.restore(reuse.log);
    const fourth = await newRun(loc, 'team-b/four', 'v1');
    await fourth.install('z'.repeat(1500));
    await fourth.cache.save(fourth.log);
    expect(fourth.lines.at(-1)).toMatch(/^evicted 1 least recently used cache/);
    expect(existsSync(saved[1]!)).toBe(false);
    expect(existsSync(saved[0]!)).toBe(true);
    expect(await evictCaches(loc)).toEqual([]);
  });

  it('keys by regular files only: a lockfile symlinked out of the workspace counts as empty', async () => {
    const loc = await location();
    const outside = join(await tempDir('plinth-cache-outside-'), 'secret');
    await writeFile(outside, 'not the repository’s');
    const linked = await newRun(loc, 'team-a/svc', 'v1');
    await rm(join(linked.workspace, 'package-lock.json'));
    await symlink(outside, join(linked.workspace, 'package-lock.json'));
    const empty = await newRun(loc, 'team-a/svc', '');
    const reopened = await openRunCache({ location: loc, spec, repository: 'team-a/svc', home: linked.home, workspace: linked.workspace, now });
    expect(reopened.key).toBe(empty.cache.key);
  });

  it('does not save a cache larger than the limit, and sweeps what a crashed save left', async () => {
    const loc = await location(100);
    const r = await newRun(loc, 'team-a/svc', 'v1');
    await r.install();
    await r.cache.save(r.log);
    expect(r.lines.at(-1)).toMatch(/^cache not saved: 0\.0 MB is more than all caches may take/);
    const leftover = join(loc.root, 'team-a', 'svc', '.tmp-crashed');
    await mkdir(join(leftover, 'home'), { recursive: true });
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(leftover, old, old);
    await sweepCaches(loc.root);
    expect(existsSync(leftover)).toBe(false);
  });
});
