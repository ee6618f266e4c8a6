import { sql, type Selectable } from 'kysely';
import type { Db, Store, Tx } from '../../kernel/index.js';
import type { Entity, EntityStatusItem } from '../model/entity.js';
import type { RelationRow } from '../model/relations.js';
import type { SearchRow } from '../model/search-rows.js';
import type { StoredEntity } from '../model/types.js';
import type { CatalogTables } from './tables.js';

type Row = Selectable<CatalogTables['catalog_entities']>;
type NewRow = Omit<Row, 'id'>;
const t = (db: Db) => db.tables<CatalogTables>();

export function toStored(r: Row): StoredEntity {
  return {
    uid: r.uid,
    ref: r.entity_ref,
    ownerRef: r.owner_ref,
    rootLocationId: r.root_location_id,
    locationRef: r.location_ref,
    entity: JSON.parse(r.body) as Entity,
    problems: JSON.parse(r.problems) as EntityStatusItem[],
    contentHash: r.content_hash,
    orphan: r.orphan === 1,
    updatedAt: r.updated_at,
  };
}

export interface EntityWrite {
  row: NewRow;
  relations: RelationRow[];
  search: SearchRow[];
  /** The entity is not stored yet: it has no relation or search rows to delete first. */
  isNew: boolean;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const entityColumns = ['uid', 'entity_ref', 'kind', 'namespace', 'name', 'owner_ref', 'root_location_id', 'location_ref', 'body', 'problems', 'content_hash', 'orphan', 'created_at', 'updated_at'] as const;
/** Columns an upsert of an existing uid replaces (created_at stays). */
const updatedColumns = entityColumns.filter((c) => c !== 'uid' && c !== 'created_at');

/** Replaces entities with their relations and search rows (one transaction, the caller's); `keyIds` from searchKeyIds. */
export async function writeEntities(tx: Tx, writes: readonly EntityWrite[], keyIds: ReadonlyMap<string, number>): Promise<void> {
  if (writes.length === 0) return;
  const keyId = (key: string) => {
    const id = keyIds.get(key);
    if (id === undefined) throw new Error(`search key ${key} has no id`);
    return id;
  };
  if (tx.sqlite) writeEntitiesSqlite(tx.sqlite, writes, keyId);
  else await writeEntitiesBatched(tx, writes, keyId);
}

type Sqlite = NonNullable<Tx['sqlite']>;
interface Statement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}
const statementCache = new WeakMap<Sqlite, Map<string, Statement>>();
function prepared(db: Sqlite, text: string): Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let statement = cache.get(text);
  if (!statement) cache.set(text, (statement = db.prepare<unknown[]>(text)));
  return statement;
}

/** Rows per multi-row INSERT on SQLite: one statement call per 64 rows instead of one per row. */
const ROWS_PER_INSERT = 64;
const relationColumns = '(origin_id, source_ref, type, type_lc, target_ref)';
const searchColumns = '(entity_id, key_id, value, original)';
const sqliteText = {
  upsert:
    `insert into catalog_entities (${entityColumns.join(', ')}) values (${entityColumns.map(() => '?').join(', ')}) ` +
    `on conflict (uid) do update set ${updatedColumns.map((c) => `${c} = excluded.${c}`).join(', ')} returning id`,
  deleteRelations: 'delete from catalog_relations where origin_id = ?',
  deleteSearch: 'delete from catalog_search where entity_id = ?',
  relation: `insert into catalog_relations ${relationColumns} values (?, ?, ?, ?, ?)`,
  relationMany: `insert into catalog_relations ${relationColumns} values ${new Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')}`,
  search: `insert into catalog_search ${searchColumns} values (?, ?, ?, ?)`,
  searchMany: `insert into catalog_search ${searchColumns} values ${new Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?)').join(', ')}`,
};

