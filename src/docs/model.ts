import { posix } from 'node:path';
import { parseDocument } from 'yaml';
import { InputError } from '../kernel/index.js';

/** A heading of a page, for its table of contents (h2 and h3). */
export interface DocsHeading {
  id: string;
  text: string;
  level: number;
}

/** One rendered page. `path` is relative to the docs dir: 'index.md', 'guides/setup.md'. */
export interface DocsPage {
  path: string;
  title: string;
  html: string;
  headings: DocsHeading[];
}

/** A nav entry: a page (`path`), an external link (`url`) or a section (`children`). */
export interface DocsNavItem {
  title: string;
  path?: string;
  url?: string;
  children?: DocsNavItem[];
}

/** A rendered docs site. `sourceHash` covers every source file, so a rebuild can be skipped when it is unchanged. */
export interface DocsSite {
  siteName: string;
  nav: DocsNavItem[];
  pages: DocsPage[];
  sourceHash: string;
  warnings: string[];
}

/** Bounds on what one site may read; over a bound the build fails with an InputError. */
export interface DocsLimits {
  /** Markdown files in the docs dir. */
  maxFiles: number;
  /** Bytes of one Markdown file (and of mkdocs.yml). */
  maxFileBytes: number;
  /** Bytes of mkdocs.yml plus every Markdown file. */
  maxTotalBytes: number;
}

export const defaultDocsLimits: DocsLimits = { maxFiles: 2_000, maxFileBytes: 2 * 1024 * 1024, maxTotalBytes: 50 * 1024 * 1024 };

/** The part of mkdocs.yml Plinth uses; theme, plugins, markdown_extensions and other keys are ignored. */
export interface MkdocsConfig {
  siteName?: string;
  docsDir: string;
  /** The raw `nav` list, resolved against the pages by `resolveNav`. */
  nav?: unknown[];
}

/**
 * Parses mkdocs.yml. Invalid YAML → InputError naming the file, line and column; a wrong type for one of the
 * keys Plinth reads → InputError naming the key. MkDocs' own YAML tags (`!ENV`, `!!python/name:…`) are
 * tolerated: the yaml library only warns about unknown tags, and the keys using them are ignored.
 */
export function parseMkdocsConfig(text: string, fileName: string): MkdocsConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? `${fileName}:${pos.line}:${pos.col}` : fileName;
    throw new InputError(`${where}: invalid YAML: ${firstLine(error.message)}`, { cause: error });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    // The yaml library refuses documents whose aliases would expand without bound ("billion laughs").
    throw new InputError(`${fileName}: ${cause instanceof Error ? cause.message : 'invalid YAML'}`, { cause });
  }
  if (value === null || value === undefined) return { docsDir: 'docs' };
  if (!isRecord(value)) throw new InputError(`${fileName}: expected a mapping of settings, found ${describe(value)}`);
  const problems: string[] = [];
  const config: MkdocsConfig = { docsDir: 'docs' };
  const siteName = value['site_name'];
  if (typeof siteName === 'string' && siteName.trim()) config.siteName = siteName.trim();
  else if (siteName !== undefined && siteName !== null) problems.push(`site_name: expected a string, found ${describe(siteName)}`);
  const docsDir = value['docs_dir'];
  if (typeof docsDir === 'string' && docsDir.trim()) config.docsDir = docsDir.trim();
  else if (docsDir !== undefined && docsDir !== null) problems.push(`docs_dir: expected a string, found ${describe(docsDir)}`);
  const nav = value['nav'];
  if (Array.isArray(nav)) config.nav = nav;
  else if (nav !== undefined && nav !== null) problems.push(`nav: expected a list, found ${describe(nav)}`);
  if (problems.length) throw new InputError(`${fileName}: ${problems.join('; ')}`);
  return config;
}

/**
 * Resolves `target`, a path relative to the folder of `fromPath` (a page path; '' means the docs dir itself),
 * to a normalized path relative to the docs dir. Undefined when it is absolute or climbs out of the docs dir.
 */
export function resolveDocPath(fromPath: string, target: string): string | undefined {
  if (!target || target.includes('\\') || target.includes('\0') || target.startsWith('/') || /^[a-z]:/i.test(target)) return undefined;
  const base = fromPath ? posix.dirname(fromPath) : '.';
  const joined = posix.normalize(posix.join(base, target));
  if (joined === '..' || joined.startsWith('../')) return undefined;
  return joined === '.' || joined === './' ? '' : joined.replace(/\/+$/, '');
}

/** The URL schemes a link may use; anything else (javascript:, data:, vbscript:, file:) is dropped. */
export const allowedUrlSchemes: readonly string[] = ['http', 'https', 'mailto'];

