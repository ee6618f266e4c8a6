import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { Db, Store } from '../../kernel/index.js';
import type { EntityRelation } from '../model/entity.js';
import { splitRefKey } from '../model/refs.js';
import type { CatalogTables } from './tables.js';

/** An entity's stored JSON, unparsed, with the relations whose source it is: everything a read serves. */
export interface ServedRow {
  uid: string;
  ref: string;
  body: string;
  problems: string;
  /** `JSON.stringify(servedRelations(…))`, written directly (see servedRelationsJson). */
  relationsJson: string;
}

/**
 * The relations whose source is `e`, as Dialect.joinedPairs text of (type, target_ref). Aggregated in
 * the query that reads the bodies: a page of 50 entities was a query for the bodies and one for 300-odd
 * relation rows, whose row objects and strings cost more than the rows' SQL (issue #3, by-query).
 */
function relationsOf(store: Store): RawBuilder<string> {
  return sql<string>`(select ${store.dialect.joinedPairs(sql.ref('r.type'), sql.ref('r.target_ref'))} from catalog_relations r where r.source_ref = e.entity_ref)`;
}

/** The columns a served read selects from `catalog_entities as e` (a ServedDbRow): by uid or ref here, a whole page in query.ts. */
export const servedColumns = (store: Store) => ['e.uid', 'e.entity_ref', 'e.body', 'e.problems', relationsOf(store).as('relations')] as const;

/** Code-unit order (refs are lowercase ASCII in practice): localeCompare cost more than the query. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Relation pairs ordered by type, then target, each once (two origins may emit the same relation, e.g. a group's children and the child's parent). */
function orderedPairs(pairs: readonly (readonly [string, string])[]): readonly (readonly [string, string])[] {
  // The index hands them over in (type_lc, target_ref) order, which is this order for Backstage's types.
  let ordered = true;
  for (let i = 1; i < pairs.length && ordered; i++) ordered = (compare(pairs[i - 1]![0], pairs[i]![0]) || compare(pairs[i - 1]![1], pairs[i]![1])) < 0;
  if (ordered) return pairs;
  const sorted = [...pairs].sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
  return sorted.filter((pair, i) => i === 0 || pair[0] !== sorted[i - 1]![0] || pair[1] !== sorted[i - 1]![1]);
}

/** Relations as Backstage serves them in `relations[]`, in orderedPairs' order. */
export function servedRelations(pairs: readonly (readonly [string, string])[]): EntityRelation[] {
  return orderedPairs(pairs).map(([type, targetRef]) => ({ type, targetRef, target: splitRefKey(targetRef) }));
}

/** Whether JSON.stringify escapes something in `s` (a quote, backslash, control character or surrogate). */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}
const jsonString = (s: string) => (needsEscape(s) ? JSON.stringify(s) : `"${s}"`);
const plainString = (s: string) => `"${s}"`;

/**
 * `JSON.stringify(servedRelations(pairs))`, written as text: building the objects and stringifying
 * them was a sixth of a by-query page's CPU (issue #3), as much as the SQL that read the pairs.
 * `plain`: the caller knows no string needs escaping.
 */
export function servedRelationsJson(pairs: readonly (readonly [string, string])[], plain = false): string {
  const str = plain ? plainString : jsonString;
  let out = '';
  for (const [type, targetRef] of orderedPairs(pairs)) {
    const { kind, namespace, name } = splitRefKey(targetRef);
    out += `${out === '' ? '' : ','}{"type":${str(type)},"targetRef":${str(targetRef)},"target":{"kind":${str(kind)},"namespace":${str(namespace)},"name":${str(name)}}}`;
  }
  return `[${out}]`;
}