/** A relation row as stored: origin_id, source_ref, type, type_lc, target_ref. */
type RelationTuple = [number, string, string, string, string];
/** A search row as stored: entity_id, key_id, value, original. */
type SearchTuple = [number, number, string | null, string | null];

/** A batch's relation and search rows, with the ids their entities were stored under. */
function batchRows(writes: readonly EntityWrite[], ids: readonly number[], keyId: (key: string) => number): { relations: RelationTuple[]; search: SearchTuple[] } {
  const relations: RelationTuple[] = [];
  const search: SearchTuple[] = [];
  writes.forEach((w, i) => {
    const id = ids[i]!;
    for (const r of w.relations) relations.push([id, r.source, r.type, r.type.toLowerCase(), r.target]);
    for (const s of w.search) search.push([id, keyId(s.key), s.value, s.original]);
  });
  return { relations, search };
}

/** Inserts rows with `many` (ROWS_PER_INSERT rows a call), the rest with `one`. */
function insertRows(many: Statement, one: Statement, rows: readonly unknown[][]): void {
  const params: unknown[] = [];
  let i = 0;
  for (; i + ROWS_PER_INSERT <= rows.length; i += ROWS_PER_INSERT) {
    params.length = 0;
    for (let j = i; j < i + ROWS_PER_INSERT; j++) params.push(...rows[j]!);
    many.run(params);
  }
  for (; i < rows.length; i++) one.run(rows[i]!);
}

/**
 * SQLite: prepared statements run inside the caller's transaction (better-sqlite3 runs synchronously,
 * so there is no round trip to save; building and compiling INSERTs in Kysely cost more than SQLite's
 * own work for these rows). Entities first, for their ids; then the batch's relation and search rows,
 * 64 to a statement.
 */
function writeEntitiesSqlite(db: Sqlite, writes: readonly EntityWrite[], keyId: (key: string) => number): void {
  const upsert = prepared(db, sqliteText.upsert);
  const deleteRelations = prepared(db, sqliteText.deleteRelations);
  const deleteSearch = prepared(db, sqliteText.deleteSearch);
  const ids: number[] = [];
  for (const w of writes) {
    const r = w.row;
    const { id } = upsert.get(r.uid, r.entity_ref, r.kind, r.namespace, r.name, r.owner_ref, r.root_location_id, r.location_ref, r.body, r.problems, r.content_hash, r.orphan, r.created_at, r.updated_at) as { id: number };
    if (!w.isNew) {
      deleteRelations.run(id);
      deleteSearch.run(id);
    }
    ids.push(id);
  }
  const { relations, search } = batchRows(writes, ids, keyId);
  insertRows(prepared(db, sqliteText.relationMany), prepared(db, sqliteText.relation), relations);
  insertRows(prepared(db, sqliteText.searchMany), prepared(db, sqliteText.search), search);
}

/** Row counts per multi-row INSERT: large, to save round trips, and under PostgreSQL's 65,535 parameters. */
const BATCH = { entities: 1000 };

