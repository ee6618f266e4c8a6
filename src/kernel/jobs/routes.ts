import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../auth/model.js';
import { errorResponses, idParam } from '../http/schemas.js';
import { JobListQuery, JobView } from './model.js';
import type { Jobs } from './service.js';

const adminJobs = { name: 'administer the job queue', verb: 'admin' } as const;
const JobProgressView = z.object({ seq: z.number(), time: z.string(), message: z.string(), data: z.unknown() });

/** `/api/jobs`: the queue seen by platform admins (each layer shows its own jobs in its own terms). */
export function jobRoutes(jobs: Jobs): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: 'List jobs, newest first (admins)',
          querystring: JobListQuery,
          response: { 200: z.object({ items: z.array(JobView), nextCursor: z.string().nullable() }), ...errorResponses },
        },
      },
      async (request) => {
        authorize(request.principal!, adminJobs);
        return jobs.list(request.query);
      },
    );
    app.get(
      '/jobs/:id',
      {
        schema: {
          tags: ['jobs'],
          summary: 'A job with its progress records (admins)',
          params: idParam,
          response: { 200: JobView.extend({ progress: z.array(JobProgressView) }), ...errorResponses },
        },
      },
      async (request) => {
        authorize(request.principal!, adminJobs);
        const job = await jobs.get(request.params.id);
        return { ...job, progress: await jobs.progress(job.id) };
      },
    );
    app.post(
      '/jobs/:id/cancel',
      { config: { audit: 'jobs.cancel' }, schema: { tags: ['jobs'], summary: 'Cancel a queued or running job (admins)', params: idParam, response: { 200: JobView, ...errorResponses } } },
      async (request) => {
        authorize(request.principal!, adminJobs);
        return jobs.cancel(request.params.id);
      },
    );
    app.post(
      '/jobs/:id/retry',
      { config: { audit: 'jobs.retry' }, schema: { tags: ['jobs'], summary: 'Requeue a dead, failed or cancelled job (admins)', params: idParam, response: { 200: JobView, ...errorResponses } } },
      async (request) => {
        authorize(request.principal!, adminJobs);
        return jobs.retry(request.params.id);
      },
    );
  };
}
