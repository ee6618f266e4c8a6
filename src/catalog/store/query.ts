import { sql, type CompiledQuery, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Db, Store } from '../../kernel/index.js';
import type { FilterNode, OrderField } from '../model/filters.js';
import { servedColumns, servedRows, type ServedDbRow, type ServedRow } from './served.js';
import type { CatalogTables } from './tables.js';

type EB = ExpressionBuilder<CatalogTables & { e: CatalogTables['catalog_entities'] }, 'e'>;

/** Keys answered from catalog_entities' own columns (lowercased there), which skips the search table. */
const columnKeys: Record<string, 'kind' | 'namespace' | 'name'> = { kind: 'kind', 'metadata.namespace': 'namespace', 'metadata.name': 'name' };

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Search key ids by key; a key no row has maps to -1, which matches nothing. */
type KeyIds = ReadonlyMap<string, number>;

/** Ids never change once committed, so found ones are cached per database; unknown keys are asked again. */
const knownKeyIds = new WeakMap<Db, Map<string, number>>();

/**
 * Looks up the ids of the keys a query names before it is built: with the id as a plain parameter
 * PostgreSQL plans from the key's statistics (a `(select id …)` subquery made it guess, and pick a
 * plan 20× slower for kind+spec.type at 100,000 entities).
 */
async function keyIdsFor(db: Db, keys: Iterable<string>): Promise<KeyIds> {
  let cache = knownKeyIds.get(db);
  if (!cache) knownKeyIds.set(db, (cache = new Map()));
  const out = new Map<string, number>();
  const missing: string[] = [];
  for (const key of keys) {
    const id = cache.get(key);
    if (id !== undefined) out.set(key, id);
    else if (!missing.includes(key)) missing.push(key);
  }
  if (missing.length > 0) {
    const rows = await db.tables<CatalogTables>().selectFrom('catalog_search_keys').select(['id', 'key']).where('key', 'in', missing).execute();
    for (const r of rows) {
      cache.set(r.key, Number(r.id));
      out.set(r.key, Number(r.id));
    }
    for (const key of missing) if (!out.has(key)) out.set(key, -1);
  }
  return out;
}

/** The search keys a filter names (`in` and `exists` on keys answered from entity columns need none). */
function filterKeys(node: FilterNode, out: string[] = []): string[] {
  switch (node.op) {
    case 'all':
    case 'any':
      for (const item of node.items) filterKeys(item, out);
      break;
    case 'not':
      filterKeys(node.item, out);
      break;
    case 'in':
    case 'exists':
      if (!columnKeys[node.key]) out.push(node.key);
      break;
    case 'prefix':
      out.push(node.key);
      break;
    case 'relation':
      break;
  }
  return out;
}

const idOf = (ids: KeyIds, key: string) => ids.get(key) ?? -1;

const searchRows = (eb: EB, ids: KeyIds, key: string) =>
  eb.selectFrom('catalog_search as s').select(sql`1`.as('one')).whereRef('s.entity_id', '=', 'e.id').where('s.key_id', '=', idOf(ids, key));

/** Compiles a filter into a WHERE expression over `catalog_entities as e`; every value is a bound parameter. */
function compileFilter(eb: EB, ids: KeyIds, node: FilterNode): Expression<SqlBool> {
  switch (node.op) {
    case 'all':
      return node.items.length === 0 ? sql<SqlBool>`1 = 1` : eb.and(node.items.map((n) => compileFilter(eb, ids, n)));
    case 'any':
      return node.items.length === 0 ? sql<SqlBool>`1 = 0` : eb.or(node.items.map((n) => compileFilter(eb, ids, n)));
    case 'not':
      return eb.not(compileFilter(eb, ids, node.item));
    // Search-row and relation conditions are correlated EXISTS probes on (key, value, entity_id) and
    // (source_ref, …): a page ordered by entity ref stops after `limit` matches instead of first
    // materialising every match of every condition.
    case 'in': {
      const column = columnKeys[node.key];
      if (column) return eb(`e.${column}`, 'in', node.values);
      return eb.exists(searchRows(eb, ids, node.key).where('s.value', 'in', node.values));
    }
    case 'exists':
      if (columnKeys[node.key]) return sql<SqlBool>`1 = 1`;
      return eb.exists(searchRows(eb, ids, node.key));
    case 'prefix':
      return eb.exists(searchRows(eb, ids, node.key).where(sql<SqlBool>`s.value like ${escapeLike(node.prefix) + '%'} escape '\\'`));
    case 'relation': {
      let sub = eb.selectFrom('catalog_relations as r').select(sql`1`.as('one')).whereRef('r.source_ref', '=', 'e.entity_ref').where('r.type_lc', '=', node.type);
      if (node.targetRefs) sub = sub.where('r.target_ref', 'in', node.targetRefs);
      return eb.exists(sub);
    }
  }
}

