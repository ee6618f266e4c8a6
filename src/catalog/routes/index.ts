import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Catalog } from '../service.js';
import { entityRoutes } from './entities.js';
import { locationRoutes } from './locations.js';

/** The Backstage-compatible catalog API, mounted at /api/catalog. */
export function catalogRoutes(catalog: Catalog): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(entityRoutes(catalog));
    await app.register(locationRoutes(catalog));
  };
}
