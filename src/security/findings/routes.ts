import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../kernel/index.js';
import { AcceptFindingInput, FindingDetailView, FindingView, ListFindingsQuery, OverviewView } from './model.js';
import type { Findings } from './service.js';

const tags = ['security'];
const findingParam = z.strictObject({ id: z.uuid('a finding id (a UUID)') });

/** `/api/security/findings…`: tracked findings of the security stage, their history, acceptance and the organisation overview. */
export function findingsRoutes(findings: Findings): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/findings', {
      schema: { tags, summary: 'Tracked findings, most severe first, then last seen first (by service = repository, owner, severity, status, overdue)', querystring: ListFindingsQuery, response: { 200: z.object({ items: z.array(FindingView), nextCursor: z.string().nullable() }), ...errorResponses } },
    }, async (request) => findings.list(request.principal!, request.query));

    app.get('/findings/overview', {
      schema: { tags, summary: 'Organisation overview: open findings by severity and team, accepted, overdue, fixed in the last 30 days', response: { 200: OverviewView, ...errorResponses } },
    }, async (request) => findings.overview(request.principal!));

    app.get('/findings/:id', {
      schema: { tags, summary: 'One tracked finding with its history (the runs that saw it)', params: findingParam, response: { 200: FindingDetailView, ...errorResponses } },
    }, async (request) => findings.get(request.principal!, request.params.id));

    app.post('/findings/:id/accept', {
      config: { audit: 'security.finding.accept' },
      schema: { tags, summary: 'Accept the risk of a finding until a date (its owning team; a critical one: platform admins)', params: findingParam, body: AcceptFindingInput, response: { 200: FindingView, ...errorResponses } },
    }, async (request) => findings.accept(request.principal!, request.params.id, request.body));
  };
}
