/** JSON Schemas of API definitions read into trees, local `$ref`s resolved; shared by OpenAPI and AsyncAPI. */

export type Json = Record<string, unknown>;

const maxDepth = 8;

export interface SchemaNode {
  /** `object`, `string`, `array`, `integer`… or the referenced schema's name with its type. */
  type: string;
  refName?: string;
  description?: string;
  format?: string;
  enum?: string[];
  /** `min 0`, `max 50`, `default 1`, `nullable`, `deprecated`… */
  notes: string[];
  properties?: SchemaProperty[];
  items?: SchemaNode;
  variants?: { kind: 'oneOf' | 'anyOf' | 'allOf'; nodes: SchemaNode[] };
  /** A `$ref` already being expanded above: shown by name only. */
  recursive?: boolean;
}

export interface SchemaProperty {
  name: string;
  required: boolean;
  schema: SchemaNode;
}

/** A JSON Schema (or OpenAPI Schema Object) as a tree, `$ref`s expanded once per branch. */
export function readSchema(doc: Json, raw: unknown, seen: readonly string[] = [], depth = 0): SchemaNode {
  const ref = isObject(raw) && typeof raw.$ref === 'string' ? raw.$ref : undefined;
  const name = refName(raw);
  if (ref !== undefined && (seen.includes(ref) || depth >= maxDepth)) return { type: name ?? 'object', refName: name, notes: [], recursive: true };
  const schema = asObject(resolve(doc, raw));
  const path = ref === undefined ? seen : [...seen, ref];
  const next = (value: unknown) => readSchema(doc, value, path, depth + 1);

  const notes: string[] = [];
  for (const key of ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern', 'default', 'example'] as const) {
    if (schema[key] !== undefined) notes.push(`${noteLabel[key]} ${typeof schema[key] === 'string' ? schema[key] : JSON.stringify(schema[key])}`);
  }
  if (schema.nullable === true) notes.push('nullable');
  if (schema.deprecated === true) notes.push('deprecated');
  if (schema.readOnly === true) notes.push('read-only');
  if (schema.writeOnly === true) notes.push('write-only');

  const node: SchemaNode = {
    type: typeOf(schema),
    refName: name,
    description: str(schema.description) ?? str(schema.title),
    format: str(schema.format),
    enum: Array.isArray(schema.enum) ? schema.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : undefined,
    notes,
  };
  if (isObject(schema.properties)) {
    const required = new Set(asStrings(schema.required));
    node.properties = Object.entries(schema.properties).map(([prop, value]) => ({ name: prop, required: required.has(prop), schema: next(value) }));
  }
  if (schema.items !== undefined) node.items = next(schema.items);
  for (const kind of ['allOf', 'oneOf', 'anyOf'] as const) {
    if (Array.isArray(schema[kind])) node.variants = { kind, nodes: (schema[kind] as unknown[]).map(next) };
  }
  return node;
}

const noteLabel = {
  minimum: 'min',
  maximum: 'max',
  minLength: 'min length',
  maxLength: 'max length',
  minItems: 'min items',
  maxItems: 'max items',
  pattern: 'pattern',
  default: 'default',
  example: 'example',
} as const;

function typeOf(schema: Json): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.filter((t) => typeof t === 'string').join(' | ');
  if (schema.properties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  if (schema.allOf !== undefined) return 'all of';
  if (schema.oneOf !== undefined) return 'one of';
  if (schema.anyOf !== undefined) return 'any of';
  if (schema.enum !== undefined) return 'enum';
  return 'any';
}

/** Follows local `$ref`s (`#/components/schemas/Basket`); a ref to another file or a missing target stays as it is. */
export function resolve(doc: Json, value: unknown, hops = 0): unknown {
  if (!isObject(value) || typeof value.$ref !== 'string' || !value.$ref.startsWith('#/') || hops > 20) return value;
  let current: unknown = doc;
  for (const part of value.$ref.slice(2).split('/')) {
    if (!isObject(current)) return value;
    current = current[unescapePointer(part)];
  }
  return current === undefined ? value : resolve(doc, current, hops + 1);
}

export function refName(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.$ref !== 'string') return undefined;
  const last = value.$ref.split('/').pop();
  return last === undefined || last === '' ? undefined : unescapePointer(last);
}

export function escapePointer(part: string): string {
  return part.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(part: string): string {
  return decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): Json {
  return isObject(value) ? value : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asStrings(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === 'string');
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}
