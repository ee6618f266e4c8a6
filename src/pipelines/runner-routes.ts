import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { errorResponses } from '../kernel/index.js';
import { MAX_RUNNER_LABELS, RUNNER_LABEL, RunView, stageNames, StepView, TestView } from './model/index.js';
import type { LeaseRef, RunnerBroker } from './runner-broker.js';

const tags = ['pipelines'];
/** Compressed workspace a runner may send for platform steps. */
const MAX_WORKSPACE_BYTES = 2 * 1024 ** 3;

const ClaimInput = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'a runner name is letters, digits, . _ : -'),
  labels: z.array(z.string().regex(RUNNER_LABEL, 'a label is lowercase letters, digits, . and -')).max(MAX_RUNNER_LABELS).default([]),
  leaseSeconds: z.number().int().min(2).max(600).default(30),
  waitSeconds: z.number().int().min(0).max(30).default(20),
});
const Assignment = z.object({
  lease: z.object({ jobId: z.string(), token: z.string(), leaseMs: z.number() }),
  run: RunView,
  resumed: z.boolean(),
  checkout: z.union([z.object({ kind: z.literal('hosted'), repository: z.string() }), z.object({ kind: z.literal('url'), url: z.string(), username: z.string().optional(), password: z.string().optional() })]),
  secrets: z.record(z.string(), z.string()),
  maskValues: z.array(z.string()),
});
const LeaseParams = z.object({ jobId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/) });
const LeaseHeaders = z.object({ 'x-plinth-lease': z.string().min(1).max(200) }).passthrough();
const StepInput = StepView.extend({ stage: z.enum(stageNames) });
const LogEntryInput = z.strictObject({ time: z.string().max(40), step: z.string().max(100), stream: z.enum(['stdout', 'stderr', 'system']), text: z.string().max(64 * 1024) });
const PlatformStepInput = z.strictObject({
  uses: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/),
  generation: z.number().int().min(0),
  inputs: z.record(z.string(), z.unknown()),
  env: z.record(z.string(), z.string()),
});
const PlatformStepResultView = z.object({ status: z.enum(['passed', 'failed', 'skipped', 'not-installed']), message: z.string().optional(), outputs: z.record(z.string(), z.unknown()).optional() });

const lease = (params: { jobId: string }, headers: { 'x-plinth-lease': string }): LeaseRef => ({ jobId: params.jobId, token: headers['x-plinth-lease'] });

/**
 * `/api/pipelines/runner`: what an external runner (`plinth runner`) calls. Claim a run (long poll), then,
 * under its lease (header `x-plinth-lease`), heartbeat, record steps, logs and tests, send the workspace
 * for platform steps, run them, and finish. A lease that was lost answers 409: the runner stops.
 */
export function runnerRoutes(broker: RunnerBroker): FastifyPluginAsyncZod {
  return async (app) => {
    // The workspace archive streams straight into tar; no parser buffers it.
    app.addContentTypeParser('application/gzip', (_request, payload, done) => done(null, payload));

    app.post('/claim', { schema: { tags, summary: 'Claim a queued run whose labels this runner has (waits up to waitSeconds); 204 when none', body: ClaimInput, response: { 200: Assignment, 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        const abort = new AbortController();
        // The response's close: the runner went away (or the answer went out); a request's close fires once its body is read.
        reply.raw.once('close', () => abort.abort());
        const { name, labels, leaseSeconds, waitSeconds } = request.body;
        const assignment = await broker.claim(request.principal!, { name, labels, leaseMs: leaseSeconds * 1000, waitMs: waitSeconds * 1000, signal: abort.signal });
        if (!assignment) return reply.code(204).send(null);
        return assignment;
      });

    app.post('/leases/:jobId/heartbeat', { schema: { tags, summary: 'Extend the lease; says whether the run was cancelled', params: LeaseParams, headers: LeaseHeaders, body: z.strictObject({ leaseSeconds: z.number().int().min(2).max(600) }), response: { 200: z.object({ state: z.enum(['held', 'cancel-requested']) }), ...errorResponses } } },
      async (request) => ({ state: await broker.heartbeat(request.principal!, lease(request.params, request.headers), request.body.leaseSeconds * 1000) }));

    app.post('/leases/:jobId/logs', { schema: { tags, summary: 'Append log lines (masked) to the run', params: LeaseParams, headers: LeaseHeaders, body: z.strictObject({ lines: z.array(LogEntryInput).max(1000) }), response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await broker.appendLogs(request.principal!, lease(request.params, request.headers), request.body.lines);
        return reply.code(204).send(null);
      });

    app.put('/leases/:jobId/steps', { schema: { tags, summary: 'Replace the run’s steps (its plan)', params: LeaseParams, headers: LeaseHeaders, body: z.strictObject({ steps: z.array(StepInput).max(500) }), response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await broker.replaceSteps(request.principal!, lease(request.params, request.headers), request.body.steps);
        return reply.code(204).send(null);
      });

    app.put('/leases/:jobId/steps/:name', { schema: { tags, summary: 'Update one step; `finished` when it ended', params: LeaseParams.extend({ name: z.string().max(100) }), headers: LeaseHeaders, body: z.strictObject({ step: StepInput, finished: z.boolean() }), response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await broker.updateStep(request.principal!, lease(request.params, request.headers), { ...request.body.step, name: request.params.name }, request.body.finished);
        return reply.code(204).send(null);
      });

    app.put('/leases/:jobId/tests/:name', { schema: { tags, summary: 'Replace the test results of one step', params: LeaseParams.extend({ name: z.string().max(100) }), headers: LeaseHeaders, body: z.strictObject({ tests: z.array(TestView).max(20_000) }), response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await broker.replaceTestResults(request.principal!, lease(request.params, request.headers), request.params.name, request.body.tests);
        return reply.code(204).send(null);
      });

    app.put('/leases/:jobId/workspace/:generation', { schema: { tags, summary: 'Send the workspace (.tar.gz, Content-Type application/gzip) that the next platform steps run on', params: LeaseParams.extend({ generation: z.coerce.number().int().min(0) }), headers: LeaseHeaders, response: { 200: z.object({ bytes: z.number() }), ...errorResponses } } },
      async (request) => broker.receiveWorkspace(request.principal!, lease(request.params, request.headers), request.params.generation, request.body as Readable, MAX_WORKSPACE_BYTES));

    app.post('/leases/:jobId/platform-steps/:name', { schema: { tags, summary: 'Run a platform step (scan, sign, deploy) in the server on the uploaded workspace', params: LeaseParams.extend({ name: z.string().max(100) }), headers: LeaseHeaders, body: PlatformStepInput, response: { 200: PlatformStepResultView, ...errorResponses } } },
      async (request) => {
        const result = await broker.runPlatformStep(request.principal!, lease(request.params, request.headers), { step: request.params.name, ...request.body });
        return result === 'not-installed' ? { status: 'not-installed' as const } : result;
      });

    app.post('/leases/:jobId/finish', { schema: { tags, summary: 'End the run: completed (status from its steps), cancelled, or interrupted (back to the queue)', params: LeaseParams, headers: LeaseHeaders, body: z.strictObject({ outcome: z.enum(['completed', 'cancelled', 'interrupted']) }), response: { 200: RunView, ...errorResponses } } },
      async (request) => broker.finish(request.principal!, lease(request.params, request.headers), request.body.outcome));
  };
}
