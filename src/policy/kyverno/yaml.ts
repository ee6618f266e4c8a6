/**
 * YAML as Kubernetes tooling reads it (sigs.k8s.io/yaml on go-yaml v2): YAML 1.1 scalars, so `yes`
 * and `on` are booleans and `0755` is octal, but timestamps and `12:30` stay strings because they
 * end up in JSON. Every document must be plain JSON data.
 */
import { parseAllDocuments, type Tags } from 'yaml';
import type { JsonValue } from './json.js';

/** Aliases expand at most this many times per document (a guard against YAML bombs). */
const maxAliasCount = 100;

const droppedTags = new Set(['tag:yaml.org,2002:timestamp', 'tag:yaml.org,2002:binary', 'tag:yaml.org,2002:omap', 'tag:yaml.org,2002:pairs', 'tag:yaml.org,2002:set']);

function kubernetesTags(tags: Tags): Tags {
  return tags.filter((tag) => typeof tag === 'string' || !(droppedTags.has(tag.tag) || ('format' in tag && tag.format === 'TIME')));
}

export interface YamlDocument {
  index: number;
  value: JsonValue;
}

/** A YAML problem with the file and line it comes from. */
export class YamlError extends Error {
  override readonly name = 'YamlError';
}

/** Parses every non-empty document of a multi-document file. */
export function parseYamlDocuments(text: string, source: string): YamlDocument[] {
  const documents = parseAllDocuments(text, { version: '1.1', customTags: kubernetesTags, prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [documents];
  const result: YamlDocument[] = [];
  list.forEach((document, index) => {
    const problem = document.errors[0];
    if (problem) {
      const position = problem.linePos?.[0];
      throw new YamlError(`${source}${position ? `:${position.line}:${position.col}` : ''}: invalid YAML: ${problem.message.split('\n')[0]}`);
    }
    const value = document.toJS({ maxAliasCount }) as unknown;
    if (value === null || value === undefined) return;
    result.push({ index, value: toJson(value, `${source}: document ${index + 1}`) });
  });
  return result;
}

/** Parses a single-document YAML (or JSON) file. */
export function parseYamlDocument(text: string, source: string): JsonValue {
  const documents = parseYamlDocuments(text, source);
  if (documents.length !== 1) throw new YamlError(`${source}: expected one YAML document, found ${documents.length}`);
  return documents[0]!.value;
}

function toJson(value: unknown, where: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new YamlError(`${where}: ${value} is not a JSON number`);
    return value;
  }
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map((item) => toJson(item, where));
  if (value instanceof Map) {
    return Object.fromEntries([...value.entries()].map(([key, item]) => [String(key), toJson(item, where)]));
  }
  if (typeof value === 'object') {
    const result: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) result[key] = toJson(item, where);
    return result;
  }
  throw new YamlError(`${where}: ${typeof value} values are not JSON`);
}

