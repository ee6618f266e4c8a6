import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../kernel/index.js';
import { parseOsvText, type OsvAdvisory } from './osv.js';

/** Largest advisory file read; OSV records are a few KB, an ecosystem's all-in-one array a few hundred MB at most. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;
const MAX_DEPTH = 6;

/**
 * OSV advisories from files and folders: each `.json` file holds one record or an array of records
 * (what osv.dev's per-ecosystem `all.zip` unpacks to, or a JSON export). Folders are read recursively;
 * other files are ignored; symlinks are not followed. Zip bundles are not read: unzip them first.
 */
export async function loadOsvPaths(paths: readonly string[]): Promise<{ advisories: OsvAdvisory[]; files: number }> {
  const advisories: OsvAdvisory[] = [];
  let files = 0;
  const readOne = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) throw new InputError(`${path}: no such file or directory`);
    if (info.size > MAX_FILE_BYTES) throw new InputError(`${path}: ${info.size} bytes is over the ${MAX_FILE_BYTES}-byte limit`);
    if (path.endsWith('.zip')) throw new InputError(`${path}: zip bundles are not read; unzip it and import the folder`);
    advisories.push(...parseOsvText(await readFile(path, 'utf8'), path));
    files++;
  };
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.')) await walk(join(dir, e.name), depth + 1);
      else if (e.isFile() && e.name.endsWith('.json')) await readOne(join(dir, e.name));
    }
  };
  for (const path of paths) {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) throw new InputError(`${path}: no such file or directory`);
    if (info.isDirectory()) await walk(path, 0);
    else await readOne(path);
  }
  return { advisories, files };
}