async function writeEntitiesBatched(db: Db, writes: readonly EntityWrite[], keyId: (key: string) => number): Promise<void> {
  const k = t(db);
  for (const batch of chunks(writes, BATCH.entities)) {
    const written = await k
      .insertInto('catalog_entities')
      .values(batch.map((w) => w.row))
      .onConflict((oc) =>
        oc.column('uid').doUpdateSet((eb) => ({
          entity_ref: eb.ref('excluded.entity_ref'),
          kind: eb.ref('excluded.kind'),
          namespace: eb.ref('excluded.namespace'),
          name: eb.ref('excluded.name'),
          owner_ref: eb.ref('excluded.owner_ref'),
          root_location_id: eb.ref('excluded.root_location_id'),
          location_ref: eb.ref('excluded.location_ref'),
          body: eb.ref('excluded.body'),
          problems: eb.ref('excluded.problems'),
          content_hash: eb.ref('excluded.content_hash'),
          orphan: eb.ref('excluded.orphan'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .returning(['id', 'uid'])
      .execute();
    const idOf = new Map(written.map((r) => [r.uid, Number(r.id)]));
    const replaced = batch.filter((w) => !w.isNew).map((w) => idOf.get(w.row.uid)!);
    for (const ids of chunks(replaced, 5000)) {
      await k.deleteFrom('catalog_relations').where('origin_id', 'in', ids).execute();
      await k.deleteFrom('catalog_search').where('entity_id', 'in', ids).execute();
    }
    // One statement per table with a parameter per column (arrays unnested by PostgreSQL): no
    // statement text or parameter list that grows with the rows.
    const rel = { origin: [] as number[], source: [] as string[], type: [] as string[], typeLc: [] as string[], target: [] as string[] };
    const search = { entity: [] as number[], key: [] as number[], value: [] as (string | null)[], original: [] as (string | null)[] };
    for (const w of batch) {
      const id = idOf.get(w.row.uid)!;
      for (const r of w.relations) {
        rel.origin.push(id);
        rel.source.push(r.source);
        rel.type.push(r.type);
        rel.typeLc.push(r.type.toLowerCase());
        rel.target.push(r.target);
      }
      for (const s of w.search) {
        search.entity.push(id);
        search.key.push(keyId(s.key));
        search.value.push(s.value);
        search.original.push(s.original);
      }
    }
    if (rel.origin.length > 0) {
      await sql`insert into catalog_relations (origin_id, source_ref, type, type_lc, target_ref)
        select * from unnest(${rel.origin}::bigint[], ${rel.source}::text[], ${rel.type}::text[], ${rel.typeLc}::text[], ${rel.target}::text[])`.execute(k);
    }
    if (search.entity.length > 0) {
      await sql`insert into catalog_search (entity_id, key_id, value, original)
        select * from unnest(${search.entity}::bigint[], ${search.key}::integer[], ${search.value}::text[], ${search.original}::text[])`.execute(k);
    }
  }
}

/**
 * After a bulk write, PostgreSQL plans from statistics that describe the tables before it until
 * autovacuum gets round to them (a minute or more): kind+spec.type pages at 100,000 fresh entities
 * took 0.4 s instead of 15 ms. Relations and entities are then vacuumed, which marks their pages
 * all-visible: until then a served read fetches every relation row from the heap although the
 * source index holds each column it reads (an entity's relations lie on 3 to 6 heap pages, written
 * when the entities they point at were). At 100,000 entities the vacuum took 0.3 s, and by-name reads
 * then ran 1.2× as fast (issue #3; measured before they were batched, see servedByRefLoader). Autovacuum would do the same later, where it is on at all.
 * SQLite keeps no statistics unless asked and is planned by its indexes, so nothing is done there.
 */
export async function refreshStatistics(store: Store): Promise<void> {
  const analyzed = await store.transaction(async (tx) => {
    if (tx.sqlite) return false;
    for (const table of ['catalog_entities', 'catalog_relations', 'catalog_search', 'catalog_search_keys']) await sql`analyze ${sql.table(table)}`.execute(tx.tables());
    return true;
  });
  // VACUUM cannot run inside a transaction: it runs on a connection of its own.
  if (analyzed) await sql`vacuum catalog_relations, catalog_entities`.execute(store.tables());
}

export async function selectByRefs(db: Db, refs: readonly string[]): Promise<StoredEntity[]> {
  const out: StoredEntity[] = [];
  for (const part of chunks([...new Set(refs)], 500)) {
    const rows = await t(db).selectFrom('catalog_entities').selectAll().where('entity_ref', 'in', part).execute();
    out.push(...rows.map(toStored));
  }
  return out;
}

/** Whether each of `refs` is stored with its hash, rooted at `locationId` and not orphaned: a file's unchanged entities (see FileMemo). */
export async function storedAsBefore(db: Db, locationId: string, entities: readonly { ref: string; hash: string }[]): Promise<boolean> {
  for (const part of chunks(entities, 500)) {
    // Only by ref: with the location in the WHERE clause SQLite walked the location's index instead (25 s for 100,000 entities).
    const rows = await t(db).selectFrom('catalog_entities').select(['entity_ref', 'content_hash', 'root_location_id', 'orphan']).where('entity_ref', 'in', part.map((e) => e.ref)).execute();
    const stored = new Map(rows.filter((r) => r.root_location_id === locationId && r.orphan === 0).map((r) => [r.entity_ref, r.content_hash]));
    if (part.some((e) => stored.get(e.ref) !== e.hash)) return false;
  }
  return true;
}

export async function selectByUids(db: Db, uids: readonly string[]): Promise<StoredEntity[]> {
  const out: StoredEntity[] = [];
  for (const part of chunks([...new Set(uids)], 500)) {
    const rows = await t(db).selectFrom('catalog_entities').selectAll().where('uid', 'in', part).execute();
    out.push(...rows.map(toStored));
  }
  return out;
}

export async function selectRootedAt(db: Db, rootLocationId: string): Promise<{ uid: string; ref: string; locationRef: string; orphan: boolean }[]> {
  const rows = await t(db)
    .selectFrom('catalog_entities')
    .select(['uid', 'entity_ref', 'location_ref', 'orphan'])
    .where('root_location_id', '=', rootLocationId)
    .execute();
  return rows.map((r) => ({ uid: r.uid, ref: r.entity_ref, locationRef: r.location_ref, orphan: r.orphan === 1 }));
}

/** Deletes entities with everything they emitted; returns the refs that went away. */
export async function deleteEntities(db: Db, uids: readonly string[]): Promise<void> {
  for (const part of chunks(uids, 500)) {
    const ids = (await t(db).selectFrom('catalog_entities').select('id').where('uid', 'in', part).execute()).map((r) => Number(r.id));
    if (ids.length === 0) continue;
    await t(db).deleteFrom('catalog_relations').where('origin_id', 'in', ids).execute();
    await t(db).deleteFrom('catalog_search').where('entity_id', 'in', ids).execute();
    await t(db).deleteFrom('catalog_entities').where('uid', 'in', part).execute();
  }
}

/** Refs of the entities that hold a relation of `type` towards `target` (e.g. the groups a user is memberOf). */
export async function selectRelationTargets(db: Db, source: string, type: string): Promise<string[]> {
  const rows = await t(db).selectFrom('catalog_relations').select('target_ref').distinct().where('source_ref', '=', source).where('type_lc', '=', type.toLowerCase()).execute();
  return rows.map((r) => r.target_ref);
}

export async function countEntities(db: Db): Promise<number> {
  const r = await t(db).selectFrom('catalog_entities').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r?.n ?? 0);
}

type Watermark = { updatedAt: string; uid: string } | undefined;

/** The query of selectChangedSince (its plan is tested). */
export function changedSinceQuery(db: Db, after: Watermark, limit: number) {
  let q = t(db).selectFrom('catalog_entities').selectAll();
  // A row comparison is a range of the (updated_at, uid) index. Its OR form was a filter: PostgreSQL
  // walked the index from its start on every page, and after a bulk load (every row one updated_at)
  // the search index's sync read 100,000 rows in pages of 1,000 in 15 s instead of under one.
  if (after) q = q.where((eb) => eb(eb.refTuple('updated_at', 'uid'), '>', eb.tuple(after.updatedAt, after.uid)));
  return q.orderBy('updated_at').orderBy('uid').limit(limit);
}

/** Entities changed after a (updatedAt, uid) watermark, for indexers that follow the catalog. */
export async function selectChangedSince(db: Db, after: Watermark, limit: number): Promise<StoredEntity[]> {
  return (await changedSinceQuery(db, after, limit).execute()).map(toStored);
}
