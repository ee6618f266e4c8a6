import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { Store } from '../../kernel/index.js';
import type { EntityRelation } from '../model/entity.js';
import { splitRefKey } from '../model/refs.js';
import type { CatalogTables } from './tables.js';

/** An entity's stored JSON, unparsed, with the relations whose source it is: everything a read serves. */
export interface ServedRow {
  uid: string;
  ref: string;
  body: string;
  problems: string;
  relations: EntityRelation[];
}

/**
 * `[[type, target_ref], …]` of the relations whose source is `e`, as JSON text. Aggregated in the
 * query that reads the bodies: a page of 50 entities was a query for the bodies and one for 300-odd
 * relation rows, whose row objects and strings cost more than the rows' SQL (issue #3, by-query).
 */
function relationsOf(store: Store): RawBuilder<string> {
  return sql<string>`(select ${store.dialect.jsonArrayOfArrays([sql.ref('r.type'), sql.ref('r.target_ref')])} from catalog_relations r where r.source_ref = e.entity_ref)`;
}

/** Code-unit order (refs are lowercase ASCII in practice): localeCompare cost more than the query. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Relations as Backstage serves them in `relations[]`: ordered by type and target, each once (two
 * origins may emit the same relation, e.g. a group's children and the child's parent).
 */
export function servedRelations(pairs: readonly (readonly [string, string])[]): EntityRelation[] {
  const sorted = [...pairs].sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
  const out: EntityRelation[] = [];
  let last: readonly [string, string] | undefined;
  for (const pair of sorted) {
    if (last && last[0] === pair[0] && last[1] === pair[1]) continue;
    last = pair;
    out.push({ type: pair[0], targetRef: pair[1], target: splitRefKey(pair[1]) });
  }
  return out;
}

interface ServedDbRow {
  uid: string;
  entity_ref: string;
  body: string;
  problems: string;
  relations: string;
}

/** Compiled statements by database, column and key count: their only parameters are the keys, in order. */
const compiledByShape = new WeakMap<Store, Map<string, CompiledQuery<ServedDbRow>>>();

/**
 * The read of `keys` by `column`. Building and compiling it in Kysely cost about as much as SQLite
 * running it for one entity (by-name), so each shape is compiled once and its parameters replaced.
 */
function servedQuery(store: Store, column: 'uid' | 'entity_ref', keys: string[]): CompiledQuery<ServedDbRow> {
  let cache = compiledByShape.get(store);
  if (!cache) compiledByShape.set(store, (cache = new Map()));
  const shape = `${column}:${keys.length}`;
  let compiled = cache.get(shape);
  if (!compiled) {
    compiled = store
      .tables<CatalogTables & { e: CatalogTables['catalog_entities'] }>()
      .selectFrom('catalog_entities as e')
      .select(['e.uid', 'e.entity_ref', 'e.body', 'e.problems', relationsOf(store).as('relations')])
      .where(`e.${column}`, 'in', keys)
      .compile();
    if (compiled.parameters.length !== keys.length) throw new Error(`served query for ${shape} has ${compiled.parameters.length} parameters`);
    cache.set(shape, compiled);
  }
  return { ...compiled, parameters: keys };
}

async function selectServed(store: Store, column: 'uid' | 'entity_ref', keys: readonly string[]): Promise<ServedRow[]> {
  const out: ServedRow[] = [];
  const unique = [...new Set(keys)];
  for (let i = 0; i < unique.length; i += 500) {
    const { rows } = await store.tables<CatalogTables>().executeQuery(servedQuery(store, column, unique.slice(i, i + 500)));
    for (const r of rows) {
      out.push({ uid: r.uid, ref: r.entity_ref, body: r.body, problems: r.problems, relations: servedRelations(JSON.parse(r.relations) as [string, string][]) });
    }
  }
  return out;
}

/** Entities by uid (any order; missing uids are left out). */
export const selectServedByUids = (store: Store, uids: readonly string[]) => selectServed(store, 'uid', uids);

/** Entities by canonical ref (any order; missing refs are left out). */
export const selectServedByRefs = (store: Store, refs: readonly string[]) => selectServed(store, 'entity_ref', refs);
