import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { InputError, NotFoundError, type Principal } from '../../kernel/index.js';
import { matchAll, parseFieldsParam, parseFilterParams, parseOrderField, parsePredicate } from '../model/filters.js';
import { refFromParts } from '../model/refs.js';
import type { Catalog } from '../service.js';
import { decodeCursor, encodeCursor, filterOf, intParam, orderList, repeated, type CursorContent } from './params.js';

const nameParams = z.object({ kind: z.string().min(1).max(100), namespace: z.string().min(1).max(100), name: z.string().min(1).max(300) });
const uidParams = z.object({ uid: z.string().min(1).max(100) });
const DEFAULT_QUERY_LIMIT = 200;
const MAX_LIMIT = 10_000;

const notFound = (p: { kind: string; namespace: string; name: string }) =>
  new NotFoundError(`No entity named '${p.name}' found, with kind '${p.kind}' in namespace '${p.namespace}'`);

/**
 * Answers one page of by-query from decoded parameters (the same for GET, POST and cursors). Whole
 * entities go out as the JSON text the catalog keeps for them, written straight into the reply; a
 * `fields` projection takes the object path.
 */
async function queryPage(catalog: Catalog, principal: Principal, c: CursorContent, limit: number, fields: string[], reply: FastifyReply) {
  const filter = filterOf(c);
  const order = orderList(c.orderField);
  const fullText = c.fullText ? { term: c.fullText.term, fields: c.fullText.fields.length > 0 ? c.fullText.fields : [c.orderField?.field ?? 'metadata.uid'] } : undefined;
  const query = { filter, order, fullText, limit: limit + 1, offset: c.offset, withTotal: c.totalItems };
  const pageInfoOf = (more: boolean) => {
    const pageInfo: { nextCursor?: string; prevCursor?: string } = {};
    if (more) pageInfo.nextCursor = encodeCursor({ ...c, offset: c.offset + limit });
    if (c.offset > 0) pageInfo.prevCursor = encodeCursor({ ...c, offset: Math.max(0, c.offset - limit) });
    return pageInfo;
  };
  if (fields.length === 0) {
    const page = await catalog.queryEntitiesJson(principal, { ...query, pageSize: limit });
    // The body may be read from memory the page holds until the response is done (or cut short).
    if (reply.raw.destroyed || reply.request.raw.socket?.destroyed === true) page.release(); // the client is gone: no 'close' will come
    else reply.raw.once('finish', page.release).once('close', page.release);
    const close = `],"totalItems":${c.totalItems ? page.totalItems : 0},"pageInfo":${JSON.stringify(pageInfoOf(page.matched > limit))}}`;
    const body = page.body(close);
    reply.type('application/json; charset=utf-8');
    if (typeof body === 'string') return reply.send(body);
    // Bytes in shared memory: Fastify sends a view of a SharedArrayBuffer only as a stream.
    return reply.header('content-length', body.length).send(Readable.from([body], { objectMode: false }));
  }
  const page = await catalog.queryEntities(principal, { ...query, fields });
  const items = page.items.slice(0, limit);
  return { items, totalItems: c.totalItems ? page.totalItems : 0, pageInfo: pageInfoOf(page.items.length > limit) };
}

