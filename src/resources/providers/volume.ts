/**
 * Volume provider (Score `volume`): a directory under the data directory's `volumes/<environment>/<name>`
 * that the local runtime mounts into a workload's replicas (and a cluster would get as the
 * PersistentVolumeClaim of the claim's name). Backups are gzipped tarballs; the size is what the
 * claim is billed for — a directory has no quota of its own, so it is the budget, not a hard limit.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Provider, ProvisionContext } from './provider.js';

const run = promisify(execFile);

export function createVolumeProvider(root: string): Provider {
  /** `names.volumeDir` is `volumes/<environment>/<name>`; the root is the data directory's `volumes`. */
  const dirOf = (ctx: ProvisionContext) => join(dirname(root), ctx.names.volumeDir);
  return {
    name: 'volume',
    unavailable: async () => undefined,
    steps: [{ name: 'directory', run: async (ctx) => void (await mkdir(dirOf(ctx), { recursive: true, mode: 0o750 })) }],
    async outputs(ctx) {
      return { name: ctx.claim.name, path: dirOf(ctx), sizeGi: String(ctx.claim.inputs.sizeGi ?? '') };
    },
    async observe(ctx) {
      const found = await stat(dirOf(ctx)).catch(() => undefined);
      if (!found) return [`volume directory ${dirOf(ctx)} is gone`];
      return found.isDirectory() ? [] : [`${dirOf(ctx)} is not a directory`];
    },
    async backup(ctx, file) {
      if (!(await stat(dirOf(ctx)).catch(() => undefined))) return undefined;
      await mkdir(dirname(file), { recursive: true });
      const archive = `${file}.tar.gz`;
      await run('tar', ['-czf', archive, '-C', dirOf(ctx), '.']);
      return { path: archive, bytes: (await stat(archive)).size };
    },
    async restore(ctx, file) {
      const dir = dirOf(ctx);
      // Replaces what the volume holds: its entries go, the directory (and any mount of it) stays.
      await mkdir(dir, { recursive: true, mode: 0o750 });
      for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
      await run('tar', ['-xzf', file, '-C', dir, '--no-same-owner']);
    },
    async inventory() {
      const found: { kind: string; name: string }[] = [];
      for (const environment of await readdir(root).catch(() => [])) {
        for (const name of await readdir(join(root, environment)).catch(() => [])) found.push({ kind: 'volume', name: `volumes/${environment}/${name}` });
      }
      return found;
    },
    destroy: async (ctx) => rm(dirOf(ctx), { recursive: true, force: true }),
    close: async () => undefined,
  };
}
