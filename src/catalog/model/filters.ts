import { InputError } from '../../kernel/index.js';

/**
 * A catalog filter, from either style Backstage clients send: `filter=` query sets or the predicate
 * form (`$all/$any/$not`, `$exists/$in/$hasPrefix/$contains`). Keys and values are lowercased here,
 * because matching is case-insensitive on both (NOTES.md b, "Filter semantics").
 */
export type FilterNode =
  | { op: 'all'; items: FilterNode[] }
  | { op: 'any'; items: FilterNode[] }
  | { op: 'not'; item: FilterNode }
  | { op: 'in'; key: string; values: string[] }
  | { op: 'exists'; key: string }
  | { op: 'prefix'; key: string; prefix: string }
  | { op: 'relation'; type: string; targetRefs?: string[] };

export const matchAll: FilterNode = { op: 'all', items: [] };

const MAX_NODES = 200;

function leaf(key: string, values: string[] | undefined): FilterNode {
  const k = key.trim().toLowerCase();
  if (k.startsWith('relations.')) {
    const type = k.slice('relations.'.length);
    if (!type) throw new InputError(`filter key "${key}" names no relation type`);
    return values === undefined ? { op: 'relation', type } : { op: 'relation', type, targetRefs: values.map((v) => v.toLowerCase()) };
  }
  return values === undefined ? { op: 'exists', key: k } : { op: 'in', key: k, values: values.map((v) => v.trim().toLowerCase()) };
}

/** `filter=a=1,a=2,b` → (a=1 OR a=2) AND b exists; several `filter=` parameters are ORed. */
export function parseFilterParams(params: readonly string[]): FilterNode {
  if (params.length === 0) return matchAll;
  const sets = params.map((param) => {
    const byKey = new Map<string, string[] | undefined>();
    for (const statement of param.split(',')) {
      const eq = statement.indexOf('=');
      const key = (eq < 0 ? statement : statement.slice(0, eq)).trim();
      if (!key) throw new InputError(`filter "${param}": a statement has an empty key; use key=value or key`);
      const k = key.toLowerCase();
      if (eq < 0) {
        if (!byKey.has(k)) byKey.set(k, undefined);
        continue;
      }
      const value = statement.slice(eq + 1).trim();
      byKey.set(k, [...(byKey.get(k) ?? []), value]);
    }
    return { op: 'all', items: [...byKey].map(([k, v]) => leaf(k, v)) } as FilterNode;
  });
  return sets.length === 1 ? sets[0]! : { op: 'any', items: sets };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function primitive(value: Json, path: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new InputError(`query${path}: expected a string, number or boolean`);
}

/** The predicate form used by POST bodies (`query`), as in @backstage/filter-predicates. */
export function parsePredicate(query: unknown): FilterNode {
  let count = 0;
  const visit = (node: Json, path: string): FilterNode => {
    if (++count > MAX_NODES) throw new InputError(`query: more than ${MAX_NODES} terms`);
    if (node === null || typeof node !== 'object' || Array.isArray(node)) throw new InputError(`query${path}: expected an object`);
    const entries = Object.entries(node);
    if ('$all' in node || '$any' in node || '$not' in node) {
      if (entries.length !== 1) throw new InputError(`query${path}: $all, $any and $not stand alone in their object`);
      const [op, value] = entries[0]!;
      if (op === '$not') return { op: 'not', item: visit(value, `${path}.$not`) };
      if (!Array.isArray(value)) throw new InputError(`query${path}.${op}: expected an array`);
      return { op: op === '$all' ? 'all' : 'any', items: value.map((v, i) => visit(v, `${path}.${op}[${i}]`)) };
    }
    const items = entries.map(([key, value]) => {
      if (key.startsWith('$')) throw new InputError(`query${path}: unknown operator ${key}`);
      return matcher(key, value, `${path}.${key}`);
    });
    return items.length === 1 ? items[0]! : { op: 'all', items };
  };
  const matcher = (key: string, value: Json, path: string): FilterNode => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return leaf(key, [primitive(value, path)]);
    const ops = Object.entries(value);
    if (ops.length !== 1) throw new InputError(`query${path}: a value matcher has exactly one operator`);
    const [op, arg] = ops[0]!;
    switch (op) {
      case '$exists':
        if (typeof arg !== 'boolean') throw new InputError(`query${path}.$exists: expected true or false`);
        return arg ? leaf(key, undefined) : { op: 'not', item: leaf(key, undefined) };
      case '$in':
        if (!Array.isArray(arg)) throw new InputError(`query${path}.$in: expected an array`);
        return leaf(key, arg.map((v, i) => primitive(v, `${path}.$in[${i}]`)));
      case '$hasPrefix':
        if (typeof arg !== 'string') throw new InputError(`query${path}.$hasPrefix: expected a string`);
        if (key.toLowerCase().startsWith('relations')) throw new InputError(`query${path}: $hasPrefix does not apply to relations`);
        return { op: 'prefix', key: key.toLowerCase(), prefix: arg.toLowerCase() };
      case '$contains':
        return contains(key, arg, path);
      default:
        throw new InputError(`query${path}: unknown value operator ${op}; use $exists, $in, $hasPrefix or $contains`);
    }
  };
  const contains = (key: string, arg: Json, path: string): FilterNode => {
    if (key.toLowerCase() === 'relations') {
      if (arg === null || typeof arg !== 'object' || Array.isArray(arg) || typeof arg.type !== 'string') {
        throw new InputError(`query${path}.$contains: expected {type, targetRef?}`);
      }
      const targetRef = arg.targetRef;
      if (targetRef !== undefined && typeof targetRef !== 'string') throw new InputError(`query${path}.$contains.targetRef: expected a string`);
      return { op: 'relation', type: arg.type.toLowerCase(), ...(targetRef ? { targetRefs: [targetRef.toLowerCase()] } : {}) };
    }
    if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
      const [op, inner] = Object.entries(arg)[0] ?? [];
      if ((op === '$any' || op === '$all') && Array.isArray(inner)) {
        const items = inner.map((v, i) => leaf(key, [primitive(v, `${path}.$contains.${op}[${i}]`)]));
        return { op: op === '$any' ? 'any' : 'all', items };
      }
      throw new InputError(`query${path}.$contains: only scalar values, $any/$all of scalars, or relations are supported`);
    }
    return leaf(key, [primitive(arg, `${path}.$contains`)]);
  };
  return visit(query as Json, '');
}

