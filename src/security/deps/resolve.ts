import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { InputError } from '../../kernel/index.js';
import type { DependencyTree } from '../model.js';
import { parseGoMod, parseGoSum } from './go.js';
import { parseNpmLockfile } from './npm.js';
import { parsePipfileLock, parsePoetryLock, parseRequirements } from './python.js';

/** Lockfile names this audit reads, in preference order within one folder (a shrinkwrap wins over a package-lock, go.mod over go.sum). */
const parsers: [string, (text: string, file: string) => DependencyTree][] = [
  ['npm-shrinkwrap.json', parseNpmLockfile],
  ['package-lock.json', parseNpmLockfile],
  ['poetry.lock', parsePoetryLock],
  ['Pipfile.lock', parsePipfileLock],
  ['requirements.txt', parseRequirements],
  ['go.mod', parseGoMod],
  ['go.sum', parseGoSum],
];
const supersedes: Record<string, string> = { 'package-lock.json': 'npm-shrinkwrap.json', 'go.sum': 'go.mod' };

/** Folders never searched: installed copies and VCS internals are not what the project declares. */
const skippedDirs = new Set(['node_modules', '.git', 'vendor', '.venv', 'venv', '__pycache__', 'dist', 'build', '.plinth']);
export const MAX_DEPTH = 8;
export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;
const MAX_LOCKFILES = 200;

export interface LockfileError {
  file: string;
  message: string;
}
export interface ResolvedProject {
  trees: DependencyTree[];
  /** Lockfiles that could not be read or parsed, each with what is wrong; the others are still audited. */
  errors: LockfileError[];
}

/** Parses one lockfile by its file name; throws InputError naming `file` when it is malformed. */
export function parseLockfile(text: string, file: string): DependencyTree {
  const parser = parsers.find(([name]) => name === basename(file))?.[1];
  if (parser === undefined) throw new InputError(`${file}: not a supported lockfile; expected one of ${parsers.map(([n]) => n).join(', ')}`);
  return parser(text, file);
}

export const isLockfileName = (name: string): boolean => parsers.some(([n]) => n === name);

/** Lockfiles under `root` (or `root` itself when it is a file), depth-limited, symlinks not followed. */
export async function findLockfiles(root: string): Promise<string[]> {
  const info = await lstat(root);
  if (info.isFile()) return [root];
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || found.length >= MAX_LOCKFILES) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
    for (const [name] of parsers) {
      if (names.has(name) && !(supersedes[name] !== undefined && names.has(supersedes[name]))) found.push(join(dir, name));
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && !skippedDirs.has(e.name)) await walk(join(dir, e.name), depth + 1);
    }
  };
  await walk(root, 0);
  return found;
}

/** Finds and parses every lockfile of a project folder; file names in results are relative to `root`. */
export async function resolveProject(root: string): Promise<ResolvedProject> {
  const info = await lstat(root);
  const base = info.isFile() ? join(root, '..') : root;
  const trees: DependencyTree[] = [];
  const errors: LockfileError[] = [];
  for (const path of await findLockfiles(root)) {
    const file = relative(base, path).split(sep).join('/');
    try {
      const size = (await lstat(path)).size;
      if (size > MAX_LOCKFILE_BYTES) {
        errors.push({ file, message: `${file}: ${size} bytes is over the ${MAX_LOCKFILE_BYTES}-byte limit for a lockfile; skipped` });
        continue;
      }
      trees.push(parseLockfile(await readFile(path, 'utf8'), file));
    } catch (err) {
      errors.push({ file, message: (err as Error).message });
    }
  }
  return { trees, errors };
}

/**
 * Dependency paths from the root to a package key, shortest first (`app > express > qs`), at most `limit`.
 * Breadth-first over reversed edges, bounded so a dense graph cannot make it explode. The reversed
 * graph is built once per tree; call the returned function per package.
 */
export function pathFinder(tree: DependencyTree, limit = 5): (key: string) => string[] {
  const parents = new Map<string, string[]>();
  const names = new Map(tree.packages.map((p) => [p.key, p.name]));
  for (const p of tree.packages) {
    for (const d of p.dependencies) {
      const list = parents.get(d);
      if (list) list.push(p.key);
      else parents.set(d, [p.key]);
    }
  }
  const direct = new Set(tree.root.dependencies);
  const cache = new Map<string, string[]>();
  return (key) => {
    const cached = cache.get(key);
    if (cached) return cached;
    const out: string[] = [];
    const queue: string[][] = [[key]];
    for (let head = 0; head < queue.length && out.length < limit && head < 20_000; head++) {
      const path = queue[head]!;
      const first = path[0]!;
      if (direct.has(first)) out.push([tree.root.name, ...path.map((k) => names.get(k) ?? k)].join(' > '));
      for (const parent of parents.get(first) ?? []) if (!path.includes(parent)) queue.push([parent, ...path]);
    }
    cache.set(key, out);
    return out;
  };
}

/** Dependency paths from the root to one package key (see `pathFinder` for many). */
export const dependencyPaths = (tree: DependencyTree, key: string, limit = 5): string[] => pathFinder(tree, limit)(key);
