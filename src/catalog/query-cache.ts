/**
 * Results of catalog reads that scan many rows (totals, facets), kept until the catalog changes.
 * Concurrent callers of one key share one query; a change clears everything (the catalog changes
 * rarely next to how often it is read).
 */
export interface QueryCache {
  get<T>(key: string, compute: () => Promise<T>): Promise<T>;
  invalidate(): void;
}

export function createQueryCache(maxEntries = 500): QueryCache {
  const entries = new Map<string, Promise<unknown>>();
  return {
    get<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const hit = entries.get(key);
      if (hit) {
        // Re-inserted: the map's order is the eviction order (least recently used first).
        entries.delete(key);
        entries.set(key, hit);
        return hit as Promise<T>;
      }
      const value = compute();
      entries.set(key, value);
      value.catch(() => {
        if (entries.get(key) === value) entries.delete(key);
      });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return value;
    },
    invalidate() {
      entries.clear();
    },
  };
}
