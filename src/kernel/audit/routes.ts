import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../http/schemas.js';
import { AuditEntry, AuditQuery } from './model.js';
import type { Audit } from './service.js';

/** `/api/audit`. */
export function auditRoutes(audit: Audit): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/audit',
      {
        schema: {
          tags: ['audit'],
          summary: 'Read the audit log, newest first (admins)',
          querystring: AuditQuery,
          response: { 200: z.object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() }), ...errorResponses },
        },
      },
      async (request) => audit.list(request.principal!, request.query),
    );
  };
}
