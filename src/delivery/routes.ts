import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, idParam } from '../kernel/index.js';
import { AnalysesQuery, AnalysisRecord, CreateEnvironmentInput, Environment, rolloutCommands, rolloutPhases, RolloutView, StartRolloutInput, UpdateEnvironmentInput, WebhookInput, WebhookView } from './model/index.js';
import type { Delivery } from './service.js';

const tags = ['delivery'];
const label = z.string().regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label').max(63);
const nameParam = z.strictObject({ name: label });
const serviceParam = z.strictObject({ service: label });
const serviceEnvParams = z.strictObject({ service: label, environment: label });
const commandParams = idParam.extend({ command: z.enum(rolloutCommands) });
const ListQuery = z.strictObject({
  service: label.optional(),
  environment: label.optional(),
  phase: z.enum(rolloutPhases).optional(),
  active: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** `/api/delivery`: environments, rollouts and their gates, webhooks. */
export function deliveryRoutes(delivery: Delivery): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/environments', { schema: { tags, summary: 'Environments and their rollout strategies', response: { 200: z.object({ items: z.array(Environment) }), ...errorResponses } } },
      async (request) => ({ items: await delivery.listEnvironments(request.principal!) }));

    app.get('/environments/:name', { schema: { tags, summary: 'One environment', params: nameParam, response: { 200: Environment, ...errorResponses } } },
      async (request) => delivery.getEnvironment(request.principal!, request.params.name));

    app.post('/environments', { config: { audit: 'delivery.environment.create' }, schema: { tags, summary: 'Create an environment (platform admins)', body: CreateEnvironmentInput, response: { 201: Environment, ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await delivery.createEnvironment(request.principal!, request.body)));

    app.patch('/environments/:name', { config: { audit: 'delivery.environment.update' }, schema: { tags, summary: "Change an environment's description or rollout strategy (platform admins)", params: nameParam, body: UpdateEnvironmentInput, response: { 200: Environment, ...errorResponses } } },
      async (request) => delivery.updateEnvironment(request.principal!, request.params.name, request.body));

    app.delete('/environments/:name', { config: { audit: 'delivery.environment.delete' }, schema: { tags, summary: 'Delete an environment with nothing running in it (platform admins)', params: nameParam, response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await delivery.deleteEnvironment(request.principal!, request.params.name);
        return reply.code(204).send(null);
      });

    app.post('/rollouts', { config: { audit: 'delivery.rollout.start' }, schema: { tags, summary: "Start a rollout from a workload spec or a Score file; answers once the new release is ready (or failed)", body: StartRolloutInput, response: { 201: RolloutView, ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await delivery.startRollout(request.principal!, request.body)));

    app.get('/rollouts', { schema: { tags, summary: 'Rollouts, newest first (history per service with ?service=)', querystring: ListQuery, response: { 200: z.object({ items: z.array(RolloutView) }), ...errorResponses } } },
      async (request) => {
        const { active, ...rest } = request.query;
        return { items: await delivery.listRollouts(request.principal!, { ...rest, ...(active ? { active: active === 'true' } : {}) }) };
      });

    app.get('/rollouts/:id', { schema: { tags, summary: 'A rollout: phase, step, weight, last analysis', params: idParam, response: { 200: RolloutView, ...errorResponses } } },
      async (request) => delivery.getRollout(request.principal!, request.params.id));

    app.get('/rollouts/:id/analyses', { schema: { tags, summary: "Every analysis of a rollout's canary vs stable, oldest first; ?after=<seq> for the newer ones only", params: idParam, querystring: AnalysesQuery, response: { 200: z.object({ items: z.array(AnalysisRecord) }), ...errorResponses } } },
      async (request) => ({ items: await delivery.listAnalyses(request.principal!, request.params.id, request.query) }));

    // One audited route per command: the audit log records who promoted, aborted or approved.
    app.post('/rollouts/:id/:command', { config: { audit: 'delivery.rollout.command' }, schema: { tags, summary: 'promote (skip to 100%), abort (roll back), pause, resume or approve the next step', params: commandParams, response: { 202: RolloutView, ...errorResponses } } },
      async (request, reply) => reply.code(202).send(await delivery.command(request.principal!, request.params.id, request.params.command)));

    app.post('/services/:service/environments/:environment/undo', { config: { audit: 'delivery.rollout.undo' }, schema: { tags, summary: 'Abort the rollout in progress, or go back to the release that was stable before the last promotion', params: serviceEnvParams, response: { 201: RolloutView, 202: RolloutView, ...errorResponses } } },
      async (request, reply) => {
        const view = await delivery.undo(request.principal!, request.params.service, request.params.environment);
        return reply.code(view.phase === 'rolled-back' || view.pendingCommand === 'abort' ? 202 : 201).send(view);
      });

    app.get('/services/:service/webhooks', { schema: { tags, summary: "A service's notification webhooks", params: serviceParam, response: { 200: z.object({ items: z.array(WebhookView) }), ...errorResponses } } },
      async (request) => ({ items: await delivery.listWebhooks(request.principal!, request.params.service) }));

    app.post('/services/:service/webhooks', { config: { audit: 'delivery.webhook.create' }, schema: { tags, summary: 'Add a webhook: POSTed JSON on rollout start, step, promotion, rollback and failure', params: serviceParam, body: WebhookInput, response: { 201: WebhookView, ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await delivery.addWebhook(request.principal!, request.params.service, request.body.url)));

    app.delete('/services/:service/webhooks/:id', { config: { audit: 'delivery.webhook.delete' }, schema: { tags, summary: 'Remove a webhook', params: serviceParam.extend(idParam.shape), response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await delivery.deleteWebhook(request.principal!, request.params.service, request.params.id);
        return reply.code(204).send(null);
      });
  };
}
