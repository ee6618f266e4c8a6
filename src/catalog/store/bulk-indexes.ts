import type { Store } from '../../kernel/index.js';
import type { CatalogTables } from './tables.js';

/**
 * Indexes whose keys arrive in random order during an ingest (search values, relation refs), as the
 * migrations define them. Adding 2.3 M search rows and 850 k relation rows to them one by one was most
 * of a 100,000-entity first ingest (issue #3); built once from the finished tables, by sorting, they
 * cost a fraction. The indexes keyed by entity id (rows arrive in id order) stay during a bulk ingest,
 * so replacing or deleting an entity's rows stays indexed. A migration that changes one of these
 * indexes updates this list too (a test compares it with the migrated schema).
 */
export const deferrableIndexes = [
  { name: 'catalog_search_key_value', table: 'catalog_search', columns: ['key_id', 'value', 'entity_id'] },
  { name: 'catalog_relations_source', table: 'catalog_relations', columns: ['source_ref', 'type_lc', 'target_ref', 'type'] },
  { name: 'catalog_relations_target', table: 'catalog_relations', columns: ['type_lc', 'target_ref'] },
] as const satisfies readonly { name: string; table: keyof CatalogTables; columns: readonly string[] }[];

/** Bulk ingests running per database: the last one to finish builds the indexes back. */
const running = new WeakMap<Store, number>();

/**
 * Drops the deferrable indexes for a bulk ingest; `finishBulkIngest` builds them back. Queries stay
 * correct meanwhile (the indexes enforce nothing), only filters on values and relations get slower.
 */
export async function beginBulkIngest(store: Store): Promise<void> {
  running.set(store, (running.get(store) ?? 0) + 1);
  await store.transaction(async (tx) => {
    for (const index of deferrableIndexes) await tx.tables<CatalogTables>().schema.dropIndex(index.name).ifExists().execute();
  });
}

export async function finishBulkIngest(store: Store): Promise<void> {
  const left = (running.get(store) ?? 1) - 1;
  running.set(store, left);
  if (left === 0) await ensureDeferrableIndexes(store);
}

/**
 * Creates whichever deferrable index is missing: after a bulk ingest, and at start, for a process that
 * stopped in the middle of one.
 */
export async function ensureDeferrableIndexes(store: Store): Promise<void> {
  for (const index of deferrableIndexes) {
    await store.tables<CatalogTables>().schema.createIndex(index.name).ifNotExists().on(index.table).columns([...index.columns]).execute();
  }
}
