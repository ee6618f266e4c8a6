import type { DocsNavItem } from '../../../src/docs/index.js';

/**
 * Docs pages are routed by their path without `.md` under a base (`/docs/default/component/x` or the
 * entity page's Docs tab): `guides/setup.md` → `<base>/guides/setup`, the root `index.md` → `<base>`.
 */
export function pageRoute(base: string, pagePath: string, fragment = ''): string {
  if (pagePath === 'index.md' || pagePath === '') return `${base}${fragment}`;
  return `${base}/${pagePath.replace(/\.md$/i, '').split('/').map(encodeURIComponent).join('/')}${fragment}`;
}

/** The page a route suffix names, among the site's pages: `guides/setup` → `guides/setup.md` or `guides/setup/index.md`. */
export function pageForRoute(suffix: string, pages: readonly { path: string }[]): string | undefined {
  const clean = decodeURIComponent(suffix).replace(/^\/+|\/+$/g, '').replace(/\.md$/i, '');
  const candidates = clean === '' ? ['index.md', 'README.md'] : [`${clean}.md`, `${clean}/index.md`, `${clean}/README.md`];
  const byLower = new Map(pages.map((p) => [p.path.toLowerCase(), p.path]));
  for (const candidate of candidates) {
    const found = byLower.get(candidate.toLowerCase());
    if (found !== undefined) return found;
  }
  // A site without index.md opens on its first page.
  return clean === '' ? pages[0]?.path : undefined;
}

/**
 * Resolves a relative link in a page to a page path: `href` is relative to the page's route, which
 * is its path without `.md`, so it is resolved against the page's folder. Undefined for absolute URLs.
 */
export function resolvePageLink(fromPagePath: string, href: string): { path: string; fragment: string } | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('/') || href.startsWith('#')) return undefined;
  const hashAt = href.indexOf('#');
  const target = hashAt === -1 ? href : href.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : href.slice(hashAt);
  const folder = fromPagePath.includes('/') ? fromPagePath.slice(0, fromPagePath.lastIndexOf('/') + 1) : '';
  const parts: string[] = [];
  for (const part of `${folder}${target}`.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  const route = parts.join('/').replace(/\.md$/i, '');
  return { path: route === '' ? 'index.md' : `${route}.md`, fragment };
}

/** Whether a nav entry or one below it is the page shown, so its section opens. */
export function navContains(item: DocsNavItem, pagePath: string): boolean {
  return item.path === pagePath || (item.children ?? []).some((child) => navContains(child, pagePath));
}