export interface EntityQuery {
  filter: FilterNode;
  order: OrderField[];
  fullText?: { term: string; fields: string[] };
  limit?: number;
  offset?: number;
}

const fullTextFields = (q: EntityQuery) => (q.fullText && q.fullText.term !== '' ? q.fullText.fields.map((f) => f.toLowerCase()) : []);

/** Every search key a query names: filter, full-text fields, order fields. */
const queryKeys = (q: EntityQuery) => [...filterKeys(q.filter), ...fullTextFields(q), ...q.order.map((o) => o.field).filter((f) => !columnKeys[f])];

function withFullText(eb: EB, ids: KeyIds, q: EntityQuery): Expression<SqlBool> {
  const base = compileFilter(eb, ids, q.filter);
  if (!q.fullText || q.fullText.term === '') return base;
  const pattern = `%${escapeLike(q.fullText.term.toLowerCase())}%`;
  const fields = fullTextFields(q).map((f) => idOf(ids, f));
  return eb.and([
    base,
    eb.exists(
      eb
        .selectFrom('catalog_search as s')
        .select(sql`1`.as('one'))
        .whereRef('s.entity_id', '=', 'e.id')
        .where('s.key_id', 'in', fields)
        .where(sql<SqlBool>`s.value like ${pattern} escape '\\'`),
    ),
  ]);
}

/** Compiled page queries by database and query (key ids and selected columns included), least recently used first. */
const compiledPages = new WeakMap<Db, Map<string, CompiledQuery<{ uid: string }> | CompiledQuery<ServedDbRow>>>();
const MAX_COMPILED_PAGES = 500;

/**
 * The compiled query of a page, its uids or (`served`) its served rows. A query asked again (the same
 * page of a list, or one a client polls) reuses its compiled SQL: building and compiling the filter in
 * Kysely was a tenth of a by-query page's CPU (issue #3).
 */
async function pageQuery(db: Store, q: EntityQuery, columns: 'uid'): Promise<CompiledQuery<{ uid: string }>>;
async function pageQuery(db: Store, q: EntityQuery, columns: 'served'): Promise<CompiledQuery<ServedDbRow>>;
async function pageQuery(db: Store, q: EntityQuery, columns: 'uid' | 'served'): Promise<CompiledQuery<{ uid: string }> | CompiledQuery<ServedDbRow>> {
  const ids = await keyIdsFor(db, queryKeys(q));
  let cache = compiledPages.get(db);
  if (!cache) compiledPages.set(db, (cache = new Map()));
  const key = JSON.stringify([columns, q.filter, q.order, q.fullText ?? null, q.limit ?? null, q.offset ?? 0, [...ids]]);
  let compiled = cache.get(key);
  if (compiled) cache.delete(key);
  else compiled = compilePage(db, q, ids, columns);
  cache.set(key, compiled);
  if (cache.size > MAX_COMPILED_PAGES) cache.delete(cache.keys().next().value!);
  return compiled;
}

/** Matching entity uids in order; entities without the order field sort last, ties by entity ref. */
export async function selectMatchingUids(db: Store, q: EntityQuery): Promise<string[]> {
  return (await db.tables<CatalogTables>().executeQuery(await pageQuery(db, q, 'uid'))).rows.map((r) => r.uid);
}

/**
 * The served rows of the matching entities, in selectMatchingUids' order, in one query: only where the
 * engine computes the rows' bodies and relations after the sort and limit (Dialect.lateProjection).
 * On PostgreSQL a 50-entity page was five round trips (a transaction that kept the planner off parallel
 * workers, the page, then the bodies); with the search statistics the planner walks the index
 * serially by itself, and one round trip serves the page (issue #3).
 */
