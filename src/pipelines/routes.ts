import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, idParam, type EventStream, type EventStreams } from '../kernel/index.js';
import { createReadStream } from 'node:fs';
import { BuildArtifactView, DigestParam, ListRunsQuery, LogLineView, LogQuery, RunDetailView, RunView } from './model/index.js';
import type { Pipelines } from './service.js';
import { externalRepositoriesRoutes } from './external/index.js';
import { runnerRoutes } from './runner-routes.js';

const tags = ['pipelines'];

/** `/api/pipelines/runs`: list, show, logs (text and SSE), rerun, cancel; `/api/pipelines/artifacts`: what runs built. */
export function pipelinesRoutes(pipelines: Pipelines, streams: EventStreams): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(externalRepositoriesRoutes(pipelines.external));
    await app.register(runnerRoutes(pipelines.runners), { prefix: '/runner' });
    app.get('/runs', { schema: { tags, summary: 'List runs, newest first (by repository, by status)', querystring: ListRunsQuery, response: { 200: z.object({ items: z.array(RunView), nextCursor: z.string().nullable() }), ...errorResponses } } },
      async (request) => pipelines.listRuns(request.principal!, request.query));

    app.get('/runs/:id', { schema: { tags, summary: 'A run with its stages, steps and test results', params: idParam, response: { 200: RunDetailView, ...errorResponses } } },
      async (request) => pipelines.getRun(request.principal!, request.params.id));

    app.get('/runs/:id/logs', { schema: { tags, summary: 'The run’s log lines as JSON, or as text with Accept: text/plain', params: idParam, querystring: LogQuery, response: { 200: z.union([z.object({ items: z.array(LogLineView) }), z.string()]), ...errorResponses } } },
      async (request, reply) => {
        const items = await pipelines.logs(request.principal!, request.params.id, request.query);
        if (!(request.headers.accept ?? '').includes('text/plain')) return { items };
        return reply.type('text/plain; charset=utf-8').send(items.map((l) => `${l.time} [${l.step}] ${l.text}\n`).join(''));
      });

    app.get('/runs/:id/logs/stream', {
      schema: { tags, summary: 'Log lines as Server-Sent Events (id = line seq; resumes from Last-Event-ID); an `end` event when the run is over', params: idParam, querystring: LogQuery.pick({ afterSeq: true }).extend({ after: LogQuery.shape.afterSeq }), headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }).passthrough() },
    }, async (request, reply) => {
      // `after` is what the portal's SSE hook sends when a hidden tab resumes (web/src/components/event-stream.ts).
      const afterSeq = request.headers['last-event-id'] ?? request.query.afterSeq ?? request.query.after ?? 0;
      // Lines arriving before the stream opens wait here: following authorizes (403/404) before the reply turns into a stream.
      const opened: { stream?: EventStream } = {};
      const early: ((s: EventStream) => void)[] = [];
      const deliver = (fn: (s: EventStream) => void) => (opened.stream ? fn(opened.stream) : early.push(fn));
      const unsubscribe = await pipelines.followLogs(
        request.principal!, request.params.id, afterSeq,
        (line) => deliver((s) => s.send({ id: String(line.seq), event: 'line', data: JSON.stringify(line) })),
        () => deliver((s) => { s.send({ event: 'end', data: '{}' }); s.close(); }),
      );
      const stream = streams.open(request, reply);
      opened.stream = stream;
      stream.onClose(unsubscribe);
      for (const fn of early.splice(0)) fn(stream);
      return reply;
    });

    app.get('/artifacts/:digest', { schema: { tags, summary: 'A build artifact: name, size, repository, commit and the run that built it', params: DigestParam, response: { 200: BuildArtifactView, ...errorResponses } } },
      async (request) => pipelines.getArtifact(request.principal!, request.params.digest));

    app.get('/artifacts/:digest/content', { schema: { tags, summary: 'The artifact’s bytes (.tgz), e.g. for `plinth verify`', params: DigestParam, response: { 200: z.unknown(), ...errorResponses } } },
      async (request, reply) => {
        const artifact = await pipelines.getArtifact(request.principal!, request.params.digest);
        return reply.type('application/gzip').header('content-disposition', `attachment; filename="${artifact.name}"`).send(createReadStream(pipelines.artifactFile(artifact.digest)));
      });

    app.post('/runs/:id/rerun', { config: { audit: 'pipelines.run.rerun' }, schema: { tags, summary: 'Run the same commit again (a new run)', params: idParam, response: { 201: RunView, ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await pipelines.rerun(request.principal!, request.params.id)));

    app.post('/runs/:id/cancel', { config: { audit: 'pipelines.run.cancel' }, schema: { tags, summary: 'Cancel a queued or running run', params: idParam, response: { 200: RunView, ...errorResponses } } },
      async (request) => pipelines.cancel(request.principal!, request.params.id));
  };
}
