/**
 * Condition operators of `preconditions` and `deny.conditions` (pkg/engine/variables/operator).
 * Each takes the substituted key (left) and value (right). Names are matched case-insensitively,
 * except that the numeric comparison itself only fires for the exact spelling, as in Kyverno.
 */
import { deepEqualJson, goSprint, isJsonObject, type JsonValue } from './json.js';
import { matchStringPattern, compileStringPattern, parseGoFloat } from './pattern-value.js';
import { compareQuantities, parseGoDuration, parseQuantity } from './quantity.js';
import { matchWildcard } from './wildcard.js';

export type OperatorFunction = (key: JsonValue, value: JsonValue) => boolean;

/** Go durations other than "0", and numbers read as seconds (operator.go parseDuration). */
function durationPair(key: JsonValue, value: JsonValue): [number, number] | undefined {
  const asDuration = (v: JsonValue) => (typeof v === 'string' && v !== '0' ? parseGoDuration(v) : undefined);
  let keyNs = asDuration(key);
  let valueNs = asDuration(value);
  if (keyNs === undefined && valueNs === undefined) return undefined;
  if (keyNs === undefined) {
    if (typeof key !== 'number') return undefined;
    keyNs = Math.trunc(key) * 1e9;
  }
  if (valueNs === undefined) {
    if (typeof value !== 'number') return undefined;
    valueNs = Math.trunc(value) * 1e9;
  }
  return [keyNs, valueNs];
}

function equals(key: JsonValue, value: JsonValue): boolean | undefined {
  if (typeof key === 'boolean') return typeof value === 'boolean' ? key === value : false;
  if (typeof key === 'number') {
    if (typeof value === 'number') return key === value;
    if (typeof value === 'string') {
      const parsed = parseGoFloat(value);
      return parsed !== undefined && parsed === key;
    }
    return false;
  }
  if (typeof key === 'string') {
    const durations = durationPair(key, value);
    if (durations) return durations[0] === durations[1];
    const quantity = parseQuantity(key);
    if (quantity && typeof value === 'string') {
      const other = parseQuantity(value);
      return other !== undefined && compareQuantities(quantity, other) === 0;
    }
    return typeof value === 'string' ? matchWildcard(value, key) : false;
  }
  if (Array.isArray(key)) return Array.isArray(value) && deepEqualJson(key, value);
  if (isJsonObject(key)) return isJsonObject(value) && deepEqualJson(key, value);
  return undefined; // null key: neither Equals nor NotEquals holds
}

/** NotEquals is the negation of Equals for every key but null (both are false for a null key). */
function notEquals(key: JsonValue, value: JsonValue): boolean {
  const result = equals(key, value);
  return result === undefined ? false : !result;
}

/** The value side of a set operator as text items: a list, a JSON-array string, or one string. */
function valueItems(value: JsonValue): string[] | undefined {
  if (Array.isArray(value)) return value.map(goSprint);
  if (typeof value === 'number') return [goSprint(value)];
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      try {
        const parsed = JSON.parse(trimmed) as unknown;
        if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed as string[];
        return undefined;
      } catch {
        return [value];
      }
    }
    return [value];
  }
  return undefined;
}

const rangePattern = /^-?\d+(?:\.\d+)?[A-Za-z]*!?-(-?\d+(?:\.\d+)?[A-Za-z]*)$/;

function isRange(value: JsonValue): value is string {
  return typeof value === 'string' && rangePattern.test(value) && !value.includes('!-');
}

function inRange(item: string, range: string): boolean {
  return matchStringPattern(item, compileStringPattern(range));
}

function itemMatches(item: string, candidates: readonly string[]): boolean {
  return candidates.some((candidate) => matchWildcard(candidate, item) || matchWildcard(item, candidate));
}