export interface OrderField {
  field: string;
  order: 'asc' | 'desc';
}

/** `orderField=metadata.name,asc` (by-query) or `order=asc:metadata.name` (GET /entities). */
export function parseOrderField(text: string, style: 'by-query' | 'entities'): OrderField {
  if (style === 'by-query') {
    const [field, order = 'asc'] = text.split(',').map((s) => s.trim());
    if (!field || (order !== 'asc' && order !== 'desc')) throw new InputError(`orderField "${text}": use field,asc or field,desc`);
    return { field: field.toLowerCase(), order };
  }
  const colon = text.indexOf(':');
  const order = colon < 0 ? 'asc' : text.slice(0, colon).trim();
  const field = (colon < 0 ? text : text.slice(colon + 1)).trim();
  if (!field || (order !== 'asc' && order !== 'desc')) throw new InputError(`order "${text}": use asc:field or desc:field`);
  return { field: field.toLowerCase(), order };
}

/** Keeps only the given dot paths (subtrees); greedy on keys that contain dots, such as annotation keys. */
export function pickFields<T extends object>(entity: T, fields: readonly string[]): Partial<T> {
  if (fields.length === 0) return entity;
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.includes('[')) throw new InputError(`fields: "${field}" uses array indexing, which is not supported`);
    copyPath(entity as Record<string, unknown>, out, field.split('.'));
  }
  return out as Partial<T>;
}

function copyPath(src: Record<string, unknown>, dst: Record<string, unknown>, parts: string[]): void {
  for (let take = parts.length; take >= 1; take--) {
    const key = parts.slice(0, take).join('.');
    if (!(key in src)) continue;
    const rest = parts.slice(take);
    const value = src[key];
    if (rest.length === 0) {
      dst[key] = structuredClone(value);
      return;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const child = (dst[key] ??= {}) as Record<string, unknown>;
      copyPath(value as Record<string, unknown>, child, rest);
    }
    return;
  }
}

export function parseFieldsParam(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((f) => f.trim()).filter((f) => f.length > 0);
}
