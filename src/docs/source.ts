import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { InputError, NotFoundError } from '../kernel/index.js';
import { comparePagePaths, defaultDocsLimits, parseMkdocsConfig, resolveDocPath, type DocsLimits, type MkdocsConfig } from './model.js';

/** Bump when the renderer's output changes, so cached sites built by an older renderer are rebuilt. */
const renderVersion = 'plinth-docs/1';
const configNames = ['mkdocs.yml', 'mkdocs.yaml'];
/** Folder entries (assets included) one site may list: keeps a docs dir holding a huge tree from stalling a build. */
const entriesPerMarkdownFile = 20;

/** What a site is built from: every byte the renderer reads, read once, and their hash. */
export interface DocsSource {
  siteName: string;
  nav?: unknown[];
  /** The docs dir relative to the root, '' for the root itself. */
  docsDir: string;
  /** Markdown files by path in the docs dir, sorted. */
  pages: { path: string; text: string }[];
  /** Other files of the docs dir (images, downloads), sorted; their names are hashed, not their bytes. */
  assets: string[];
  sourceHash: string;
  warnings: string[];
}

interface Walk {
  rootReal: string;
  docsDir: string;
  limits: DocsLimits;
  markdown: { path: string; real: string }[];
  assets: string[];
  visited: Set<string>;
  entries: number;
  warnings: string[];
}

/**
 * Reads `<rootDir>/mkdocs.yml` (or .yaml) and the Markdown files of its docs_dir. Without mkdocs.yml, a
 * `docs/` folder is rendered with default settings (site name = the root folder's name) and a warning;
 * with neither → NotFoundError. Nothing outside rootDir is read: docs_dir and nav paths that climb out and
 * symlinks resolving outside (fs.realpath) are skipped with a warning. Over a limit → InputError.
 */
export async function readDocsSource(rootDir: string, limits: DocsLimits): Promise<DocsSource> {
  const rootName = basename(resolve(rootDir));
  const rootReal = await realRoot(rootDir, rootName);
  const warnings: string[] = [];
  const { fileName, bytes, config } = await readConfig(rootReal, rootName, limits, warnings);
  const hash = createHash('sha256').update(`${renderVersion}\nconfig ${fileName ?? '-'}\n`).update(bytes ?? '');
  const site = { siteName: config.siteName ?? rootName, ...(config.nav ? { nav: config.nav } : {}), warnings };
  const docsReal = await docsDirReal(rootReal, config.docsDir, warnings);
  if (docsReal === undefined) return { ...site, docsDir: config.docsDir, pages: [], assets: [], sourceHash: hash.digest('hex') };

  const docsDir = resolveDocPath('', config.docsDir) ?? '';
  const walk: Walk = { rootReal, docsDir, limits, markdown: [], assets: [], visited: new Set([docsReal]), entries: 0, warnings };
  await walkDir(walk, docsReal, '');
  const pages = await readMarkdown(walk, bytes?.length ?? 0);
  hash.update(`\ndocs_dir ${docsDir}\n`);
  for (const page of pages) hash.update(`page ${page.path} ${page.sha256}\n`);
  for (const asset of walk.assets) hash.update(`asset ${asset}\n`);
  return { ...site, docsDir, pages: pages.map(({ path, text }) => ({ path, text })), assets: walk.assets, sourceHash: hash.digest('hex') };
}

/**
 * The file on disk for `assetPath` (a path in the docs dir, as in `{{DOCS_ASSET_BASE}}/<path>`), for the route
 * layer to serve. NotFoundError unless it is a regular file inside the docs dir whose real path stays inside
 * rootDir; hidden files (any segment starting with '.') are never served.
 */
export async function resolveDocsAsset(rootDir: string, assetPath: string): Promise<string> {
  const rootName = basename(resolve(rootDir));
  const rootReal = await realRoot(rootDir, rootName);
  const { config } = await readConfig(rootReal, rootName, defaultDocsLimits, []);
  const notFound = new NotFoundError(`no file "${assetPath}" in the docs of ${rootName}`);
  const docsDir = resolveDocPath('', config.docsDir);
  const path = resolveDocPath('', assetPath);
  if (docsDir === undefined || !path || hasHiddenSegment(path)) throw notFound;
  const real = await realpath(join(rootReal, docsDir, path)).catch(() => undefined);
  if (real === undefined || !isInside(rootReal, real) || hasHiddenSegment(relative(rootReal, real).split(sep).join('/'))) throw notFound;
  if (!(await stat(real)).isFile()) throw notFound;
  return real;
}

async function realRoot(rootDir: string, rootName: string): Promise<string> {
  const real = await realpath(rootDir).catch(() => undefined);
  if (real === undefined || !(await stat(real)).isDirectory()) throw new NotFoundError(`docs folder "${rootName}" does not exist`);
  return real;
}

