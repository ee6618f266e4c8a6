import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../kernel/index.js';
import {
  BudgetView,
  budgetScopes,
  CheckBody,
  CreateExceptionBody,
  DecisionView,
  ExceptionView,
  PolicyDetailView,
  PolicyView,
  PutBudgetBody,
  PutPolicyBody,
  ViolationsQuery,
  ViolationView,
} from './guardrails/model.js';
import type { Policy } from './service.js';

const tags = ['policy'];
const nameParam = z.object({ name: z.string().min(1).max(253) });
const budgetParams = z.object({ scope: z.enum(budgetScopes), name: z.string().min(1).max(253) });

/** `/api/policy`: policies, the check playground, exceptions, budgets and violations. */
export function policyRoutes(policy: Policy): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/policies', { schema: { tags, summary: 'Every policy with its mode, points and violation count', response: { 200: z.object({ items: z.array(PolicyView) }), ...errorResponses } } },
      async (request) => ({ items: await policy.listPolicies(request.principal!) }));

    app.get('/policies/:name', { schema: { tags, summary: 'A policy with its YAML', params: nameParam, response: { 200: PolicyDetailView, ...errorResponses } } },
      async (request) => policy.getPolicy(request.principal!, request.params.name));

    app.put('/policies/:name', {
      config: { audit: 'policy.policy.put' },
      schema: { tags, summary: 'Create or replace a policy (Kyverno ClusterPolicy/Policy or GuardrailPolicy YAML); platform admins only', params: nameParam, body: PutPolicyBody, response: { 200: PolicyDetailView, 201: PolicyDetailView, ...errorResponses } },
    }, async (request, reply) => {
      const { policy: saved, created } = await policy.putPolicy(request.principal!, request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(saved);
    });

    app.delete('/policies/:name', { config: { audit: 'policy.policy.delete' }, schema: { tags, summary: 'Delete a custom policy, or disable a built-in one', params: nameParam, response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await policy.deletePolicy(request.principal!, request.params.name);
        return reply.code(204).send(null);
      });

    app.post('/check', {
      // A dry run changes nothing; it is not an audited action.
      config: { audit: false },
      schema: { tags, summary: 'Judge objects against every policy at a point, recording nothing (the playground)', body: CheckBody, response: { 200: z.object({ decisions: z.array(DecisionView) }), ...errorResponses } },
    }, async (request) => ({ decisions: await policy.check(request.principal!, request.body) }));

    app.get('/exceptions', { schema: { tags, summary: 'Policy exceptions in force (and expired ones with ?all=true)', querystring: z.object({ policy: z.string().optional(), all: z.enum(['true', 'false']).default('false') }), response: { 200: z.object({ items: z.array(ExceptionView) }), ...errorResponses } } },
      async (request) => ({ items: await policy.listExceptions(request.principal!, { policy: request.query.policy, includeExpired: request.query.all === 'true' }) }));

    app.post('/exceptions', { config: { audit: 'policy.exception.create' }, schema: { tags, summary: 'Grant an exception (platform admins; the approver is recorded)', body: CreateExceptionBody, response: { 201: ExceptionView, ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await policy.createException(request.principal!, request.body)));

    app.delete('/exceptions/:id', { config: { audit: 'policy.exception.delete' }, schema: { tags, summary: 'Withdraw an exception', params: z.object({ id: z.string().min(1) }), response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await policy.deleteException(request.principal!, request.params.id);
        return reply.code(204).send(null);
      });

    app.get('/budgets', { schema: { tags, summary: 'Monthly budgets per team and cost-center', response: { 200: z.object({ items: z.array(BudgetView) }), ...errorResponses } } },
      async (request) => ({ items: await policy.listBudgets(request.principal!) }));

    app.put('/budgets/:scope/:name', { config: { audit: 'policy.budget.put' }, schema: { tags, summary: 'Set a monthly budget (platform admins)', params: budgetParams, body: PutBudgetBody, response: { 200: BudgetView, ...errorResponses } } },
      async (request) => policy.putBudget(request.principal!, request.params.scope, request.params.name, request.body));

    app.delete('/budgets/:scope/:name', { config: { audit: 'policy.budget.delete' }, schema: { tags, summary: 'Remove a budget', params: budgetParams, response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await policy.deleteBudget(request.principal!, request.params.scope, request.params.name);
        return reply.code(204).send(null);
      });

    app.post('/scan', { config: { audit: 'policy.scan.run' }, schema: { tags, summary: 'Run the background scan of everything running now (platform admins); it also runs every few minutes', response: { 200: z.object({ objects: z.number().int(), violating: z.number().int(), changed: z.number().int() }), ...errorResponses } } },
      async (request) => policy.scan(request.principal!));

    app.get('/violations', { schema: { tags, summary: 'Current violations from the latest decisions, by team, policy or subject', querystring: ViolationsQuery, response: { 200: z.object({ items: z.array(ViolationView) }), ...errorResponses } } },
      async (request) => ({ items: await policy.violations(request.principal!, request.query) }));
  };
}