/** Backstage's entity routes under /api/catalog (NOTES.md b, rows 1-11). */
export function entityRoutes(catalog: Catalog): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/entities',
      {
        schema: {
          tags: ['catalog'],
          summary: 'List entities (a bare array; paginate with limit/offset/after)',
          querystring: z.looseObject({ filter: repeated, fields: repeated, order: repeated, limit: intParam(MAX_LIMIT), offset: intParam(1_000_000_000), after: z.string().max(500).optional() }),
        },
      },
      async (request, reply) => {
        const q = request.query;
        let limit = q.limit;
        let offset = q.offset ?? 0;
        if (q.after) {
          try {
            const after = JSON.parse(Buffer.from(q.after, 'base64').toString('utf8')) as { limit?: unknown; offset?: unknown };
            if (typeof after.limit !== 'number' || typeof after.offset !== 'number') throw new Error();
            limit = after.limit;
            offset = after.offset;
          } catch {
            throw new InputError('after: not a value this API returned; use the Link header of the previous page');
          }
        }
        const order = q.order.map((o) => parseOrderField(o, 'entities'));
        const page = await catalog.queryEntities(request.principal!, {
          filter: parseFilterParams(q.filter),
          order,
          limit: limit === undefined ? undefined : limit + 1,
          offset,
          fields: parseFieldsParam(q.fields),
          withTotal: false,
        });
        let items = page.items;
        if (limit !== undefined && items.length > limit) {
          items = items.slice(0, limit);
          const next = Buffer.from(JSON.stringify({ limit, offset: offset + limit })).toString('base64');
          const params = new URLSearchParams();
          for (const f of q.filter) params.append('filter', f);
          for (const o of q.order) params.append('order', o);
          if (q.fields.length) params.set('fields', q.fields.join(','));
          params.set('after', next);
          reply.header('link', `<${request.url.split('?')[0]}?${params.toString()}>; rel="next"`);
        }
        return items;
      },
    );

    app.get(
      '/entities/by-query',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Query entities with cursors and totals',
          querystring: z.looseObject({
            filter: repeated,
            fields: repeated,
            orderField: repeated,
            cursor: z.string().max(20_000).optional(),
            limit: intParam(MAX_LIMIT),
            offset: intParam(1_000_000_000),
            totalItems: z.enum(['include', 'exclude']).optional(),
            fullTextFilterTerm: z.string().max(200).optional(),
            fullTextFilterFields: repeated,
          }),
        },
      },
      async (request, reply) => {
        const q = request.query;
        const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
        const fields = parseFieldsParam(q.fields);
        if (q.cursor) return queryPage(catalog, request.principal!, decodeCursor(q.cursor), limit, fields, reply);
        const term = q.fullTextFilterTerm?.trim();
        const content: CursorContent = {
          v: 1,
          filter: q.filter,
          // Only the first orderField is honoured, as in Backstage (#17560).
          orderField: q.orderField[0] ? parseOrderField(q.orderField[0], 'by-query') : undefined,
          fullText: term ? { term, fields: parseFieldsParam(q.fullTextFilterFields) } : undefined,
          offset: q.offset ?? 0,
          totalItems: q.totalItems !== 'exclude',
        };
        parseFilterParams(content.filter ?? []);
        return queryPage(catalog, request.principal!, content, limit, fields, reply);
      },
    );

    app.post(
      '/entities/by-query',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Query entities with a predicate (or follow a cursor)',
          body: z.looseObject({
            cursor: z.string().max(20_000).optional(),
            query: z.unknown().optional(),
            limit: z.number().int().min(0).max(MAX_LIMIT).optional(),
            offset: z.number().int().min(0).optional(),
            orderBy: z.array(z.object({ field: z.string().max(200), order: z.enum(['asc', 'desc']) })).max(10).optional(),
            fullTextFilter: z.object({ term: z.string().max(200), fields: z.array(z.string().max(200)).max(20).optional() }).optional(),
            fields: z.array(z.string().max(500)).max(100).optional(),
            totalItems: z.boolean().optional(),
          }),
        },
      },
      async (request, reply) => {
        const b = request.body;
        const limit = b.limit ?? DEFAULT_QUERY_LIMIT;
        const fields = b.fields ?? [];
        if (b.cursor) return queryPage(catalog, request.principal!, decodeCursor(b.cursor), limit, fields, reply);
        if (b.query !== undefined) parsePredicate(b.query);
        const term = b.fullTextFilter?.term.trim();
        const first = b.orderBy?.[0];
        const content: CursorContent = {
          v: 1,
          ...(b.query !== undefined ? { query: b.query } : {}),
          orderField: first ? { field: first.field.toLowerCase(), order: first.order } : undefined,
          fullText: term ? { term, fields: b.fullTextFilter?.fields ?? [] } : undefined,
          offset: b.offset ?? 0,
          totalItems: b.totalItems !== false,
        };
        return queryPage(catalog, request.principal!, content, limit, fields, reply);
      },
    );

    app.post(
      '/entities/by-refs',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Entities by ref, in request order (null where missing)',
          querystring: z.looseObject({ filter: repeated, fields: repeated }),
          body: z.looseObject({ entityRefs: z.array(z.string().max(500)).max(10_000), fields: z.array(z.string().max(500)).max(100).optional(), query: z.unknown().optional() }),
        },
      },
      async (request) => {
        const filter = request.body.query !== undefined ? parsePredicate(request.body.query) : request.query.filter.length ? parseFilterParams(request.query.filter) : matchAll;
        const fields = request.body.fields ?? parseFieldsParam(request.query.fields);
        return { items: await catalog.getEntitiesByRefs(request.principal!, request.body.entityRefs, filter, fields) };
      },
    );

    app.get('/entities/by-name/:kind/:namespace/:name', { schema: { tags: ['catalog'], summary: 'An entity by kind, namespace and name', params: nameParams } }, async (request, reply) => {
      const p = request.params;
      const json = await catalog.getEntityByRefJson(request.principal!, refFromParts(p.kind, p.namespace, p.name));
      if (json === undefined) throw notFound(p);
      return reply.type('application/json; charset=utf-8').send(json);
    });

    app.get('/entities/by-name/:kind/:namespace/:name/ancestry', { schema: { tags: ['catalog'], summary: 'The chain of locations that produced an entity', params: nameParams } }, async (request) => {
      const p = request.params;
      return catalog.getAncestry(request.principal!, refFromParts(p.kind, p.namespace, p.name));
    });

    app.get('/entities/by-uid/:uid', { schema: { tags: ['catalog'], summary: 'An entity by uid', params: uidParams } }, async (request) => {
      const entity = await catalog.getEntityByUid(request.principal!, request.params.uid);
      if (!entity) throw new NotFoundError(`No entity with uid ${request.params.uid}`);
      return entity;
    });

    app.delete('/entities/by-uid/:uid', { config: { audit: 'catalog.entity.delete' }, schema: { tags: ['catalog'], summary: 'Delete an entity (it returns if its location still emits it)', params: uidParams } }, async (request, reply) => {
      await catalog.removeEntityByUid(request.principal!, request.params.uid);
      return reply.code(204).send();
    });

    app.get(
      '/entity-facets',
      { schema: { tags: ['catalog'], summary: 'Distinct values with counts', querystring: z.looseObject({ facet: repeated, filter: repeated }) } },
      async (request) => {
        if (request.query.facet.length === 0) throw new InputError('facet: give at least one facet, e.g. facet=spec.type');
        return { facets: await catalog.getFacets(request.principal!, request.query.facet, parseFilterParams(request.query.filter)) };
      },
    );

    app.post(
      '/entity-facets',
      { schema: { tags: ['catalog'], summary: 'Distinct values with counts, predicate style', body: z.looseObject({ facets: z.array(z.string().max(500)).min(1).max(50), query: z.unknown().optional() }) } },
      async (request) => ({
        facets: await catalog.getFacets(request.principal!, request.body.facets, request.body.query !== undefined ? parsePredicate(request.body.query) : matchAll),
      }),
    );

    app.post(
      '/refresh',
      { config: { audit: 'catalog.refresh' }, schema: { tags: ['catalog'], summary: 'Re-read an entity\u2019s location now', body: z.looseObject({ entityRef: z.string().min(1).max(500), authorizationToken: z.string().optional() }) } },
      async (request, reply) => {
        await catalog.refreshEntity(request.principal!, request.body.entityRef);
        return reply.code(200).send();
      },
    );

    app.post(
      '/validate-entity',
      { config: { audit: false }, schema: { tags: ['catalog'], summary: 'Validate an entity without storing it', body: z.looseObject({ entity: z.unknown(), location: z.string().max(2000) }) } },
      async (request, reply) => {
        const problems = await catalog.validateEntity(request.principal!, request.body.entity, request.body.location);
        if (problems.length === 0) return reply.code(200).send();
        return reply.code(400).send({ errors: problems.map((message) => ({ name: 'InputError', message })) });
      },
    );
  };
}
