/**
 * A page of entities as served JSON text: the matching uids, then their stored bodies with relations
 * spliced in. Runs on the main thread or, on SQLite, on the read workers (read-worker.ts), which
 * serve it from their own connections.
 */
import type { Store } from '../kernel/index.js';
import type { Entity, EntityRelation, EntityStatusItem } from './model/entity.js';
import { selectMatchingUids, selectServedMatching, type EntityQuery } from './store/query.js';
import { selectServedByUids, type ServedRow } from './store/served.js';

/**
 * An entity as served (`{ ...body, relations, status? }`) written by splicing into its stored JSON,
 * which `JSON.stringify` wrote with no whitespace. Undefined when the body itself holds a
 * `relations` or `status` key (the served value must replace it): the caller then parses.
 */
export function spliceServedJson(body: string, problems: string, relationsJson: string): string | undefined {
  if (body.length < 3 || body.charCodeAt(body.length - 1) !== 0x7d || body.includes('"relations":') || body.includes('"status":')) return undefined;
  const status = problems === '[]' ? '' : `,"status":{"items":${problems}}`;
  return `${body.slice(0, -1)},"relations":${relationsJson}${status}}`;
}

/** An entity as served, with its relations and (when it has problems) `status.items`. */
export function presentEntity(entity: Entity, problems: readonly EntityStatusItem[], relations: EntityRelation[]): Entity {
  const served: Entity = { ...entity, relations };
  if (problems.length > 0) served.status = { items: [...problems] };
  return served;
}

/** A stored body as served, relations spliced into its JSON text (parsed only when splicing cannot apply). */
export function servedJson(r: ServedRow): string {
  return (
    spliceServedJson(r.body, r.problems, r.relationsJson) ??
    JSON.stringify(presentEntity(JSON.parse(r.body) as Entity, JSON.parse(r.problems) as EntityStatusItem[], JSON.parse(r.relationsJson) as EntityRelation[]))
  );
}

/** A page of entities as their served JSON. */
export interface ServedPage {
  /** JSON of the page's first `size` entities, separated by commas (no brackets). */
  json: string;
  /** How many entities the query matched (its limit may ask for one more than the page, to tell whether more follow). */
  matched: number;
}

/** The served JSON of the first `size` entities `query` matches, in its order. */
export async function selectServedPage(store: Store, query: EntityQuery, size: number): Promise<ServedPage> {
  let ordered: ServedRow[];
  if (store.dialect.lateProjection) ordered = await selectServedMatching(store, query);
  else {
    const uids = await selectMatchingUids(store, query);
    const rows = new Map((await selectServedByUids(store, uids)).map((r) => [r.uid, r]));
    ordered = uids.map((uid) => rows.get(uid)).filter((r): r is ServedRow => r !== undefined);
  }
  let text = '';
  const shown = Math.min(size, ordered.length);
  for (let i = 0; i < shown; i++) text += i === 0 ? servedJson(ordered[i]!) : `,${servedJson(ordered[i]!)}`;
  return { json: text, matched: ordered.length };
}

/** The opening of a by-query body, before its entities. */
export const ITEMS_OPEN = '{"items":[';

/** A by-query response body and what it is read from. */
export interface PageBody {
  /** How many entities the query matched (see ServedPage). */
  matched: number;
  /** The body: `{"items":[`, the page's entities, then `close`. */
  body(close: string): string | Buffer;
  /** Frees what the body is read from; call once it has been sent (or will not be). */
  release(): void;
}

/** A page body built from text on this thread: nothing to free. */
export function textPageBody(page: ServedPage): PageBody {
  return { matched: page.matched, body: (close) => `${ITEMS_OPEN}${page.json}${close}`, release: () => undefined };
}
