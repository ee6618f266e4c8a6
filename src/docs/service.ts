import type { Logger } from '../kernel/index.js';
import { renderMarkdown } from './markdown.js';
import { buildDefaultNav, comparePagePaths, defaultDocsLimits, resolveNav, titleFromPath, type DocsLimits, type DocsPage, type DocsSite } from './model.js';
import { readDocsSource, type DocsSource } from './source.js';

export type DocsBuildOptions = Partial<DocsLimits>;

/** Reads `<rootDir>/mkdocs.yml` (or mkdocs.yaml) and every `.md` file under `<rootDir>/<docs_dir or 'docs'>`, and renders them. */
export async function buildDocsSite(rootDir: string, options: DocsBuildOptions = {}): Promise<DocsSite> {
  return renderDocsSite(await readDocsSource(rootDir, limitsFrom(options)));
}

/** The sourceHash `buildDocsSite` would report, without rendering: reads the sources, to detect changes. */
export async function hashDocsSource(rootDir: string, options: DocsBuildOptions = {}): Promise<string> {
  return (await readDocsSource(rootDir, limitsFrom(options))).sourceHash;
}

/**
 * Renders what `readDocsSource` read; reads nothing itself. Rendering is synchronous CPU work (a dense 2 MiB
 * page takes seconds), so it yields to the event loop between pages to keep the server answering.
 */
export async function renderDocsSite(source: DocsSource): Promise<DocsSite> {
  const warnings = [...source.warnings];
  const knownPages = new Set(source.pages.map((p) => p.path));
  const knownAssets = new Set(source.assets);
  const pages: DocsPage[] = [];
  for (const { path, text } of source.pages) {
    const rendered = renderMarkdown(text, { pagePath: path, knownPages, knownAssets });
    warnings.push(...rendered.warnings);
    pages.push({ path, title: rendered.title ?? titleFromPath(path), html: rendered.html, headings: rendered.headings });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  pages.sort((a, b) => comparePagePaths(a.path, b.path));
  const nav = source.nav ? resolveNav(source.nav, new Map(pages.map((p) => [p.path, p.title])), warnings) : buildDefaultNav(pages);
  return { siteName: source.siteName, nav, pages, sourceHash: source.sourceHash, warnings };
}

/** Docs sites for the catalog, cached by key and rebuilt only when their sources change. */
export interface DocsService {
  /** The site for `key` (e.g. an entity ref) from `rootDir`; served from the cache while `hashDocsSource` is unchanged. Treat it as read-only. */
  getSite(key: string, rootDir: string): Promise<DocsSite>;
}

export interface DocsServiceOptions {
  logger: Logger;
  limits?: DocsBuildOptions;
  /** Sites kept, least recently used evicted first. */
  maxSites?: number;
  /** Approximate bytes of cached HTML kept; a larger site is built but not cached. */
  maxCacheBytes?: number;
}

export function createDocs(options: DocsServiceOptions): DocsService {
  const { logger } = options;
  const limits = limitsFrom(options.limits ?? {});
  const maxSites = options.maxSites ?? 200;
  const maxCacheBytes = options.maxCacheBytes ?? 256 * 1024 * 1024;
  // A Map iterates in insertion order: re-inserting on use makes its first key the least recently used.
  const cache = new Map<string, { site: DocsSite; bytes: number }>();
  const inflight = new Map<string, Promise<DocsSite>>();
  let cachedBytes = 0;

  const evict = (key: string) => {
    const entry = cache.get(key);
    if (!entry) return;
    cache.delete(key);
    cachedBytes -= entry.bytes;
  };

  const remember = (key: string, site: DocsSite) => {
    evict(key);
    const bytes = siteBytes(site);
    if (bytes > maxCacheBytes) return;
    cache.set(key, { site, bytes });
    cachedBytes += bytes;
    for (const oldest of cache.keys()) {
      if (cache.size <= maxSites && cachedBytes <= maxCacheBytes) break;
      evict(oldest);
    }
  };

  const load = async (key: string, rootDir: string): Promise<DocsSite> => {
    let source: DocsSource;
    try {
      source = await readDocsSource(rootDir, limits);
    } catch (error) {
      evict(key); // the docs are gone or now invalid: never serve the stale site
      throw error;
    }
    const hit = cache.get(key);
    if (hit && hit.site.sourceHash === source.sourceHash) {
      cache.delete(key);
      cache.set(key, hit);
      return hit.site;
    }
    const startedAt = performance.now();
    const site = await renderDocsSite(source);
    logger.info({ key, pages: site.pages.length, warnings: site.warnings.length, ms: Math.round(performance.now() - startedAt) }, 'docs site built');
    remember(key, site);
    return site;
  };

  return {
    getSite(key, rootDir) {
      // Concurrent requests for one site share a single read and render.
      const flightKey = `${key}\0${rootDir}`;
      const running = inflight.get(flightKey);
      if (running) return running;
      const promise = load(key, rootDir).finally(() => inflight.delete(flightKey));
      inflight.set(flightKey, promise);
      return promise;
    },
  };
}

function limitsFrom(options: DocsBuildOptions): DocsLimits {
  return {
    maxFiles: options.maxFiles ?? defaultDocsLimits.maxFiles,
    maxFileBytes: options.maxFileBytes ?? defaultDocsLimits.maxFileBytes,
    maxTotalBytes: options.maxTotalBytes ?? defaultDocsLimits.maxTotalBytes,
  };
}

function siteBytes(site: DocsSite): number {
  return site.pages.reduce((sum, page) => sum + page.html.length + page.path.length + page.title.length, 1024);
}
