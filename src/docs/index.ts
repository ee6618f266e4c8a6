/**
 * Docs next to code: renders TechDocs sources (mkdocs.yml + Markdown, as Backstage's techdocs-core reads them)
 * natively, with no Python or MkDocs. See ../shared/conformance/backstage/NOTES.md, "d. TechDocs".
 *
 * What the rendered HTML expects from the route layer and the portal:
 * - Page `guides/setup.md` is routed at `<docs base>/guides/setup` (its path without `.md`; `index.md` → `index`).
 *   Links between pages are written relative to that route (`../guides/setup#part`) and carry the target's page
 *   path in `data-docs-path="guides/setup.md"`, so the portal may route them in-app.
 * - Relative images and file links become `{{DOCS_ASSET_BASE}}/<path in the docs dir>` (`DOCS_ASSET_BASE`); the route
 *   layer substitutes its asset URL with `resolveDocsAssetUrls(html, url)` and serves the file that
 *   `resolveDocsAsset(rootDir, path)` returns.
 * - The HTML is sanitized: only the tags, classes and http/https/mailto/relative URLs the renderer emits survive;
 *   external links get rel="noopener noreferrer".
 * - Without mkdocs.yml, a `docs/` folder is still rendered, with the root folder's name as site name and a warning.
 */
export type { DocsHeading, DocsPage, DocsNavItem, DocsSite, DocsLimits } from './model.js';
export { defaultDocsLimits } from './model.js';
export { renderMarkdown, resolveDocsAssetUrls, DOCS_ASSET_BASE, type RenderContext, type RenderedMarkdown } from './markdown.js';
export { resolveDocsAsset } from './source.js';
export { buildDocsSite, hashDocsSource, createDocs, type DocsBuildOptions, type DocsService, type DocsServiceOptions } from './service.js';
export { docsRoutes } from './routes.js';