/** The scheme of an absolute URL (lowercase), or undefined for a relative reference. */
export function urlScheme(url: string): string | undefined {
  return /^\s*([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
}

export function isAllowedUrl(url: string): boolean {
  const scheme = urlScheme(url);
  return scheme === undefined ? !url.trim().startsWith('//') : allowedUrlSchemes.includes(scheme);
}

/** What a link or image target in a page points at, resolved against the page's folder. */
export type LinkTarget =
  | { kind: 'external'; url: string }
  | { kind: 'anchor'; fragment: string }
  | { kind: 'site'; url: string }
  | { kind: 'page'; path: string; fragment: string; exists: boolean }
  | { kind: 'asset'; path: string; fragment: string }
  | { kind: 'invalid'; reason: string };

/**
 * Classifies a (markdown-it normalized, so percent-encoded) link target. MkDocs resolves `x.md`, and also
 * `x/` and `x` when `x/index.md` or `x.md` is a page; other relative targets are files served as assets.
 */
export function resolveLinkTarget(href: string, pagePath: string, knownPages: ReadonlySet<string>): LinkTarget {
  const scheme = urlScheme(href);
  if (scheme !== undefined) return allowedUrlSchemes.includes(scheme) ? { kind: 'external', url: href } : { kind: 'invalid', reason: `the URL scheme "${scheme}:" is not allowed` };
  if (href.startsWith('//')) return { kind: 'invalid', reason: 'protocol-relative URLs are not allowed' };
  if (href.startsWith('#')) return { kind: 'anchor', fragment: href };
  if (href.startsWith('/')) return { kind: 'site', url: href };
  const hashAt = href.indexOf('#');
  const fragment = hashAt >= 0 ? href.slice(hashAt) : '';
  const withoutQuery = (hashAt >= 0 ? href.slice(0, hashAt) : href).replace(/\?.*$/, '');
  const decoded = safeDecode(withoutQuery);
  if (decoded === '') return { kind: 'anchor', fragment: fragment || '#' };
  const resolved = resolveDocPath(pagePath, decoded);
  if (resolved === undefined) return { kind: 'invalid', reason: `"${decoded}" is outside the docs folder` };
  if (/\.md$/i.test(resolved)) return { kind: 'page', path: resolved, fragment, exists: knownPages.has(resolved) };
  const dir = resolved === '' || decoded.endsWith('/') ? resolved : undefined;
  const candidates = dir !== undefined ? [posix.join(dir, 'index.md')] : [`${resolved}.md`, `${resolved}/index.md`];
  const page = candidates.find((c) => knownPages.has(c));
  if (page) return { kind: 'page', path: page, fragment, exists: true };
  return { kind: 'asset', path: resolved, fragment };
}

/**
 * The href from one page to another. Page `guides/setup.md` is routed at `<docs base>/guides/setup`, so a
 * relative href to the page path without `.md` resolves in the browser: from `index.md` → `guides/setup`,
 * from `reference/api.md` → `../guides/setup`.
 */
export function pageHref(fromPath: string, toPath: string, fragment = ''): string {
  const route = toPath.replace(/\.md$/i, '');
  let rel = posix.relative(`/${posix.dirname(fromPath)}`, `/${route}`);
  // A page whose route equals the current page's folder ('a.md' seen from 'a/b.md').
  if (rel === '') rel = `../${posix.basename(route)}`;
  return rel.split('/').map((s) => (s === '..' ? s : encodeURIComponent(s))).join('/') + fragment;
}

/** GitHub-style slug: lowercase, punctuation dropped, spaces → '-'. Never empty. */
export function slugify(text: string): string {
  const slug = text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
  return slug || 'section';
}

/** MkDocs' title for a page without a heading: 'Home' for the root index, the folder for other indexes, else the file name. */
export function titleFromPath(path: string): string {
  const stem = posix.basename(path).replace(/\.md$/i, '');
  if (stem.toLowerCase() !== 'index') return titleFromName(stem);
  const dir = posix.dirname(path);
  return dir === '.' ? 'Home' : titleFromName(posix.basename(dir));
}

/** 'getting-started' → 'Getting started'; names with capitals keep them (MkDocs does the same). */
export function titleFromName(name: string): string {
  const spaced = name.replace(/[-_]+/g, ' ').trim() || name;
  return spaced === spaced.toLowerCase() ? spaced.charAt(0).toUpperCase() + spaced.slice(1) : spaced;
}

/**
 * Resolves mkdocs.yml `nav` against the pages. Entries: `path.md`, `Title: path.md`, `Title: https://…`,
 * `Section: [ … ]`. A page that does not exist, a path escaping the docs dir, an unsafe URL or a malformed
 * entry becomes a warning and is left out; so does a section left empty.
 */
export function resolveNav(nav: readonly unknown[], pageTitles: ReadonlyMap<string, string>, warnings: string[], where = 'nav'): DocsNavItem[] {
  const items: DocsNavItem[] = [];
  nav.forEach((raw, i) => {
    const item = resolveNavItem(raw, `${where}[${i}]`, pageTitles, warnings);
    if (item) items.push(item);
  });
  return items;
}

function resolveNavItem(raw: unknown, where: string, pageTitles: ReadonlyMap<string, string>, warnings: string[]): DocsNavItem | undefined {
  if (typeof raw === 'string') return resolveNavTarget(raw, undefined, where, pageTitles, warnings);
  const entries = isRecord(raw) ? Object.entries(raw) : [];
  const [entry] = entries;
  if (!entry || entries.length !== 1) {
    warnings.push(`mkdocs.yml ${where}: expected "path.md", "Title: path.md" or "Section: [...]", found ${describe(raw)}; skipped`);
    return undefined;
  }
  const [title, value] = entry;
  if (typeof value === 'string') return resolveNavTarget(value, title, where, pageTitles, warnings);
  if (Array.isArray(value)) {
    const children = resolveNav(value, pageTitles, warnings, `${where}.${title}`);
    return children.length ? { title, children } : undefined;
  }
  warnings.push(`mkdocs.yml ${where} "${title}": expected a path, a URL or a list, found ${describe(value)}; skipped`);
  return undefined;
}

function resolveNavTarget(target: string, title: string | undefined, where: string, pageTitles: ReadonlyMap<string, string>, warnings: string[]): DocsNavItem | undefined {
  const value = target.trim();
  const scheme = urlScheme(value);
  if (scheme !== undefined || value.startsWith('//')) {
    if (isAllowedUrl(value)) return { title: title ?? value, url: value };
    warnings.push(`mkdocs.yml ${where}: "${value}" is not an http, https or mailto URL; skipped`);
    return undefined;
  }
  const path = resolveDocPath('', value);
  if (path === undefined) {
    warnings.push(`mkdocs.yml ${where}: "${value}" is outside the docs folder; skipped`);
    return undefined;
  }
  const pageTitle = pageTitles.get(path);
  if (pageTitle === undefined) {
    warnings.push(`mkdocs.yml ${where}: page "${value}" does not exist; skipped`);
    return undefined;
  }
  return { title: title ?? pageTitle, path };
}

/** The nav MkDocs builds without `nav`: per folder, index.md first, other pages by name, then subfolders as sections. */
export function buildDefaultNav(pages: readonly { path: string; title: string }[]): DocsNavItem[] {
  interface Folder { pages: { name: string; item: DocsNavItem }[]; folders: Map<string, Folder> }
  const root: Folder = { pages: [], folders: new Map() };
  for (const page of pages) {
    const parts = page.path.split('/');
    const name = parts.pop() ?? page.path;
    let folder = root;
    for (const part of parts) {
      let next = folder.folders.get(part);
      if (!next) folder.folders.set(part, (next = { pages: [], folders: new Map() }));
      folder = next;
    }
    folder.pages.push({ name, item: { title: page.title, path: page.path } });
  }
  const toItems = (folder: Folder): DocsNavItem[] => [
    ...folder.pages.sort((a, b) => compareNames(a.name, b.name)).map((p) => p.item),
    ...[...folder.folders.entries()].sort(([a], [b]) => compareCodeUnits(a, b)).map(([name, sub]) => ({ title: titleFromName(name), children: toItems(sub) })),
  ];
  return toItems(root);
}

/** The order of pages in a site: per folder, index.md first, then other pages by name, then subfolders by name. */
export function comparePagePaths(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  for (let i = 0; ; i++) {
    const x = as[i] ?? '';
    const y = bs[i] ?? '';
    const xIsFile = i === as.length - 1;
    const yIsFile = i === bs.length - 1;
    if (xIsFile !== yIsFile) return xIsFile ? -1 : 1;
    if (x !== y) return xIsFile ? compareNames(x, y) : compareCodeUnits(x, y);
    if (xIsFile) return 0;
  }
}

function compareNames(a: string, b: string): number {
  const ai = a.toLowerCase() === 'index.md';
  const bi = b.toLowerCase() === 'index.md';
  return ai !== bi ? (ai ? -1 : 1) : compareCodeUnits(a, b);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The yaml library's message without the position suffix and source excerpt it appends (we put the position first). */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}
