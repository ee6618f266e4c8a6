import type { Selectable } from 'kysely';
import type { Db } from '../../kernel/index.js';
import type { Entity, EntityRelation, EntityStatusItem } from '../model/entity.js';
import { splitRefKey } from '../model/refs.js';
import type { RelationRow } from '../model/relations.js';
import type { SearchRow } from '../model/search-rows.js';
import type { StoredEntity } from '../model/types.js';
import type { CatalogTables } from './tables.js';

type Row = Selectable<CatalogTables['catalog_entities']>;
type NewRow = Omit<Row, 'id'>;
const t = (db: Db) => db.tables<CatalogTables>();
const CHUNK = 400;

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
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Replaces entities with their relations and search rows (one transaction, the caller's). */
export async function writeEntities(db: Db, writes: readonly EntityWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const k = t(db);
  for (const batch of chunks(writes, CHUNK)) {
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
    const ids = [...idOf.values()];
    await k.deleteFrom('catalog_relations').where('origin_id', 'in', ids).execute();
    await k.deleteFrom('catalog_search').where('entity_id', 'in', ids).execute();
    const relations = batch.flatMap((w) =>
      w.relations.map((r) => ({ origin_id: idOf.get(w.row.uid)!, source_ref: r.source, type: r.type, type_lc: r.type.toLowerCase(), target_ref: r.target })),
    );
    for (const part of chunks(relations, 1000)) await k.insertInto('catalog_relations').values(part).execute();
    const search = batch.flatMap((w) => w.search.map((s) => ({ entity_id: idOf.get(w.row.uid)!, key: s.key, value: s.value, original: s.original })));
    for (const part of chunks(search, 1500)) await k.insertInto('catalog_search').values(part).execute();
  }
}

export async function selectByRefs(db: Db, refs: readonly string[]): Promise<StoredEntity[]> {
  const out: StoredEntity[] = [];
  for (const part of chunks([...new Set(refs)], 500)) {
    const rows = await t(db).selectFrom('catalog_entities').selectAll().where('entity_ref', 'in', part).execute();
    out.push(...rows.map(toStored));
  }
  return out;
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

/** Relations whose source is one of the refs, as Backstage serves them in `relations[]`. */
export async function selectRelations(db: Db, refs: readonly string[]): Promise<Map<string, EntityRelation[]>> {
  const map = new Map<string, EntityRelation[]>();
  for (const part of chunks([...new Set(refs)], 500)) {
    const rows = await t(db)
      .selectFrom('catalog_relations')
      .select(['source_ref', 'type', 'target_ref'])
      .distinct()
      .where('source_ref', 'in', part)
      .execute();
    for (const r of rows) {
      const list = map.get(r.source_ref) ?? [];
      list.push({ type: r.type, targetRef: r.target_ref, target: splitRefKey(r.target_ref) });
      map.set(r.source_ref, list);
    }
  }
  for (const list of map.values()) list.sort((a, b) => a.type.localeCompare(b.type) || a.targetRef.localeCompare(b.targetRef));
  return map;
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

/** Entities changed after a (updatedAt, uid) watermark, for indexers that follow the catalog. */
export async function selectChangedSince(db: Db, after: { updatedAt: string; uid: string } | undefined, limit: number): Promise<StoredEntity[]> {
  let q = t(db).selectFrom('catalog_entities').selectAll();
  if (after) {
    q = q.where((eb) => eb.or([eb('updated_at', '>', after.updatedAt), eb.and([eb('updated_at', '=', after.updatedAt), eb('uid', '>', after.uid)])]));
  }
  const rows = await q.orderBy('updated_at').orderBy('uid').limit(limit).execute();
  return rows.map(toStored);
}
