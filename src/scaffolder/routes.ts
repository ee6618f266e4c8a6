import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, idParam, type EventStreams } from '../kernel/index.js';
import { CreateTaskInput, DryRunInput, RetryTaskInput, EventStreamQuery, ListTasksQuery, ShownStepsInput, TaskEventView, TaskView, TemplateParams } from './model.js';
import type { Scaffolder } from './service.js';

const tags = ['scaffolder'];

/** `/api/scaffolder/v2/…`: Backstage's scaffolder v2 routes, so Backstage's ScaffolderClient works against them. */
export function scaffolderRoutes(scaffolder: Scaffolder, streams: EventStreams): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v2/templates/:namespace/:kind/:name/parameter-schema',
      { schema: { tags, summary: "A template's parameter pages as JSON Schema", params: TemplateParams, response: { 200: z.object({ title: z.string(), description: z.string().optional(), steps: z.array(z.object({ title: z.string(), description: z.string().optional(), schema: z.record(z.string(), z.unknown()) })) }), ...errorResponses } } },
      async (request) => scaffolder.getParameterSchema(request.principal!, request.params),
    );

    app.post(
      '/v2/templates/:namespace/:kind/:name/shown-steps',
      { schema: { tags, summary: "Plinth's: which parameter pages show for the values so far (each page's `when`)", params: TemplateParams, body: ShownStepsInput, response: { 200: z.object({ shown: z.array(z.boolean()) }), ...errorResponses } } },
      async (request) => ({ shown: await scaffolder.shownSteps(request.principal!, request.params, request.body.values) }),
    );

    app.get(
      '/v2/actions',
      { schema: { tags, summary: 'The actions templates may use, with their input and output schemas', response: { 200: z.array(z.object({ id: z.string(), description: z.string(), schema: z.object({ input: z.unknown(), output: z.unknown().optional() }), supportsDryRun: z.boolean() })), ...errorResponses } } },
      async (request) => scaffolder.listActions(request.principal!),
    );

    app.post(
      '/v2/tasks',
      { config: { audit: 'scaffolder.task.create' }, schema: { tags, summary: 'Run a template: 201 with the task id; 400 naming every field that violates the parameters', body: CreateTaskInput, response: { 201: z.object({ id: z.string() }), ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await scaffolder.createTask(request.principal!, request.body)),
    );

    app.get(
      '/v2/tasks',
      { schema: { tags, summary: 'Tasks, newest first', querystring: ListTasksQuery, response: { 200: z.object({ tasks: z.array(TaskView), totalTasks: z.number() }), ...errorResponses } } },
      async (request) => scaffolder.listTasks(request.principal!, request.query),
    );

    app.get(
      '/v2/tasks/:id',
      { schema: { tags, summary: 'A task: spec, status, per-step state, output', params: idParam, response: { 200: TaskView, ...errorResponses } } },
      async (request) => scaffolder.getTask(request.principal!, request.params.id),
    );

    app.get(
      '/v2/tasks/:id/events',
      { schema: { tags, summary: "A task's events after an id", params: idParam, querystring: EventStreamQuery, response: { 200: z.array(TaskEventView), ...errorResponses } } },
      async (request) => scaffolder.listEvents(request.principal!, request.params.id, request.query.after),
    );

    app.get(
      '/v2/tasks/:id/eventstream',
      { schema: { tags, summary: "A task's log and completion events as Server-Sent Events; ends after completion", params: idParam, querystring: EventStreamQuery } },
      async (request, reply) => {
        const header = Number(request.headers['last-event-id']);
        const after = Number.isInteger(header) && header >= 0 ? header : request.query.after;
        // Resolve the task before taking over the response, so a missing task is a plain 404.
        const pending: z.infer<typeof TaskEventView>[] = [];
        let send = (event: z.infer<typeof TaskEventView>) => void pending.push(event);
        const unsubscribe = await scaffolder.watchEvents(request.principal!, request.params.id, after, (event) => send(event));
        const stream = streams.open(request, reply);
        stream.onClose(unsubscribe);
        send = (event) => {
          stream.send({ id: String(event.id), event: event.type, data: JSON.stringify(event) });
          if (event.type === 'completion') stream.close();
        };
        for (const event of pending.splice(0)) send(event);
        return reply;
      },
    );

    app.post(
      '/v2/tasks/:id/cancel',
      { config: { audit: 'scaffolder.task.cancel' }, schema: { tags, summary: 'Cancel a task: at once when open, between (or inside waiting) steps when processing', params: idParam, response: { 200: z.object({ status: z.string() }), ...errorResponses } } },
      async (request) => ({ status: (await scaffolder.cancelTask(request.principal!, request.params.id)).status }),
    );

    app.post(
      '/v2/tasks/:id/retry',
      { config: { audit: 'scaffolder.task.retry' }, schema: { tags, summary: 'Run a failed task again from its first failed step, reusing its workspace and the outputs of the steps that succeeded', params: idParam, body: RetryTaskInput.nullish(), response: { 201: z.object({ id: z.string() }), ...errorResponses } } },
      async (request, reply) => reply.code(201).send({ id: (await scaffolder.retryTask(request.principal!, request.params.id, request.body ?? {})).id }),
    );

    app.post(
      '/v2/dry-run',
      { schema: { tags, summary: 'Run a template with no side effects: the rendered files, the step log and output', body: DryRunInput } },
      async (request) => scaffolder.dryRun(request.principal!, request.body),
    );
  };
}