const PAIR = '\x01';
const NEXT = '\x02';
/** A character JSON.stringify escapes, but for the separators (no lone surrogate comes from a database's text). */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const ESCAPED = /[\x00\x03-\x1f"\\]/;

/**
 * servedRelationsJson of the pairs in Dialect.joinedPairs text, or undefined when a value holds a
 * separator (the counts disagree): then only a query of the rows themselves can tell the pairs apart.
 * With no character to escape, the strings are written as they are (see servedRelationsJson).
 */
export function servedRelationsJsonOf(text: string): string | undefined {
  const head = text.indexOf(NEXT);
  const count = Number(text.slice(0, head));
  if (head < 0 || !Number.isInteger(count)) throw new Error(`relations aggregate "${text.slice(0, 40)}" is not count${NEXT}pairs`);
  if (count === 0) return head === text.length - 1 ? '[]' : undefined;
  const pieces = text.slice(head + 1).split(NEXT);
  if (pieces.length !== count) return undefined;
  const pairs: [string, string][] = [];
  for (const piece of pieces) {
    const at = piece.indexOf(PAIR);
    if (at < 0 || piece.includes(PAIR, at + 1)) return undefined;
    pairs.push([piece.slice(0, at), piece.slice(at + 1)]);
  }
  return servedRelationsJson(pairs, !ESCAPED.test(text));
}

export interface ServedDbRow {
  uid: string;
  entity_ref: string;
  body: string;
  problems: string;
  relations: string;
}

/** Compiled statements by database and shape (column and, on SQLite, key count); their only parameters are the keys. */
const compiledByShape = new WeakMap<Store, { arrayParameter: boolean; shapes: Map<string, CompiledQuery<ServedDbRow>> }>();

/**
 * The read of `keys` by `column`. Building and compiling it in Kysely cost about as much as SQLite
 * running it for one entity (by-name), so each shape is compiled once and its parameters replaced. On
 * PostgreSQL the keys are one array parameter, so each column has one statement text, prepared: parsing
 * and planning it took four times as long as running it for one entity (by-name, issue #3).
 */
function servedQuery(store: Store, column: 'uid' | 'entity_ref', keys: string[]): CompiledQuery<ServedDbRow> {
  let cache = compiledByShape.get(store);
  if (!cache) {
    const arrayParameter = store.dialect.oneOfTexts(sql.lit(''), ['a', 'b']).compile(store.tables()).parameters.length === 1;
    compiledByShape.set(store, (cache = { arrayParameter, shapes: new Map() }));
  }
  const { arrayParameter, shapes } = cache;
  const shape = arrayParameter ? column : `${column}:${keys.length}`;
  let compiled = shapes.get(shape);
  if (!compiled) {
    compiled = store
      .tables<CatalogTables & { e: CatalogTables['catalog_entities'] }>()
      .selectFrom('catalog_entities as e')
      .select(servedColumns(store))
      .where(store.dialect.oneOfTexts(sql.ref(`e.${column}`), keys))
      .compile();
    if (compiled.parameters.length !== (arrayParameter ? 1 : keys.length)) throw new Error(`served query for ${shape} has ${compiled.parameters.length} parameters`);
    store.prepare(compiled.sql);
    shapes.set(shape, compiled);
  }
  return { ...compiled, parameters: arrayParameter ? [keys] : keys };
}

/** The relations whose source is each of `refs`, as served (refs without any are left out). */
export async function selectRelations(db: Db, refs: readonly string[]): Promise<Map<string, EntityRelation[]>> {
  const pairs = new Map<string, [string, string][]>();
  const unique = [...new Set(refs)];
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db.tables<CatalogTables>().selectFrom('catalog_relations').select(['source_ref', 'type', 'target_ref']).where('source_ref', 'in', unique.slice(i, i + 500)).execute();
    for (const r of rows) {
      const list = pairs.get(r.source_ref);
      if (list) list.push([r.type, r.target_ref]);
      else pairs.set(r.source_ref, [[r.type, r.target_ref]]);
    }
  }
  return new Map([...pairs].map(([ref, list]) => [ref, servedRelations(list)]));
}

/**
 * Served rows of database rows. An entity whose relation values hold a separator of the aggregate (a
 * ref with a control character, which Backstage's ref parser allows) has its relations read again.
 */
export async function servedRows(db: Db, rows: readonly ServedDbRow[]): Promise<ServedRow[]> {
  const out: ServedRow[] = [];
  const unread: ServedRow[] = [];
  for (const r of rows) {
    const relationsJson = servedRelationsJsonOf(r.relations);
    const row = { uid: r.uid, ref: r.entity_ref, body: r.body, problems: r.problems, relationsJson: relationsJson ?? '' };
    if (relationsJson === undefined) unread.push(row);
    out.push(row);
  }
  if (unread.length > 0) {
    const relations = await selectRelations(db, unread.map((r) => r.ref));
    for (const row of unread) row.relationsJson = JSON.stringify(relations.get(row.ref) ?? []);
  }
  return out;
}

async function selectServed(store: Store, column: 'uid' | 'entity_ref', keys: readonly string[]): Promise<ServedRow[]> {
  const out: ServedRow[] = [];
  const unique = [...new Set(keys)];
  for (let i = 0; i < unique.length; i += 500) {
    const { rows } = await store.tables<CatalogTables>().executeQuery(servedQuery(store, column, unique.slice(i, i + 500)));
    out.push(...(await servedRows(store, rows)));
  }
  return out;
}

/** Entities by uid (any order; missing uids are left out). */
export const selectServedByUids = (store: Store, uids: readonly string[]) => selectServed(store, 'uid', uids);

interface Waiter {
  resolve(row: ServedRow | undefined): void;
  reject(error: unknown): void;
}

/**
 * Reads one entity by canonical ref. Where a query is a round trip (PostgreSQL), the reads asked for in
 * one turn of the event loop (the requests whose bytes one poll of the sockets brought) share one query:
 * the trip (a wake-up of a database process, a write and a read on each side) cost both processes more
 * CPU than the lookup itself. On a 100,000-entity catalog, 10 wrk clients reading by name, three rounds
 * in turns with the previous build: 1.6–2.2× the requests/s, 0.5× the server's CPU and 0.2× PostgreSQL's
 * per read (issue #3). The batch waits for nothing but the end of the turn (setImmediate runs after the
 * poll phase), so a lone read is not slower; a failed query fails every read in it, as each would have
 * failed alone.
 */
export function servedByRefLoader(store: Store): (ref: string) => Promise<ServedRow | undefined> {
  if (!store.dialect.roundTrips) return async (ref) => (await selectServed(store, 'entity_ref', [ref]))[0];
  let batch: Map<string, Waiter[]> | undefined;
  const run = async (waiting: Map<string, Waiter[]>): Promise<void> => {
    try {
      const rows = new Map((await selectServed(store, 'entity_ref', [...waiting.keys()])).map((r) => [r.ref, r]));
      for (const [ref, waiters] of waiting) for (const w of waiters) w.resolve(rows.get(ref));
    } catch (error) {
      for (const waiters of waiting.values()) for (const w of waiters) w.reject(error);
    }
  };
  return (ref) =>
    new Promise((resolve, reject) => {
      if (batch === undefined) {
        const waiting = (batch = new Map());
        setImmediate(() => {
          batch = undefined;
          void run(waiting);
        });
      }
      const waiters = batch.get(ref);
      if (waiters) waiters.push({ resolve, reject });
      else batch.set(ref, [{ resolve, reject }]);
    });
}
