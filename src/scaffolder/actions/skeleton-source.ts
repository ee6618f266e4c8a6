import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentsLocationOf, type Git } from '../../git/index.js';
import { InputError, PayloadTooLargeError } from '../../kernel/index.js';
import { resolveInside, writeInside } from '../workspace.js';
import type { ActionContext } from './registry.js';

/** What the fetch actions read of the hosted git. */
export type SkeletonGit = Pick<Git, 'readTree' | 'readFile'>;

// A skeleton copied from the hosted git is bounded like any input (STYLE §4).
const MAX_FILES = 5000;
const MAX_BYTES = 100 * 1024 * 1024;

/** A skeleton as a local path, and how to let go of it (a copy from the hosted git is removed). */
export interface SkeletonSource {
  path: string;
  close(): Promise<void>;
}

type Location = { owner: string; name: string; ref: string; path: string };

/** True when an absolute URL points at this server (the same check the catalog makes for its url locations). */
function isOwnUrl(url: URL, serverUrl: string | undefined): boolean {
  if (serverUrl === undefined) return false;
  const own = new URL(serverUrl);
  return url.protocol === own.protocol && url.port === own.port && ['127.0.0.1', 'localhost', '[::1]', own.hostname].includes(url.hostname);
}

/**
 * Where a step's `url` points on the hosted git: an absolute `…/api/git/repos/<owner>/<name>/contents/<ref>/<path>`
 * URL of this server, or a path relative to a template registered from such a URL. Undefined for a
 * path next to a template file.
 */
function hostedLocation(ctx: ActionContext<unknown>, url: string, field: string): Location | undefined {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
  if (!absolute && ctx.templateInfo.baseDir !== undefined) return undefined;
  const base = ctx.templateInfo.baseUrl;
  if (!absolute && base === undefined) throw new InputError(`${field}: template ${ctx.templateInfo.entityRef} has no location to resolve "${url}" against`);
  let target: URL;
  try {
    target = new URL(url, base);
  } catch {
    throw new InputError(`${field}: "${url}" is not a URL or a relative path`);
  }
  const location = isOwnUrl(target, ctx.serverUrl()) ? contentsLocationOf(target.pathname.replace(/\/+$/, '')) : undefined;
  if (location === undefined) {
    throw new InputError(
      `${field}: "${target.toString()}" is not on Plinth's hosted git; skeletons are read next to the template's file (./skeleton) or from <server>/api/git/repos/<owner>/<name>/contents/<ref>/<path>`,
    );
  }
  return location;
}

/** Copies a folder of the hosted git at one commit into `dest`, executable bits kept; symlinks and submodules are left out. */
async function copyFolder(git: SkeletonGit, ctx: ActionContext<unknown>, at: Location, dest: string, field: string): Promise<number> {
  const top = await git.readTree(ctx.principal, at);
  // Every later read names the commit the first one resolved, so the copy is one consistent snapshot.
  const pinned = { owner: at.owner, name: at.name, ref: top.commit };
  let files = 0;
  let bytes = 0;
  const pending = [top.entries];
  while (pending.length > 0) {
    for (const entry of pending.pop()!) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      if (entry.type === 'tree') {
        pending.push((await git.readTree(ctx.principal, { ...pinned, path: entry.path })).entries);
        continue;
      }
      if (entry.type !== 'blob' || entry.mode === '120000') continue;
      if (++files > MAX_FILES) throw new PayloadTooLargeError(`${field}: the skeleton has more than ${MAX_FILES} files`);
      const file = await git.readFile(ctx.principal, { ...pinned, path: entry.path }, { maxBytes: MAX_BYTES - bytes });
      bytes += file.size;
      const relative = top.path === '' ? entry.path : entry.path.slice(top.path.length + 1);
      const written = await writeInside(dest, relative, file.content, field);
      if (entry.mode === '100755') await chmod(written, 0o755);
    }
  }
  return files;
}

/**
 * The skeleton folder (or, with `kind: 'file'`, the file) a fetch step names: next to the template's
 * file and confined to its folder, or on the hosted git (read as the task's user), copied to a
 * temporary folder that `close()` removes.
 */
export async function openSkeleton(git: SkeletonGit, ctx: ActionContext<unknown>, url: string, field: string, kind: 'folder' | 'file' = 'folder'): Promise<SkeletonSource> {
  const hosted = hostedLocation(ctx, url, field);
  if (hosted === undefined) return { path: await resolveInside(ctx.templateInfo.baseDir!, url, field), close: async () => undefined };
  const dest = await mkdtemp(join(tmpdir(), 'plinth-skeleton-'));
  const close = () => rm(dest, { recursive: true, force: true });
  try {
    if (kind === 'file') {
      const file = await git.readFile(ctx.principal, hosted, { maxBytes: MAX_BYTES });
      const name = hosted.path.split('/').pop()!;
      return { path: await writeInside(dest, name, file.content, field), close };
    }
    const files = await copyFolder(git, ctx, hosted, dest, field);
    ctx.log(`read ${files} files from ${hosted.owner}/${hosted.name} at ${hosted.ref}:${hosted.path}`);
    return { path: dest, close };
  } catch (err) {
    await close();
    throw err;
  }
}
