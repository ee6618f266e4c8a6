import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, idParam, type EventStreams } from '../kernel/index.js';
import { releasePhases } from './model/index.js';
import type { Runtime } from './service.js';

const tags = ['runtime'];
const label = z.string().regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label').max(63);
const serviceEnvParams = z.strictObject({ service: label, environment: label });
const ReleaseView = z.object({
  id: z.string(), service: z.string(), environment: z.string(), version: z.string(), phase: z.enum(releasePhases), message: z.string().nullable(),
  artifactDigest: z.string(), replicas: z.number(), createdBy: z.string(), createdAt: z.string(), updatedAt: z.string(),
});
const ReplicaView = z.object({ ordinal: z.number(), port: z.number(), pid: z.number().optional(), phase: z.string(), restarts: z.number(), lastExit: z.string().optional(), lastProbe: z.string().optional() });
const LogLineView = z.object({ time: z.string(), service: z.string(), environment: z.string(), releaseId: z.string(), replica: z.number(), stream: z.enum(['stdout', 'stderr']), text: z.string() });
const LogQuery = z.strictObject({
  grep: z.string().max(500).optional(),
  since: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});
const SplitView = z.object({ stable: z.string(), canary: z.string().optional(), canaryWeightPercent: z.number(), sticky: z.boolean() });
const StatsView = z.object({
  releaseId: z.string(), requests: z.number(), statusClasses: z.record(z.string(), z.number()),
  latency: z.object({ bucketsMs: z.array(z.number()).readonly(), counts: z.array(z.number()), sumMs: z.number() }),
});

/** `/api/runtime`: releases, replicas, traffic and logs (follow with SSE). Deploys go through `/api/delivery`. */
export function runtimeRoutes(runtime: Runtime, streams: EventStreams): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/releases', { schema: { tags, summary: 'Releases, newest first', querystring: z.strictObject({ service: label.optional(), environment: label.optional() }), response: { 200: z.object({ items: z.array(ReleaseView) }), ...errorResponses } } },
      async (request) => ({
        items: (await runtime.releases(request.principal!, request.query)).map((r) => ({ ...r, artifactDigest: r.spec.artifact.digest, replicas: r.spec.replicas })),
      }));

    app.get('/releases/:id', { schema: { tags, summary: 'A release with its replicas', params: idParam, response: { 200: ReleaseView.extend({ replicaStatus: z.array(ReplicaView) }), ...errorResponses } } },
      async (request) => {
        const r = await runtime.release(request.principal!, request.params.id);
        return { ...r, artifactDigest: r.spec.artifact.digest, replicas: r.spec.replicas, replicaStatus: runtime.replicas(request.principal!, r.id) };
      });

    app.get('/releases/:id/manifests', { schema: { tags, summary: 'The Kubernetes-shaped manifests the release is rendered as', params: idParam, response: { 200: z.object({ items: z.array(z.record(z.string(), z.unknown())) }), ...errorResponses } } },
      async (request) => ({ items: await runtime.manifests(request.principal!, request.params.id) }));

    app.get('/services/:service/environments/:environment/traffic', { schema: { tags, summary: 'The traffic split and per-release gateway counters', params: serviceEnvParams, response: { 200: z.object({ split: SplitView.nullable(), stats: z.array(StatsView) }), ...errorResponses } } },
      async (request) => {
        const { service, environment } = request.params;
        return { split: runtime.traffic(request.principal!, service, environment) ?? null, stats: runtime.trafficStats(request.principal!, service, environment) };
      });

    app.get('/services/:service/environments/:environment/logs', { schema: { tags, summary: 'Captured stdout/stderr of every replica (secrets masked), filtered by a regular expression', params: serviceEnvParams, querystring: LogQuery, response: { 200: z.object({ items: z.array(LogLineView) }), ...errorResponses } } },
      async (request) => ({ items: await runtime.logs(request.principal!, request.params.service, request.params.environment, request.query) }));

    app.get('/services/:service/environments/:environment/logs/stream', { schema: { tags, summary: 'New log lines as Server-Sent Events (`line` events)', params: serviceEnvParams, querystring: LogQuery.pick({ grep: true }) } },
      async (request, reply) => {
        // Subscribing first authorizes and checks the pattern (403/400) before the reply becomes a stream.
        const pending: string[] = [];
        const opened: { send?: (data: string) => void } = {};
        const unsubscribe = runtime.followLogs(request.principal!, request.params.service, request.params.environment, request.query, (line) => {
          const data = JSON.stringify(line);
          if (opened.send) opened.send(data);
          else pending.push(data);
        });
        const stream = streams.open(request, reply);
        opened.send = (data) => stream.send({ event: 'line', data });
        stream.onClose(unsubscribe);
        for (const data of pending.splice(0)) opened.send(data);
        return reply;
      });
  };
}