export async function selectServedMatching(db: Store, q: EntityQuery): Promise<ServedRow[]> {
  if (!db.dialect.lateProjection) throw new Error('selectServedMatching needs a dialect with late projection');
  return servedRows(db, (await db.tables<CatalogTables>().executeQuery(await pageQuery(db, q, 'served'))).rows);
}

function compilePage(db: Store, q: EntityQuery, ids: KeyIds, columns: 'uid' | 'served'): CompiledQuery<{ uid: string }> | CompiledQuery<ServedDbRow> {
  const base = db.tables<CatalogTables & { e: CatalogTables['catalog_entities'] }>().selectFrom('catalog_entities as e');
  let query = columns === 'uid' ? base.select('e.uid') : base.select(servedColumns(db));
  query = query.where((eb) => withFullText(eb, ids, q));
  for (const [i, o] of q.order.entries()) {
    const column = columnKeys[o.field];
    if (column) {
      query = query.orderBy(`e.${column}`, o.order);
      continue;
    }
    const sortKey = sql<string | null>`(select min(s${sql.raw(String(i))}.value) from catalog_search s${sql.raw(String(i))} where s${sql.raw(String(i))}.entity_id = e.id and s${sql.raw(String(i))}.key_id = ${idOf(ids, o.field)})`;
    query = query.orderBy(sql`case when ${sortKey} is null then 1 else 0 end`).orderBy(sortKey, o.order);
  }
  query = query.orderBy('e.entity_ref', 'asc');
  if (q.limit !== undefined) query = query.limit(q.limit);
  if (q.offset) query = q.limit === undefined ? query.limit(1_000_000_000).offset(q.offset) : query.offset(q.offset);
  return query.compile();
}

export async function countMatching(db: Db, q: EntityQuery): Promise<number> {
  const ids = await keyIdsFor(db, queryKeys(q));
  const row = await db
    .tables<CatalogTables>()
    .selectFrom('catalog_entities as e')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => withFullText(eb, ids, q))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Distinct values of each facet key with the number of matching entities, values in their original case. */
export async function selectFacets(db: Db, keys: readonly string[], filter: FilterNode): Promise<Record<string, { value: string; count: number }[]>> {
  const k = db.tables<CatalogTables & { e: CatalogTables['catalog_entities'] }>();
  const out: Record<string, { value: string; count: number }[]> = {};
  const filtered = filter.op === 'all' && filter.items.length === 0 ? undefined : filter;
  const ids = await keyIdsFor(db, [...filterKeys(filter), ...keys.map((k) => k.toLowerCase()).filter((k) => !k.startsWith('relations.'))]);
  for (const key of keys) {
    const lower = key.toLowerCase();
    if (lower.startsWith('relations.')) {
      let q = k
        .selectFrom('catalog_relations as r')
        .innerJoin('catalog_entities as e', 'e.entity_ref', 'r.source_ref')
        .select(['r.target_ref as value', (eb) => eb.fn.count<number>('e.uid').distinct().as('count')])
        .where('r.type_lc', '=', lower.slice('relations.'.length));
      if (filtered) q = q.where((eb) => compileFilter(eb as unknown as EB, ids, filtered));
      const rows = await q.groupBy('r.target_ref').execute();
      out[key] = rows.map((r) => ({ value: r.value, count: Number(r.count) }));
      continue;
    }
    // Search rows are unique per (entity, key, value), so count(*) per value counts entities. Without a
    // filter there is nothing to join: the facet is read from the search rows alone.
    let q = k
      .selectFrom('catalog_search as s')
      .select(['s.original as value', (eb) => eb.fn.countAll<number>().as('count')])
      .where('s.key_id', '=', idOf(ids, lower))
      .where('s.original', 'is not', null);
    if (filtered) q = q.where('s.entity_id', 'in', (eb) => eb.selectFrom('catalog_entities as e').select('e.id').where((w) => compileFilter(w as unknown as EB, ids, filtered)));
    const rows = await q.groupBy('s.original').execute();
    out[key] = rows.map((r) => ({ value: r.value as string, count: Number(r.count) })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  }
  return out;
}
