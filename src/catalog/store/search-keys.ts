import type { Store, Tx } from '../../kernel/index.js';
import type { CatalogTables } from './tables.js';

/** Known key ids of one database; an id never changes once committed, so a cache never goes stale. */
const committed = new WeakMap<Store, Map<string, number>>();

/**
 * Ids of search keys, adding the keys the dictionary lacks. Ids added in `tx` join the cache only when
 * it commits: an id from a rolled-back insert would name no key.
 */
export async function searchKeyIds(store: Store, tx: Tx, keys: Iterable<string>): Promise<Map<string, number>> {
  let cache = committed.get(store);
  if (!cache) committed.set(store, (cache = new Map()));
  const known = cache;
  const out = new Map<string, number>();
  const missing: string[] = [];
  for (const key of keys) {
    if (out.has(key)) continue;
    const id = known.get(key);
    if (id === undefined) missing.push(key);
    else out.set(key, id);
  }
  if (missing.length === 0) return out;
  const k = tx.tables<CatalogTables>();
  for (let i = 0; i < missing.length; i += 500) {
    const part = missing.slice(i, i + 500);
    await k
      .insertInto('catalog_search_keys')
      .values(part.map((key) => ({ key })))
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const rows = await k.selectFrom('catalog_search_keys').select(['id', 'key']).where('key', 'in', part).execute();
    for (const r of rows) out.set(r.key, Number(r.id));
  }
  const added = missing.map((key) => [key, out.get(key)!] as const);
  tx.afterCommit(() => {
    for (const [key, id] of added) known.set(key, id);
  });
  return out;
}
