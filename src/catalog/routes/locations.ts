import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CatalogLocation } from '../model/types.js';
import { refFromParts } from '../model/refs.js';
import type { Catalog } from '../service.js';

const LocationInput = z.strictObject({
  type: z.enum(['url', 'file']).default('url'),
  target: z.string().min(1).max(2000),
  presence: z.enum(['required', 'optional']).optional(),
});
const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'a location id is a uuid') });
const nameParams = z.object({ kind: z.string().min(1).max(100), namespace: z.string().min(1).max(100), name: z.string().min(1).max(300) });

/** The wire shape of a location (Backstage's `{id, type, target, entityRef}`). */
const wire = (l: CatalogLocation) => ({ id: l.id, type: l.type, target: l.target, entityRef: l.entityRef });

/** Backstage's location routes under /api/catalog (NOTES.md b, rows 12-19). */
export function locationRoutes(catalog: Catalog): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/locations',
      {
        config: { audit: 'catalog.location.register' },
        schema: {
          tags: ['catalog'],
          summary: 'Register a location (entities are stored before this returns); dryRun=true only reads it',
          querystring: z.looseObject({ dryRun: z.enum(['true', 'false']).optional(), onConflict: z.enum(['reject', 'refresh']).optional() }),
          body: LocationInput,
        },
      },
      async (request, reply) => {
        const result = await catalog.addLocation(request.principal!, request.body, { dryRun: request.query.dryRun === 'true', onConflict: request.query.onConflict });
        return reply.code(201).send({ location: wire(result.location), entities: result.entities, ...(result.exists !== undefined ? { exists: result.exists } : {}) });
      },
    );

    app.get('/locations', { schema: { tags: ['catalog'], summary: 'Every registered location, each wrapped as {data}' } }, async (request) =>
      (await catalog.listLocations(request.principal!)).map((l) => ({ data: wire(l) })),
    );

    app.post(
      '/locations/by-query',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Locations, paged',
          body: z.looseObject({ limit: z.number().int().min(1).max(10_000).optional(), cursor: z.string().max(1000).optional(), query: z.unknown().optional() }),
        },
      },
      async (request) => {
        const all = await catalog.listLocations(request.principal!);
        const limit = request.body.limit ?? 100;
        const offset = request.body.cursor ? Number(Buffer.from(request.body.cursor, 'base64').toString('utf8')) || 0 : 0;
        const items = all.slice(offset, offset + limit).map(wire);
        const next = offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64') : undefined;
        return { items, totalItems: all.length, pageInfo: next ? { nextCursor: next } : {} };
      },
    );

    app.get('/locations/:id', { schema: { tags: ['catalog'], summary: 'A location', params: idParams } }, async (request) =>
      wire(await catalog.getLocation(request.principal!, request.params.id)),
    );

    app.put(
      '/locations/:id',
      { config: { audit: 'catalog.location.update' }, schema: { tags: ['catalog'], summary: 'Point a location at a new target', params: idParams, body: LocationInput } },
      async (request) => wire(await catalog.updateLocation(request.principal!, request.params.id, request.body)),
    );

    app.delete(
      '/locations/:id',
      { config: { audit: 'catalog.location.remove' }, schema: { tags: ['catalog'], summary: 'Remove a location and the entities it produced', params: idParams } },
      async (request, reply) => {
        await catalog.removeLocation(request.principal!, request.params.id);
        return reply.code(204).send();
      },
    );

    app.get('/locations/by-entity/:kind/:namespace/:name', { schema: { tags: ['catalog'], summary: 'The location an entity came from', params: nameParams } }, async (request) => {
      const p = request.params;
      return wire(await catalog.getLocationByEntity(request.principal!, refFromParts(p.kind, p.namespace, p.name)));
    });

    app.post(
      '/analyze-location',
      {
        config: { audit: false },
        schema: {
          tags: ['catalog'],
          summary: 'What registering a location would import',
          body: z.looseObject({ location: z.object({ type: z.enum(['url', 'file']).default('url'), target: z.string().min(1).max(2000) }), catalogFilename: z.string().max(200).optional() }),
        },
      },
      async (request, reply) => {
        const spec = request.body.location;
        const dry = await catalog.addLocation(request.principal!, spec, { dryRun: true });
        const existingEntityFiles = await Promise.all(
          dry.entities.map(async (entity) => {
            const ref = refFromParts(entity.kind, entity.metadata.namespace ?? 'default', entity.metadata.name);
            const found = await catalog.getEntityByRef(request.principal!, ref);
            return { location: { type: spec.type, target: spec.target }, isRegistered: found !== undefined, entity };
          }),
        );
        return reply.code(200).send({ existingEntityFiles, generateEntities: [] });
      },
    );
  };
}
