import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Catalog } from '../catalog/index.js';
import { refKey } from '../catalog/index.js';
import { NotFoundError } from '../kernel/index.js';
import { resolveDocsAssetUrls } from './markdown.js';
import type { DocsService } from './service.js';
import { resolveDocsAsset } from './source.js';

const entityParams = z.object({ namespace: z.string().min(1).max(100), kind: z.string().min(1).max(100), name: z.string().min(1).max(300) });

const contentTypes: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain; charset=utf-8',
};

/** `/api/docs/:namespace/:kind/:name`: an entity's docs site, its pages and their files. */
export function docsRoutes(deps: { catalog: Catalog; docs: DocsService }): FastifyPluginAsyncZod {
  const { catalog, docs } = deps;
  const siteOf = async (principal: Parameters<Catalog['docsFolderOf']>[0], p: z.infer<typeof entityParams>) => {
    const ref = refKey(p);
    return { ref, site: await docs.getSite(ref, await catalog.docsFolderOf(principal, ref)) };
  };
  return async (app) => {
    app.get('/:namespace/:kind/:name', { schema: { tags: ['docs'], summary: 'An entity\u2019s docs: site name, navigation and pages', params: entityParams } }, async (request) => {
      const { site } = await siteOf(request.principal!, request.params);
      return { siteName: site.siteName, nav: site.nav, pages: site.pages.map((p) => ({ path: p.path, title: p.title })), warnings: site.warnings };
    });

    app.get(
      '/:namespace/:kind/:name/page',
      { schema: { tags: ['docs'], summary: 'One rendered page (sanitized HTML)', params: entityParams, querystring: z.strictObject({ path: z.string().min(1).max(500).default('index.md') }) } },
      async (request) => {
        const { site } = await siteOf(request.principal!, request.params);
        const wanted = request.query.path.endsWith('.md') ? request.query.path : `${request.query.path.replace(/\/$/, '')}.md`;
        const page = site.pages.find((p) => p.path === wanted) ?? site.pages.find((p) => p.path === `${request.query.path.replace(/\/$/, '')}/index.md`);
        if (!page) throw new NotFoundError(`no page "${request.query.path}" in the docs of ${site.siteName}`);
        const p = request.params;
        const assetBase = `/api/docs/${encodeURIComponent(p.namespace)}/${encodeURIComponent(p.kind)}/${encodeURIComponent(p.name)}/assets`;
        return { path: page.path, title: page.title, html: resolveDocsAssetUrls(page.html, assetBase), headings: page.headings };
      },
    );

    app.get('/:namespace/:kind/:name/assets/*', { schema: { tags: ['docs'], summary: 'A file from the docs folder (images, attachments)', params: entityParams.extend({ '*': z.string().min(1).max(500) }) } }, async (request, reply) => {
      const folder = await catalog.docsFolderOf(request.principal!, refKey(request.params));
      const file = await resolveDocsAsset(folder, request.params['*']);
      // Served files never run as pages of our origin (an SVG may carry script).
      reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
      reply.header('cache-control', 'private, max-age=300');
      return reply.type(contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream').send(createReadStream(file));
    });
  };
}
