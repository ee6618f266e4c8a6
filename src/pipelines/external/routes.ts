import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, idParam } from '../../kernel/index.js';
import { CreatedExternalRepositoryView, CreateExternalRepositoryInput, ExternalRepositoryView, providers, WebhookOutcomeView } from './model.js';
import type { ExternalRepositories } from './service.js';

const tags = ['pipelines'];
const NameParam = z.strictObject({ name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'an external repository name') });
const ListQuery = z.strictObject({
  ownerRef: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** `/api/pipelines/external-repositories` (register, list, show, remove) and `/api/pipelines/webhooks/<provider>/:id`. */
export function externalRepositoriesRoutes(external: ExternalRepositories): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/external-repositories', { config: { audit: 'pipelines.external-repository.register' }, schema: { tags, summary: 'Register a repository hosted elsewhere; the answer holds its webhook secret, shown this once', body: CreateExternalRepositoryInput, response: { 201: CreatedExternalRepositoryView, ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await external.register(request.principal!, request.body)));

    app.get('/external-repositories', { schema: { tags, summary: 'List external repositories by name (by owner)', querystring: ListQuery, response: { 200: z.object({ items: z.array(ExternalRepositoryView) }), ...errorResponses } } },
      async (request) => ({ items: await external.list(request.principal!, request.query) }));

    app.get('/external-repositories/:name', { schema: { tags, summary: 'An external repository (never its credentials)', params: NameParam, response: { 200: ExternalRepositoryView, ...errorResponses } } },
      async (request) => external.get(request.principal!, request.params.name));

    app.delete('/external-repositories/:name', { config: { audit: 'pipelines.external-repository.remove' }, schema: { tags, summary: 'Remove an external repository and its credentials (its runs stay)', params: NameParam, response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await external.remove(request.principal!, request.params.name);
        return reply.code(204).send(null);
      });

    // The webhook routes need the body exactly as sent: the signature covers its bytes.
    const webhooks: FastifyPluginAsyncZod = async (hooks) => {
      hooks.removeContentTypeParser('application/json');
      hooks.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      hooks.post('/webhooks/:provider/:id', {
        config: { auth: 'public', audit: 'pipelines.webhook.receive' },
        schema: {
          tags, summary: 'Push webhook of an external repository (GitHub: X-Hub-Signature-256; GitLab: X-Gitlab-Token); no API token',
          security: [],
          params: idParam.extend({ provider: z.enum(providers) }),
          response: { 200: WebhookOutcomeView, 202: WebhookOutcomeView, ...errorResponses },
        },
      }, async (request, reply) => {
        const h = request.headers;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        request.auditActor = `webhook:${request.params.provider}:${request.params.id}`;
        const outcome = await external.receive(request.params.provider, request.params.id, {
          event: header(h['x-github-event'] ?? h['x-gitlab-event']),
          signature: header(h['x-hub-signature-256']),
          token: header(h['x-gitlab-token']),
          deliveryId: header(h['x-github-delivery'] ?? h['x-gitlab-event-uuid']),
          body,
        });
        return reply.code(outcome.status === 'pong' ? 200 : 202).send(outcome);
      });
    };
    await app.register(webhooks);
  };
}
