/** Kyverno's functions over maps and lists, and `semver_compare`. */
import { goSprint, isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { arrayArg, FunctionError, objectArg, stringArg } from './args.js';
import type { FunctionDefinition } from './types.js';

/** `items(map, k, v)` → `[{k: key, v: value}]` sorted by key; lists give their index as the key. */
function items(args: JsonValue[]): JsonValue {
  const collection = args[0];
  const keyName = stringArg('items', args, 1);
  const valueName = stringArg('items', args, 2);
  if (Array.isArray(collection)) return collection.map((value, index) => ({ [keyName]: index, [valueName]: value }));
  if (!isJsonObject(collection)) throw new FunctionError('items', 'argument 1 is expected of object or array type');
  return Object.keys(collection)
    .sort()
    .map((key) => ({ [keyName]: key, [valueName]: collection[key]! }));
}

function lookup(args: JsonValue[]): JsonValue {
  const [collection, key] = args;
  if (isJsonObject(collection)) {
    if (typeof key !== 'string') throw new FunctionError('lookup', 'argument 2 is expected of string type');
    return collection[key] ?? null;
  }
  if (Array.isArray(collection)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) throw new FunctionError('lookup', 'argument 2 is expected of integer type');
    return collection[key] ?? null;
  }
  throw new FunctionError('lookup', 'argument 1 is expected of object or array type');
}

function objectFromLists(args: JsonValue[]): JsonValue {
  const keys = arrayArg('object_from_lists', args, 0);
  const values = arrayArg('object_from_lists', args, 1);
  const result: JsonObject = {};
  keys.forEach((key, index) => {
    if (typeof key === 'string') result[key] = values[index] ?? null;
  });
  return result;
}

function labelMatch(args: JsonValue[]): JsonValue {
  const selector = objectArg('label_match', args, 0);
  const labels = objectArg('label_match', args, 1);
  return Object.entries(selector).every(([key, value]) => Object.prototype.hasOwnProperty.call(labels, key) && goSprint(labels[key]) === goSprint(value));
}

interface Version {
  major: number;
  minor: number;
  patch: number;
  pre: string[];
}

function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text.trim());
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), pre: match[4] ? match[4].split('.') : [] };
}

function compareVersions(a: Version, b: Version): number {
  for (const part of ['major', 'minor', 'patch'] as const) if (a[part] !== b[part]) return a[part] < b[part] ? -1 : 1;
  if (a.pre.length === 0 || b.pre.length === 0) return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    if (numeric) return Number(x) < Number(y) ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** blang/semver ranges: `>=1.0.0 <2.0.0 || 3.x`-style, with `!=`, `=`, `<`, `<=`, `>`, `>=`. */
function satisfies(version: Version, range: string): boolean {
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .every((term) => {
        const match = /^(>=|<=|!=|==|=|>|<)?(.+)$/.exec(term);
        const target = parseVersion((match?.[2] ?? term).replace(/\.x/g, '.0'));
        if (!target) throw new FunctionError('semver_compare', `invalid range ${JSON.stringify(range)}`);
        const order = compareVersions(version, target);
        switch (match?.[1] ?? '=') {
          case '>=':
            return order >= 0;
          case '<=':
            return order <= 0;
          case '>':
            return order > 0;
          case '<':
            return order < 0;
          case '!=':
            return order !== 0;
          default:
            return order === 0;
        }
      }),
  );
}

/**
 * JMESPath's `sort`: numbers numerically, strings by code point. Registered over the library's, which
 * compares numbers as text (so `[10, 9]` would stay in that order).
 */
function sortValues(args: JsonValue[]): JsonValue {
  const list = arrayArg('sort', args, 0);
  if (list.every((v) => typeof v === 'number')) return [...(list as number[])].sort((a, b) => a - b);
  if (list.every((v) => typeof v === 'string')) return [...(list as string[])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  throw new FunctionError('sort', 'argument 1 is expected of array[number] or array[string] type');
}

export const objectFunctions: FunctionDefinition[] = [
  { name: 'sort', arity: 1, run: sortValues },
  { name: 'items', arity: 3, run: items },
  { name: 'lookup', arity: 2, run: lookup },
  { name: 'object_from_lists', arity: 2, run: objectFromLists },
  { name: 'label_match', arity: 2, run: labelMatch },
  {
    name: 'semver_compare',
    arity: 2,
    run: (a) => {
      const version = parseVersion(stringArg('semver_compare', a, 0));
      if (!version) throw new FunctionError('semver_compare', `invalid version ${JSON.stringify(a[0])}`);
      return satisfies(version, stringArg('semver_compare', a, 1));
    },
  },
];
