import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../auth/model.js';
import { errorResponses } from '../http/schemas.js';
import type { EventStreams } from '../http/sse.js';
import { EventQuery, EventStreamQuery, LedgerEventView } from './model.js';
import type { Ledger } from './service.js';

const readEvents = { name: 'read the event ledger', verb: 'read' } as const;

/** `/api/events` and `/api/events/stream` (Server-Sent Events). */
export function ledgerRoutes(ledger: Ledger, streams: EventStreams): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/events',
      {
        schema: {
          tags: ['events'],
          summary: 'Query the ledger in sequence order; page with afterSeq=nextCursor',
          querystring: EventQuery,
          response: { 200: z.object({ items: z.array(LedgerEventView), nextCursor: z.string().nullable() }), ...errorResponses },
        },
      },
      async (request) => {
        authorize(request.principal!, readEvents);
        const { kind, subject, since, until, afterSeq, limit } = request.query;
        const items = await ledger.query({ kinds: kind, subject, since, until, afterSeq }, limit);
        const last = items[items.length - 1];
        return { items, nextCursor: items.length === limit && last ? String(last.seq) : null };
      },
    );

    app.get(
      '/events/stream',
      {
        schema: {
          tags: ['events'],
          summary: 'Live ledger as Server-Sent Events (id = seq; resumes from Last-Event-ID or afterSeq)',
          querystring: EventStreamQuery,
          headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }).passthrough(),
        },
      },
      async (request, reply) => {
        authorize(request.principal!, readEvents);
        const { kind, subject } = request.query;
        const afterSeq = request.headers['last-event-id'] ?? request.query.afterSeq ?? request.query.after;
        const stream = streams.open(request, reply);
        const subscription = ledger.subscribe({ kinds: kind, subject, afterSeq }, (event) =>
          stream.send({ id: String(event.seq), event: event.kind, data: JSON.stringify(event) }),
        );
        stream.onClose(() => subscription.close());
        subscription.ready.catch(() => stream.close());
        await subscription.ready.catch(() => undefined);
        stream.comment('ready');
        return reply;
      },
    );
  };
}
