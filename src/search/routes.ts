import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { SearchQuery } from './model.js';
import type { Search } from './service.js';

/** `/api/search/query`, in the shape of Backstage's search API. */
export function searchRoutes(search: Search): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/query', { schema: { tags: ['search'], summary: 'Ranked full-text search over entities and docs, with filters and highlights', querystring: SearchQuery } }, async (request) =>
      search.query(request.principal!, request.query),
    );
  };
}
