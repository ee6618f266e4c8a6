import type { Entity } from '../../catalog/index.js';
import { ApiError, type Client } from '../client.js';
import { allPageSize, catalogPath, documentRef, originAnnotation, refOf, type DocumentResult, type EntityName, type ParsedDocument, type EntityPage } from './model.js';

export async function validateDocument(client: Client, doc: ParsedDocument, locationRef: string): Promise<DocumentResult> {
  const base = { document: doc.document, line: doc.line, ...(doc.name !== undefined ? { name: doc.name } : {}) };
  if (doc.yamlErrors.length > 0) return { ...base, valid: false, errors: doc.yamlErrors };
  try {
    await client.json('POST', `${catalogPath}/validate-entity`, { body: { entity: doc.value, location: locationRef } });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 400) throw err;
    // Problems with the entity come back as `{errors: [{name, message}]}`, which the client does not parse.
    const problems = (err.body as { errors?: { message?: unknown }[] } | undefined)?.errors;
    const messages = Array.isArray(problems) ? problems.map((p) => String(p.message)) : [err.message];
    return { ...base, valid: false, errors: messages.map((message) => ({ message })) };
  }
  const ref = documentRef(doc.value);
  return { ...base, ...(ref !== undefined ? { ref } : {}), valid: true, errors: [] };
}

// ---------------------------------------------------------------------------------------------------------
// Requests

/** One entity by ref; a missing one is the server's NotFoundError ("No entity named …"). */
export function getEntity(client: Client, ref: EntityName): Promise<Entity> {
  const path = [ref.kind, ref.namespace, ref.name].map(encodeURIComponent).join('/');
  return client.json<Entity>('GET', `${catalogPath}/entities/by-name/${path}`);
}

/** A by-query listing: the first page, or every page when `all` is set. */
export async function queryEntities(
  client: Client,
  query: { filter: string[]; search?: string },
  paging: { limit: number; all: boolean },
): Promise<{ items: Entity[]; totalItems: number }> {
  const term = query.search?.trim();
  let page = await client.json<EntityPage>('GET', `${catalogPath}/entities/by-query`, {
    query: {
      filter: query.filter,
      limit: String(paging.limit),
      orderField: 'metadata.name,asc',
      fullTextFilterTerm: term !== undefined && term !== '' ? term : undefined,
      fullTextFilterFields: term !== undefined && term !== '' ? 'metadata.name,metadata.title' : undefined,
    },
  });
  const items = [...page.items];
  const totalItems = page.totalItems;
  while (paging.all && page.pageInfo.nextCursor !== undefined) {
    page = await client.json<EntityPage>('GET', `${catalogPath}/entities/by-query`, { query: { cursor: page.pageInfo.nextCursor, limit: String(paging.limit) } });
    items.push(...page.items);
  }
  return { items, totalItems };
}

/** Every entity a registered location produced, by its origin annotation, sorted by ref. */
export async function entitiesOfLocation(client: Client, location: { type: string; target: string }): Promise<Entity[]> {
  const origin = `${location.type}:${location.target}`;
  const key = `metadata.annotations.${originAnnotation}`;
  let items: Entity[];
  if (!origin.includes(',')) {
    ({ items } = await queryEntities(client, { filter: [`${key}=${origin}`] }, { limit: allPageSize, all: true }));
  } else {
    // A `,` would split a `filter=` parameter in two; the predicate form of POST by-query has no such limit.
    let page = await client.json<EntityPage>('POST', `${catalogPath}/entities/by-query`, { body: { query: { [key]: origin }, limit: allPageSize } });
    items = [...page.items];
    while (page.pageInfo.nextCursor !== undefined) {
      page = await client.json<EntityPage>('POST', `${catalogPath}/entities/by-query`, { body: { cursor: page.pageInfo.nextCursor, limit: allPageSize } });
      items.push(...page.items);
    }
  }
  // The server matches case-insensitively; /srv/A.yaml and /srv/a.yaml are two locations.
  return items.filter((e) => e.metadata.annotations?.[originAnnotation] === origin).sort((a, b) => refOf(a).localeCompare(refOf(b)));
}

/**
 * Which of these entities the catalog already has from another location (ref → that location): the
 * server keeps the first registration of an entity and skips later copies.
 */
export async function registeredElsewhere(client: Client, entities: readonly Entity[], origin: string): Promise<Map<string, string>> {
  const taken = new Map<string, string>();
  if (entities.length === 0) return taken;
  const { items } = await client.json<{ items: (Entity | null)[] }>('POST', `${catalogPath}/entities/by-refs`, {
    body: { entityRefs: entities.map(refOf), fields: ['kind', 'metadata'] },
  });
  for (const found of items) {
    const theirs = found?.metadata.annotations?.[originAnnotation];
    if (found !== null && found !== undefined && theirs !== undefined && theirs !== origin) taken.set(refOf(found), theirs);
  }
  return taken;
}

// ---------------------------------------------------------------------------------------------------------
// Commands

