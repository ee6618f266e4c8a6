import { lstat, mkdir, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { InputError } from '../kernel/index.js';

// Every path an action writes or deletes is confined to the task's workspace: a template, a skeleton or
// a parameter could otherwise name ../../etc or a symlink that points out (issue #4, "Bad input").

function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

/** The nearest existing ancestor of a path (the path itself when it exists). */
async function nearestExisting(path: string): Promise<string> {
  let current = path;
  for (;;) {
    try {
      await lstat(current);
      return current;
    } catch {
      const parent = resolve(current, '..');
      if (parent === current) return current;
      current = parent;
    }
  }
}

/**
 * The absolute path of `relPath` inside `root`, refusing absolute paths, `..` that leaves the root and
 * existing symlinks on the way that lead outside. `field` names the input for the error message.
 */
export async function resolveInside(root: string, relPath: string, field: string): Promise<string> {
  if (relPath.includes('\0')) throw new InputError(`${field}: a path must not contain NUL characters`);
  if (isAbsolute(relPath) || /^[A-Za-z]:[\\/]/.test(relPath)) throw new InputError(`${field}: "${relPath}" is an absolute path; use a path relative to the workspace`);
  const target = resolve(root, normalize(relPath));
  if (!isInside(root, target)) throw new InputError(`${field}: "${relPath}" leaves the workspace`);
  const realRoot = await realpath(root);
  const existing = await nearestExisting(target);
  const realExisting = await realpath(existing).catch(() => existing);
  if (!isInside(realRoot, realExisting)) throw new InputError(`${field}: "${relPath}" goes through a symlink that leads out of the workspace`);
  // A symlink as the final component would be followed by a write: refuse it wherever it points.
  if (existing === target && (await lstat(target)).isSymbolicLink()) throw new InputError(`${field}: "${relPath}" is a symlink; actions do not write through symlinks`);
  return target;
}

/** Writes a file inside the workspace, creating folders; the path is confined as resolveInside. */
export async function writeInside(root: string, relPath: string, content: Buffer | string, field: string): Promise<string> {
  const target = await resolveInside(root, relPath, field);
  await mkdir(resolve(target, '..'), { recursive: true });
  // Re-check after mkdir: a folder created above cannot be a symlink, but an existing one was checked already.
  await resolveInside(root, relPath, field);
  await writeFile(target, content);
  return target;
}

export interface WorkspaceFile {
  /** Path relative to the root, with "/" separators. */
  path: string;
  executable: boolean;
  content: Buffer;
}

/** Every regular file under a folder (symlinks and .git are skipped), sorted by path. */
export async function listFiles(root: string, options: { withContent: boolean } = { withContent: true }): Promise<WorkspaceFile[]> {
  const out: WorkspaceFile[] = [];
  async function walk(dir: string) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const stat = await lstat(full);
        out.push({ path: relative(root, full).split(sep).join('/'), executable: (stat.mode & 0o111) !== 0, content: options.withContent ? await readFile(full) : Buffer.alloc(0) });
      }
    }
  }
  await walk(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** True when a buffer looks binary (a NUL byte in its first 8 KiB, as git decides). */
export function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8192).includes(0);
}
