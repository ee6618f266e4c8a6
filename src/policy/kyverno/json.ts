/**
 * JSON values as Kyverno sees them (Go's `interface{}` after `json.Unmarshal`), and the few Go
 * formatting rules the engine depends on: Kyverno compares many values through their Go text form.
 */
export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasOwn(object: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** A deep copy, so a per-resource override never leaks into the shared parsed document. */
export function cloneJson<T extends JsonValue | undefined>(value: T): T {
  if (value === undefined || value === null || typeof value !== 'object') return value;
  return structuredClone(value);
}

/** Go's `reflect.DeepEqual` on unmarshalled JSON (numbers are float64, so 1 and 1.0 are equal). */
export function deepEqualJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    return a.every((item, i) => deepEqualJson(item, b[i]));
  }
  const objectA = a as JsonObject;
  const objectB = b as JsonObject;
  const keys = Object.keys(objectA);
  if (keys.length !== Object.keys(objectB).length) return false;
  return keys.every((key) => hasOwn(objectB, key) && deepEqualJson(objectA[key], objectB[key]));
}

/**
 * Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which `fmt.Sprint` uses for float64: the shortest
 * digits, in exponent form when the exponent is < -4 or >= 6 (so 1000000 prints as "1e+06").
 */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exponential = value.toExponential(); // shortest round-trip digits, e.g. "1.5e+6"
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exponential);
  if (!match) return String(value);
  const [, sign, lead, fraction = '', expText] = match;
  const exponent = Number(expText);
  const digits = `${lead}${fraction}`;
  if (exponent < -4 || exponent >= 6) {
    const mantissa = fraction ? `${lead}.${fraction}` : lead!;
    const expAbs = Math.abs(exponent);
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${expAbs < 10 ? `0${expAbs}` : expAbs}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/** Go's `strconv.FormatFloat(f, 'E', -1, 64)`, e.g. 1 → "1E+00" (used by pattern string comparison). */
export function formatGoFloatE(value: number): string {
  const match = /^(-?\d(?:\.\d+)?)e([+-])(\d+)$/.exec(value.toExponential());
  if (!match) return String(value);
  const [, mantissa, sign, exp] = match;
  return `${mantissa}E${sign}${exp!.length < 2 ? `0${exp}` : exp}`;
}

/** Go's `fmt.Sprint(v)` for unmarshalled JSON values. */
export function goSprint(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return formatGoFloat(value);
  if (Array.isArray(value)) return `[${value.map(goSprint).join(' ')}]`;
  const keys = Object.keys(value).sort();
  return `map[${keys.map((key) => `${key}:${goSprint(value[key])}`).join(' ')}]`;
}

/** Go's `json.Marshal` on unmarshalled JSON: object keys sorted, HTML characters escaped. */
export function goJsonMarshal(value: JsonValue | undefined): string {
  return JSON.stringify(sortKeysDeep(value ?? null)).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeysDeep(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (!isJsonObject(value)) return value;
  const sorted: JsonObject = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeysDeep(value[key]!);
  return sorted;
}
