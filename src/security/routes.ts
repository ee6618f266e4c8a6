import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../kernel/index.js';
import { AdvisorySummaryView, AuditInput, ImportResult, ListAdvisoriesQuery, MAX_ADVISORIES_PER_IMPORT, PackageMatchView } from './model.js';
import type { Security } from './service.js';

const tags = ['security'];
const advisoryIdParam = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'an advisory id such as GHSA-xxxx-xxxx-xxxx') });

/** `/api/security`: the advisory store (import, list, show) and the dependency audit. */
export function securityRoutes(security: Security): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/advisories', {
      config: { audit: 'security.advisories.import' },
      schema: {
        tags,
        summary: 'Import OSV advisories (a JSON array of OSV records; platform admins). Newer `modified` replaces, older or equal is skipped.',
        body: z.array(z.unknown()).max(MAX_ADVISORIES_PER_IMPORT),
        response: { 200: ImportResult, ...errorResponses },
      },
    }, async (request) => security.importAdvisories(request.principal!, request.body));

    app.get('/advisories', {
      schema: { tags, summary: 'List advisories by id; `package` (a purl) narrows to one package, or with a version to those affecting it', querystring: ListAdvisoriesQuery, response: { 200: z.object({ items: z.array(AdvisorySummaryView), nextCursor: z.string().nullable() }), ...errorResponses } },
    }, async (request) => security.listAdvisories(request.principal!, request.query));

    app.get('/advisories/:id', {
      schema: { tags, summary: 'One advisory as the OSV record imported', params: advisoryIdParam, response: { 200: z.looseObject({ id: z.string(), modified: z.string() }), ...errorResponses } },
    }, async (request) => security.getAdvisory(request.principal!, request.params.id));

    app.post('/audit', {
      schema: { tags, summary: 'Match packages (purls with versions) against the advisory store', body: AuditInput, response: { 200: z.object({ matches: z.array(PackageMatchView) }), ...errorResponses } },
    }, async (request) => ({ matches: await security.auditPackages(request.principal!, request.body.packages) }));
  };
}