/** Key items as text, or undefined for a key type the set operators do not support. */
function keyItems(key: JsonValue): { items: string[]; scalar: boolean } | undefined {
  if (Array.isArray(key)) return { items: key.map(goSprint), scalar: false };
  if (typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean') return { items: [goSprint(key)], scalar: true };
  return undefined;
}

/** A scalar key against a string value: wildcard first, then range, then exact JSON-array membership. */
function scalarInString(item: string, value: string): boolean {
  if (matchWildcard(value, item)) return true;
  if (isRange(value)) return inRange(item, value);
  const items = valueItems(value);
  return items !== undefined && items.includes(item);
}

function anyIn(key: JsonValue, value: JsonValue): boolean {
  const k = keyItems(key);
  if (!k) return false;
  if (k.scalar && typeof value === 'string') return scalarInString(k.items[0]!, value);
  if (k.scalar && typeof value === 'number') return false;
  if (typeof value === 'string' && isRange(value)) return k.items.some((item) => inRange(item, value));
  if (!k.scalar && typeof value === 'string' && k.items.length === 1 && k.items[0] === value) return true;
  const candidates = valueItems(value);
  return candidates !== undefined && k.items.some((item) => itemMatches(item, candidates));
}

function allIn(key: JsonValue, value: JsonValue): boolean {
  const k = keyItems(key);
  if (!k) return false;
  if (k.scalar && typeof value === 'string') return scalarInString(k.items[0]!, value);
  if (k.scalar && typeof value === 'number') return false;
  if (typeof value === 'string' && isRange(value)) return k.items.every((item) => inRange(item, value));
  if (!k.scalar && typeof value === 'string' && k.items.length === 1 && k.items[0] === value) return true;
  const candidates = valueItems(value);
  return candidates !== undefined && k.items.every((item) => itemMatches(item, candidates));
}

function anyNotIn(key: JsonValue, value: JsonValue): boolean {
  const k = keyItems(key);
  if (!k) return false;
  if (k.scalar && typeof value === 'string') return !scalarInString(k.items[0]!, value);
  if (k.scalar && typeof value === 'number') return false;
  if (typeof value === 'string' && isRange(value)) return k.items.some((item) => !inRange(item, value));
  if (!k.scalar && typeof value === 'string' && k.items.length === 1 && k.items[0] === value) return false;
  const candidates = valueItems(value);
  return candidates !== undefined && k.items.some((item) => !itemMatches(item, candidates));
}

function allNotIn(key: JsonValue, value: JsonValue): boolean {
  const k = keyItems(key);
  if (!k) return false;
  if (k.scalar && typeof value === 'string') return !scalarInString(k.items[0]!, value);
  if (k.scalar && typeof value === 'number') return false;
  if (typeof value === 'string' && isRange(value)) return k.items.every((item) => !inRange(item, value));
  if (!k.scalar && typeof value === 'string' && k.items.length === 1 && k.items[0] === value) return false;
  const candidates = valueItems(value);
  return candidates !== undefined && k.items.every((item) => !itemMatches(item, candidates));
}

/** Deprecated `In`: every key item must be one of the (string) values, compared exactly. */
function legacyIn(key: JsonValue, value: JsonValue): boolean | undefined {
  const values = Array.isArray(value) ? (value.every((v) => typeof v === 'string') ? (value as string[]) : undefined) : typeof value === 'string' ? valueItems(value) : undefined;
  if (values === undefined) return undefined;
  if (typeof key === 'string') return values.includes(key);
  if (Array.isArray(key)) return key.every((item) => typeof item === 'string' && values.includes(item));
  return undefined;
}

type Ordering = 'GreaterThan' | 'GreaterThanOrEquals' | 'LessThan' | 'LessThanOrEquals';

function order(a: number, b: number, op: Ordering): boolean {
  switch (op) {
    case 'GreaterThan':
      return a > b;
    case 'GreaterThanOrEquals':
      return a >= b;
    case 'LessThan':
      return a < b;
    case 'LessThanOrEquals':
      return a <= b;
  }
}

function parseSemver(text: string): number[] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** GreaterThan & co: numbers, then durations, quantities, numeric strings and semantic versions. */
function compareNumeric(key: JsonValue, value: JsonValue, op: Ordering | undefined): boolean {
  if (op === undefined) return false; // Kyverno matches the operator name case-insensitively but compares only on the exact spelling
  const durations = durationPair(key, value);
  if (typeof key === 'number') {
    if (typeof value === 'number') return order(key, value, op);
    if (typeof value !== 'string') return false;
    if (durations) return order(durations[0], durations[1], op);
    const parsed = parseGoFloat(value);
    return parsed !== undefined && order(key, parsed, op);
  }
  if (typeof key !== 'string') return false;
  if (durations) return order(durations[0], durations[1], op);
  const keyQuantity = parseQuantity(key);
  const valueQuantity = typeof value === 'string' ? parseQuantity(value) : undefined;
  if (keyQuantity && valueQuantity) return order(compareQuantities(keyQuantity, valueQuantity), 0, op);
  const keyNumber = parseGoFloat(key);
  if (keyNumber !== undefined) return compareNumeric(keyNumber, value, op);
  const keyVersion = parseSemver(key);
  const valueVersion = typeof value === 'string' ? parseSemver(value) : undefined;
  if (keyVersion && valueVersion) {
    const diff = keyVersion.map((part, i) => part - valueVersion[i]!).find((d) => d !== 0) ?? 0;
    return order(diff, 0, op);
  }
  return false;
}

function compareDurations(key: JsonValue, value: JsonValue, op: Ordering): boolean {
  const asNs = (v: JsonValue) => (typeof v === 'number' ? v * 1e9 : typeof v === 'string' ? parseGoDuration(v) : undefined);
  const a = asNs(key);
  const b = asNs(value);
  return a !== undefined && b !== undefined && order(a, b, op);
}

const exactOrdering: Record<string, Ordering> = {
  GreaterThan: 'GreaterThan',
  GreaterThanOrEquals: 'GreaterThanOrEquals',
  LessThan: 'LessThan',
  LessThanOrEquals: 'LessThanOrEquals',
};

/** The operator for a condition, or undefined when Kyverno does not know the name (an `error`). */
export function resolveOperator(name: string): OperatorFunction | undefined {
  switch (name.toLowerCase()) {
    case 'equal':
    case 'equals':
      return (k, v) => equals(k, v) === true;
    case 'notequal':
    case 'notequals':
      return notEquals;
    case 'in':
      return (k, v) => legacyIn(k, v) === true;
    case 'notin':
      return (k, v) => legacyIn(k, v) === false;
    case 'anyin':
      return anyIn;
    case 'allin':
      return allIn;
    case 'anynotin':
      return anyNotIn;
    case 'allnotin':
      return allNotIn;
    case 'greaterthan':
    case 'greaterthanorequals':
    case 'lessthan':
    case 'lessthanorequals':
      return (k, v) => compareNumeric(k, v, exactOrdering[name]);
    case 'durationgreaterthan':
      return (k, v) => compareDurations(k, v, 'GreaterThan');
    case 'durationgreaterthanorequals':
      return (k, v) => compareDurations(k, v, 'GreaterThanOrEquals');
    case 'durationlessthan':
      return (k, v) => compareDurations(k, v, 'LessThan');
    case 'durationlessthanorequals':
      return (k, v) => compareDurations(k, v, 'LessThanOrEquals');
    default:
      return undefined;
  }
}