async function readConfig(rootReal: string, rootName: string, limits: DocsLimits, warnings: string[]): Promise<{ fileName?: string; bytes?: Buffer; config: MkdocsConfig }> {
  for (const fileName of configNames) {
    const real = await realpath(join(rootReal, fileName)).catch(() => undefined);
    if (real === undefined) continue;
    if (!isInside(rootReal, real)) {
      warnings.push(`${fileName} resolves outside the docs root; ignored`);
      continue;
    }
    const info = await stat(real);
    if (!info.isFile()) continue;
    const size = info.size;
    if (size > limits.maxFileBytes) throw new InputError(`${fileName} is ${size} bytes; the limit is ${limits.maxFileBytes}`);
    const bytes = await readFile(real);
    return { fileName, bytes, config: parseMkdocsConfig(bytes.toString('utf8'), fileName) };
  }
  const docs = await realpath(join(rootReal, 'docs')).catch(() => undefined);
  if (docs !== undefined && isInside(rootReal, docs) && (await stat(docs)).isDirectory()) {
    warnings.push(`no mkdocs.yml in ${rootName}; rendered docs/ with default settings`);
    return { config: { docsDir: 'docs' } };
  }
  throw new NotFoundError(`no mkdocs.yml in ${rootName}`);
}

async function docsDirReal(rootReal: string, docsDir: string, warnings: string[]): Promise<string | undefined> {
  const rel = resolveDocPath('', docsDir);
  if (rel === undefined) {
    warnings.push(`docs_dir "${docsDir}" is outside the docs root; no pages rendered`);
    return undefined;
  }
  const real = await realpath(join(rootReal, rel)).catch(() => undefined);
  if (real === undefined || !(await stat(real)).isDirectory()) {
    warnings.push(`docs_dir "${docsDir}" is not a folder; no pages rendered`);
    return undefined;
  }
  if (!isInside(rootReal, real)) {
    warnings.push(`docs_dir "${docsDir}" resolves outside the docs root; no pages rendered`);
    return undefined;
  }
  return real;
}

/** Lists the docs dir depth-first in name order; dot files are skipped (as MkDocs does), symlinks followed only inside the root. */
async function walkDir(walk: Walk, dirReal: string, relDir: string): Promise<void> {
  const entries = (await readdir(dirReal, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const maxEntries = walk.limits.maxFiles * entriesPerMarkdownFile;
    if (++walk.entries > maxEntries) {
      throw new InputError(`${shown(walk, '')} has more than ${maxEntries} files and folders; the limit is ${entriesPerMarkdownFile} per allowed Markdown file`);
    }
    const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
    const found = await followEntry(walk, dirReal, entry, rel);
    if (!found) continue;
    if (found.kind === 'dir') {
      if (walk.visited.has(found.real)) continue; // a symlink cycle, or a folder already listed
      walk.visited.add(found.real);
      await walkDir(walk, found.real, rel);
    } else if (/\.md$/i.test(entry.name)) {
      walk.markdown.push({ path: rel, real: found.real });
      if (walk.markdown.length > walk.limits.maxFiles) {
        throw new InputError(`${shown(walk, '')} has more than ${walk.limits.maxFiles} Markdown files; the limit is ${walk.limits.maxFiles}`);
      }
    } else {
      walk.assets.push(rel);
    }
  }
}

async function followEntry(walk: Walk, dirReal: string, entry: Dirent, rel: string): Promise<{ kind: 'dir' | 'file'; real: string } | undefined> {
  const path = join(dirReal, entry.name);
  if (!entry.isSymbolicLink()) {
    if (entry.isDirectory()) return { kind: 'dir', real: path };
    return entry.isFile() ? { kind: 'file', real: path } : undefined;
  }
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) {
    walk.warnings.push(`${shown(walk, rel)}: broken symlink; skipped`);
    return undefined;
  }
  if (!isInside(walk.rootReal, real)) {
    walk.warnings.push(`${shown(walk, rel)}: symlink resolves outside the docs root; skipped`);
    return undefined;
  }
  const info = await stat(real);
  if (info.isDirectory()) return { kind: 'dir', real };
  return info.isFile() ? { kind: 'file', real } : undefined;
}

async function readMarkdown(walk: Walk, configBytes: number): Promise<{ path: string; text: string; sha256: string }[]> {
  const { maxFileBytes, maxTotalBytes } = walk.limits;
  let total = configBytes;
  const tooBig = (path: string, size: number) => new InputError(`${shown(walk, path)} is ${size} bytes; the limit is ${maxFileBytes} per file`);
  const overTotal = () => new InputError(`${shown(walk, '')} holds more than ${maxTotalBytes} bytes of Markdown; the limit is ${maxTotalBytes}`);
  // Sizes first, so an oversized site fails before anything is read.
  for (const file of walk.markdown) {
    const size = (await stat(file.real)).size;
    if (size > maxFileBytes) throw tooBig(file.path, size);
    total += size;
    if (total > maxTotalBytes) throw overTotal();
  }
  let read = configBytes;
  const pages = await mapLimit(walk.markdown, 16, async (file) => {
    const bytes = await readFile(file.real);
    // The file may have grown since stat: the limits hold for the bytes actually read.
    if (bytes.length > maxFileBytes) throw tooBig(file.path, bytes.length);
    read += bytes.length;
    if (read > maxTotalBytes) throw overTotal();
    return { path: file.path, text: bytes.toString('utf8'), sha256: createHash('sha256').update(bytes).digest('hex') };
  });
  return pages.sort((a, b) => comparePagePaths(a.path, b.path));
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function isInside(rootReal: string, real: string): boolean {
  const rel = relative(rootReal, real);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !/^[a-z]:|^[\\/]/i.test(rel));
}

function hasHiddenSegment(path: string): boolean {
  return path.split('/').some((segment) => segment.startsWith('.'));
}

/** A path as shown in messages: relative to the root, never absolute. */
function shown(walk: Walk, rel: string): string {
  return [walk.docsDir, rel].filter(Boolean).join('/') || '.';
}
