import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Jobs } from '../jobs/service.js';
import type { Ledger } from '../ledger/service.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/index.js';
import { errorResponses } from './schemas.js';
import { HEALTHZ_BODY } from './server.js';


export const StatusView = z.object({
  version: z.string(),
  uptimeS: z.number(),
  dialect: z.enum(['sqlite', 'postgres']),
  queue: z.object({ queued: z.number(), running: z.number(), dead: z.number() }),
  ledger: z.object({ lastSeq: z.number() }),
});
export type StatusView = z.infer<typeof StatusView>;

/** `/healthz` (process is up), `/readyz` (store reachable, migrations applied), `/metrics`, `/api/status`. */
export function healthRoutes(deps: { store: Store; jobs: Jobs; ledger: Ledger; metrics: Metrics; version: string; startedAt: number }): FastifyPluginAsyncZod {
  const { store, jobs, ledger, metrics } = deps;
  return async (app) => {
    app.get(
      '/healthz',
      { config: { auth: 'public' }, schema: { tags: ['health'], summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } } },
      // Over a socket the kernel's front end answers before node:http parses the request (server.ts); this route documents it and answers requests handed to node:http.
      (_request, reply) => {
        void reply.type('application/json; charset=utf-8').send(HEALTHZ_BODY as unknown as { status: 'ok' });
      },
    );
    app.get(
      '/readyz',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['health'],
          summary: 'Readiness: the store answers and every migration has run',
          response: {
            200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }),
            503: z.object({ status: z.literal('unavailable'), checks: z.record(z.string(), z.string()) }),
          },
        },
      },
      async (_request, reply) => {
        const checks: Record<string, string> = {};
        try {
          await store.ping();
          checks.store = 'ok';
          checks.migrations = (await store.migrationsApplied()) ? 'ok' : 'pending';
        } catch (err) {
          checks.store = `unreachable: ${store.dialect.isUnavailable(err) ? 'connection failed' : 'query failed'}`;
        }
        const ready = Object.values(checks).every((v) => v === 'ok') && checks.migrations !== undefined;
        if (ready) return { status: 'ready' as const, checks };
        return reply.code(503).send({ status: 'unavailable' as const, checks });
      },
    );
    app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics', hide: true } }, async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    });
    app.get(
      '/api/status',
      { schema: { tags: ['health'], summary: 'Server status: version, database, queue depth, ledger position', response: { 200: StatusView, ...errorResponses } } },
      async () => {
        const [counts, lastSeq] = await Promise.all([jobs.counts(), ledger.lastSeq()]);
        return {
          version: deps.version,
          uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
          dialect: store.dialect.name,
          queue: { queued: counts.queued, running: counts.running, dead: counts.dead },
          ledger: { lastSeq },
        };
      },
    );
  };
}
