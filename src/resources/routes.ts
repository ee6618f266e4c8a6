import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../kernel/index.js';
import { ClaimListQuery, ClaimView, nextClaimCursor, CostLine, CostQuery, CreateClaimBody, OrphanReport, PlanView, UpgradeClaimBody } from './model/claim.js';
import { ModuleView, PutModuleBody } from './model/module.js';
import { BackupView, OperationView, RestoreBody, RotateBody } from './model/operation.js';
import { CreateSecretBody, PutSecretVersionBody, RevealedSecretView, secretName, SecretView } from './model/secret.js';
import { RewrapBody, RewrapStarted, SecretKeysView } from './secrets/model.js';
import type { Resources } from './service.js';

const tags = ['resources'];
const claimParams = z.strictObject({ id: z.string().regex(/^rc-[a-f0-9]{16}$/, 'a claim id looks like rc-0123456789abcdef') });
const moduleParams = z.strictObject({ name: z.string().min(1).max(41) });
const secretParams = z.strictObject({ name: secretName });
const operationParams = claimParams.extend({ operationId: z.string().regex(/^op-[a-f0-9]{16}$/, 'an operation id looks like op-0123456789abcdef') });

/** `/api/resources`: modules, claims and their plans, costs, backups, drift, and secrets. */
export function resourcesRoutes(resources: Resources): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/modules', { schema: { tags, summary: 'The resource menu: every module version with presets, inputs and prices', response: { 200: z.object({ items: z.array(ModuleView) }), ...errorResponses } } },
      async (request) => ({ items: await resources.listModules(request.principal!) }));

    app.get('/providers', { schema: { tags, summary: 'The provider servers and whether each can be used now', response: { 200: z.object({ items: z.array(z.object({ name: z.string(), available: z.boolean(), reason: z.string().nullable() })) }), ...errorResponses } } },
      async (request) => ({ items: await resources.providerStatus(request.principal!) }));

    app.get('/modules/:name', { schema: { tags, summary: 'A module (its newest version, or ?version=)', params: moduleParams, querystring: z.strictObject({ version: z.string().max(50).optional() }), response: { 200: ModuleView, ...errorResponses } } },
      async (request) => resources.getModule(request.principal!, request.params.name, request.query.version));

    app.post('/modules', { config: { audit: 'resources.module.publish' }, schema: { tags, summary: 'Publish a module version (platform admins; versions are immutable)', body: PutModuleBody, response: { 200: ModuleView, 201: ModuleView, ...errorResponses } } },
      async (request, reply) => {
        const { module, created } = await resources.publishModule(request.principal!, request.body.yaml);
        return reply.code(created ? 201 : 200).send(module);
      });

    app.post('/plans', { config: { audit: false }, schema: { tags, summary: 'Plan a claim: what would be created, its monthly cost and the guardrails’ decision; nothing is created or recorded', body: CreateClaimBody, response: { 200: PlanView, ...errorResponses } } },
      async (request) => resources.plan(request.principal!, request.body));

    app.post('/claims', { config: { audit: 'resources.claim.create' }, schema: { tags, summary: 'Claim a resource: plan, admit, then provision as a job', body: CreateClaimBody, response: { 201: z.object({ claim: ClaimView, plan: PlanView }), ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await resources.claim(request.principal!, request.body)));

    app.get('/claims', { schema: { tags, summary: 'Resource claims with status, outputs and drift, by environment and name, a page at a time (the next page: after=<next>)', querystring: ClaimListQuery, response: { 200: z.object({ items: z.array(ClaimView), next: z.string().optional() }), ...errorResponses } } },
      async (request) => {
        const items = await resources.listClaims(request.principal!, request.query);
        const next = nextClaimCursor(items, request.query.limit);
        return next === undefined ? { items } : { items, next };
      });

    app.get('/claims/:id', { schema: { tags, summary: 'A resource claim', params: claimParams, response: { 200: ClaimView, ...errorResponses } } },
      async (request) => resources.getClaim(request.principal!, request.params.id));

    app.delete('/claims/:id', { config: { audit: 'resources.claim.delete' }, schema: { tags, summary: 'Deprovision: final backup, then the resource is removed', params: claimParams, response: { 202: ClaimView, ...errorResponses } } },
      async (request, reply) => reply.code(202).send(await resources.deleteClaim(request.principal!, request.params.id)));

    app.post('/claims/:id/upgrade', { config: { audit: 'resources.claim.upgrade' }, schema: { tags, summary: 'Upgrade a ready claim to another module version, preset or inputs: planned and admitted, then applied as a job (dryRun: the plan only)', params: claimParams, body: UpgradeClaimBody, response: { 200: z.object({ plan: PlanView }), 202: z.object({ claim: ClaimView, plan: PlanView }), ...errorResponses } } },
      async (request, reply) => {
        if (request.body.dryRun) return reply.code(200).send({ plan: await resources.planUpgrade(request.principal!, request.params.id, request.body) });
        return reply.code(202).send(await resources.upgrade(request.principal!, request.params.id, request.body));
      });

    app.post('/claims/:id/rotate', { config: { audit: 'resources.claim.rotate' }, schema: { tags, summary: 'Rotate the credentials: a new password on the server and a new secret version; the old one is revoked after the grace period', params: claimParams, body: RotateBody.default({}), response: { 202: OperationView, ...errorResponses } } },
      async (request, reply) => reply.code(202).send(await resources.rotate(request.principal!, request.params.id, request.body)));

    app.post('/claims/:id/backup', { config: { audit: 'resources.claim.backup' }, schema: { tags, summary: 'Take a backup now (kept for the module’s retention period)', params: claimParams, response: { 202: OperationView, ...errorResponses } } },
      async (request, reply) => reply.code(202).send(await resources.backup(request.principal!, request.params.id)));

    app.post('/claims/:id/restore', { config: { audit: 'resources.claim.restore' }, schema: { tags, summary: 'Load a backup into the claim (the newest when none is named); all or nothing', params: claimParams, body: RestoreBody.default({}), response: { 202: OperationView, ...errorResponses } } },
      async (request, reply) => reply.code(202).send(await resources.restore(request.principal!, request.params.id, request.body)));

    app.get('/claims/:id/backups', { schema: { tags, summary: 'Backups kept of the claim’s name and environment, newest first', params: claimParams, response: { 200: z.object({ items: z.array(BackupView) }), ...errorResponses } } },
      async (request) => ({ items: await resources.claimBackups(request.principal!, request.params.id) }));

    app.get('/claims/:id/operations', { schema: { tags, summary: 'Backups, restores and rotations of a claim, newest first', params: claimParams, response: { 200: z.object({ items: z.array(OperationView) }), ...errorResponses } } },
      async (request) => ({ items: await resources.listOperations(request.principal!, request.params.id) }));

    app.get('/claims/:id/operations/:operationId', { schema: { tags, summary: 'One operation on a claim', params: operationParams, response: { 200: OperationView, ...errorResponses } } },
      async (request) => resources.getOperation(request.principal!, request.params.id, request.params.operationId));

    app.get('/orphans', { schema: { tags, summary: 'Objects on the provider servers named like a claim’s that no claim holds (platform admins)', response: { 200: OrphanReport, ...errorResponses } } },
      async (request) => resources.orphans(request.principal!));

    app.post('/drift/check', { config: { audit: 'resources.drift.check' }, schema: { tags, summary: 'Compare every ready claim with its server now (platform admins)', response: { 200: z.object({ checked: z.number(), drifted: z.number() }), ...errorResponses } } },
      async (request) => resources.checkDrift(request.principal!));

    app.get('/costs', { schema: { tags, summary: 'Monthly cost of the live claims by team, cost-center or environment', querystring: CostQuery, response: { 200: z.object({ items: z.array(CostLine) }), ...errorResponses } } },
      async (request) => ({ items: await resources.costs(request.principal!, request.query.by) }));

    app.get('/backups', { schema: { tags, summary: 'Final backups of deprovisioned claims, kept for the retention period', response: { 200: z.object({ items: z.array(BackupView) }), ...errorResponses } } },
      async (request) => ({ items: await resources.backups(request.principal!) }));

    app.get('/secrets', { schema: { tags, summary: 'Secrets of your teams (names, keys, versions; never values)', response: { 200: z.object({ items: z.array(SecretView) }), ...errorResponses } } },
      async (request) => ({ items: await resources.secrets.list(request.principal!) }));

    app.post('/secrets', { config: { audit: 'resources.secret.create' }, schema: { tags, summary: 'Create a secret owned by a team', body: CreateSecretBody, response: { 201: SecretView, ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await resources.secrets.create(request.principal!, request.body)));

    // Before `/secrets/:name`: the secret store's master keys (issue 8); the names `keys` and `rewrap` are reserved.
    app.get('/secrets/keys', { schema: { tags, summary: 'The master keyring: current and previous key ids, and secret versions per key (platform admins; never key material)', response: { 200: SecretKeysView, ...errorResponses } } },
      async (request) => resources.secrets.keys(request.principal!));

    app.post('/secrets/rewrap', { config: { audit: 'resources.secrets.rewrap' }, schema: { tags, summary: 'Re-wrap every secret version still on a previous master key with the current one, as a job (platform admins); reads and writes go on', body: RewrapBody.default({ batchSize: 500 }), response: { 202: RewrapStarted, ...errorResponses } } },
      async (request, reply) => reply.code(202).send(await resources.secrets.rewrap(request.principal!, request.body)));

    app.get('/secrets/:name', { schema: { tags, summary: 'A secret’s metadata', params: secretParams, response: { 200: SecretView, ...errorResponses } } },
      async (request) => resources.secrets.get(request.principal!, request.params.name));

    app.put('/secrets/:name', { config: { audit: 'resources.secret.rotate' }, schema: { tags, summary: 'Add a version (rotation); earlier versions are kept', params: secretParams, body: PutSecretVersionBody, response: { 200: SecretView, ...errorResponses } } },
      async (request) => resources.secrets.addVersion(request.principal!, request.params.name, request.body));

    app.post('/secrets/:name/reveal', { config: { audit: 'resources.secret.reveal' }, schema: { tags, summary: 'The current value (owner team or platform admins; recorded in the ledger)', params: secretParams, response: { 200: RevealedSecretView, ...errorResponses } } },
      async (request) => resources.secrets.reveal(request.principal!, request.params.name));

    app.delete('/secrets/:name', { config: { audit: 'resources.secret.delete' }, schema: { tags, summary: 'Delete a secret and every version', params: secretParams, response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await resources.secrets.delete(request.principal!, request.params.name);
        return reply.code(204).send(null);
      });
  };
}
