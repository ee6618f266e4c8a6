import type { Entity } from './entity.js';

/** One (key, value) row of an entity's search projection: the whole contract of filter=, facet= and order. */
export interface SearchRow {
  key: string;
  /** Lowercased; null when longer than 200 characters (still matches an existence filter). */
  value: string | null;
  /** The value in its original case, for facets (Backstage keeps facet values' case). */
  original: string | null;
}

const MAX_KEY = 200;
const MAX_VALUE = 200;

/** Paths Backstage's buildEntitySearch leaves out; an etag changes on every write and names one entity. */
const UNINDEXED_PATHS = new Set(['metadata.etag']);

/**
 * Flattens an entity the way Backstage's buildEntitySearch does (NOTES.md a): dot-path keys, lowercased,
 * arrays traversed, string array items also as `<path>.<item> = true`; relations, status and attachments
 * are not traversed (relations are matched from the relations table), nor is `metadata.etag`.
 */
export function buildSearchRows(entity: Entity): SearchRow[] {
  const rows: SearchRow[] = [];
  const push = (key: string, value: unknown) => {
    if (key.length > MAX_KEY) return;
    const text = value === null || value === undefined ? null : String(value);
    const fits = text !== null && text.length <= MAX_VALUE;
    rows.push({ key: key.toLowerCase(), value: fits ? text!.toLowerCase() : null, original: fits ? text : null });
  };
  const walk = (path: string, value: unknown) => {
    if (UNINDEXED_PATHS.has(path)) return;
    if (value === null || value === undefined) {
      push(path, null);
    } else if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item === 'string') push(`${path}.${item}`, 'true');
        walk(path, item);
      }
    } else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(path ? `${path}.${k}` : k, v);
    } else {
      push(path, value);
    }
  };
  for (const [key, value] of Object.entries(entity)) {
    if (key === 'relations' || key === 'status' || key === 'attachments') continue;
    walk(key, value);
  }
  const has = (k: string) => rows.some((r) => r.key === k);
  if (!has('metadata.namespace')) push('metadata.namespace', 'default');
  // Two keys differing only in case collapse into one; keep unique (key, value) pairs.
  const seen = new Set<string>();
  return rows.filter((r) => {
    const id = `${r.key}\u0000${r.value ?? '\u0001null'}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
