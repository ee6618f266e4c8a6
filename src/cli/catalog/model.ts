import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { parseAllDocuments, type Document } from 'yaml';
import type { Entity } from '../../catalog/index.js';
import { UsageError } from '../errors.js';
import { formatFields, formatTable } from '../format.js';

/** `kind`, `namespace` and `name` of an entity ref, as given (the server compares them case-insensitively). */
export interface EntityName {
  kind: string;
  namespace: string;
  name: string;
}

/** A page of `GET /api/catalog/entities/by-query`. */
export interface EntityPage {
  items: Entity[];
  totalItems: number;
  pageInfo: { nextCursor?: string };
}

/** The wire shape of a registered location. */
export interface LocationView {
  id: string;
  type: string;
  target: string;
  entityRef: string;
}

export const catalogPath = '/api/catalog';
export const defaultListLimit = 100;
export const allPageSize = 500;
export const maxLimit = 10_000;
export const originAnnotation = 'backstage.io/managed-by-origin-location';

// ---------------------------------------------------------------------------------------------------------
// Entity refs

/**
 * Parses `[kind:][namespace/]name` as Backstage does: the first `:` separates the kind only when it comes
 * before the first `/` (so `default/weird:name` is a name with a colon in it).
 */
export function parseEntityRef(ref: string, defaults: { kind: string; namespace: string } = { kind: 'component', namespace: 'default' }): EntityName {
  const text = ref.trim();
  let colon = text.indexOf(':');
  const slash = text.indexOf('/');
  if (slash !== -1 && slash < colon) colon = -1;
  const kind = colon === -1 ? defaults.kind : text.slice(0, colon);
  const namespace = slash === -1 ? defaults.namespace : text.slice(colon + 1, slash);
  const name = text.slice(Math.max(colon + 1, slash + 1));
  if (kind === '' || namespace === '' || name === '' || name.includes('/')) {
    throw new UsageError(`"${ref}" is not an entity ref: use [kind:][namespace/]name, e.g. component:default/petstore`);
  }
  return { kind, namespace, name };
}

/** `kind:namespace/name` with the kind lowercased, as Backstage writes refs. */
export function formatEntityRef(ref: EntityName): string {
  return `${ref.kind.toLowerCase()}:${ref.namespace}/${ref.name}`;
}

/** The ref of an entity (namespace `default` when it has none). */
export function refOf(entity: Pick<Entity, 'kind' | 'metadata'>): string {
  return formatEntityRef({ kind: entity.kind, namespace: entity.metadata.namespace ?? 'default', name: entity.metadata.name });
}

/** A ref as short as it can be written back: without the default kind and without the `default` namespace. */
export function shortRef(ref: string, defaultKind: string): string {
  const { kind, namespace, name } = parseEntityRef(ref, { kind: defaultKind, namespace: 'default' });
  return `${kind.toLowerCase() === defaultKind ? '' : `${kind.toLowerCase()}:`}${namespace === 'default' ? '' : `${namespace}/`}${name}`;
}

// ---------------------------------------------------------------------------------------------------------
// List filters

export interface ListFilterOptions {
  kind?: string;
  type?: string;
  owner?: string;
  filter?: readonly string[];
}

/** Comma-separated values, blanks dropped. */
export function values(list: string): string[] {
  return list
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * The `filter=` parameters of a list: `--kind`, `--type` and `--owner` (each may be a comma-separated list,
 * matching any of its values) apply to every `--filter`, and several `--filter`s match any of them, as
 * several `filter=` parameters do on the server. An owner without a kind is a group (`team-a` →
 * `group:default/team-a`).
 */
export function buildFilters(opts: ListFilterOptions): string[] {
  const common = [
    ...values(opts.kind ?? '').map((k) => `kind=${k}`),
    ...values(opts.type ?? '').map((t) => `spec.type=${t}`),
    ...values(opts.owner ?? '').map((o) => `relations.ownedby=${formatEntityRef(parseEntityRef(o, { kind: 'group', namespace: 'default' }))}`),
  ];
  const extra = opts.filter ?? [];
  if (extra.length === 0) return common.length > 0 ? [common.join(',')] : [];
  return extra.map((f) => [...common, f].join(','));
}

/** Commander parser for a repeatable `--filter key=value,key2=value2,key3`: checks every statement has a key. */
export function collectFilter(value: string, previous: string[] = []): string[] {
  const statements = value.split(',').map((s) => s.trim());
  for (const statement of statements) {
    const key = statement.split('=', 1)[0]?.trim() ?? '';
    if (key === '') throw new InvalidArgumentError(`"${value}" has an empty key; use key=value[,key=value…] or key (the key exists)`);
  }
  return [...previous, statements.join(',')];
}

/** A whole number of entities, 1 to 10000. */
export function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > maxLimit) throw new InvalidArgumentError(`"${value}" is not a number from 1 to ${maxLimit}`);
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Output

/** A spec field as text, `-` when it is missing or not a string. */
export function specText(entity: Entity, field: string): string {
  const value = entity.spec?.[field];
  return typeof value === 'string' && value !== '' ? value : '-';
}

/** The full ref of an entity's owner: the ownedBy relation (resolved by the server), else spec.owner as written. */
export function ownerRefOf(entity: Entity): string | undefined {
  const relation = entity.relations?.find((r) => r.type.toLowerCase() === 'ownedby');
  if (relation !== undefined) return relation.targetRef;
  const owner = entity.spec?.owner;
  return typeof owner === 'string' && owner !== '' ? owner : undefined;
}

/** The owner as `--owner` takes it: `team-a` for group:default/team-a. */
export function shortOwner(entity: Entity): string {
  const owner = ownerRefOf(entity);
  if (owner === undefined) return '-';
  try {
    return shortRef(owner, 'group');
  } catch {
    return owner;
  }
}

/** REF, TITLE, TYPE, OWNER and LIFECYCLE of each entity. */
export function entityTable(entities: readonly Entity[]): string {
  const rows = entities.map((e) => [refOf(e), e.metadata.title ?? '-', specText(e, 'type'), shortOwner(e), specText(e, 'lifecycle')]);
  return formatTable(['REF', 'TITLE', 'TYPE', 'OWNER', 'LIFECYCLE'], rows);
}

/** "showing 20 of 135", with a hint when there are more. */
export function listFooter(shown: number, total: number): string {
  const hint = shown < total ? ' (--all for every one, --limit N for a bigger page)' : '';
  return `showing ${shown} of ${total}${hint}`;
}

/** Relation targets grouped by type, types and targets sorted. */
export function groupRelations(entity: Entity): [string, string[]][] {
  const byType = new Map<string, string[]>();
  for (const r of entity.relations ?? []) byType.set(r.type, [...(byType.get(r.type) ?? []), r.targetRef]);
  return [...byType]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, targets]) => [type, [...new Set(targets)].sort()]);
}

/** The human view of one entity: its main fields, then its relations and status problems, if any. */
export function entitySummary(entity: Entity): string {
  const fields: [string, string][] = [
    ['ref', refOf(entity)],
    ['kind', entity.kind],
    ['name', entity.metadata.name],
    ['title', entity.metadata.title ?? '-'],
  ];
  if (entity.metadata.description !== undefined && entity.metadata.description !== '') {
    fields.push(['description', entity.metadata.description.trim().replace(/\s*\n\s*/g, ' ')]);
  }
  if (specText(entity, 'type') !== '-') fields.push(['type', specText(entity, 'type')]);
  fields.push(['owner', ownerRefOf(entity) ?? '-']);
  // Lifecycle and system belong to some kinds only (Component, API, Resource): shown when set.
  for (const field of ['lifecycle', 'system']) if (specText(entity, field) !== '-') fields.push([field, specText(entity, field)]);
  fields.push(['tags', entity.metadata.tags !== undefined && entity.metadata.tags.length > 0 ? entity.metadata.tags.join(', ') : '-']);
  const links = entity.metadata.links ?? [];
  links.forEach((link, i) => fields.push([i === 0 ? 'links' : '', link.title !== undefined && link.title !== '' ? `${link.title} ${link.url}` : link.url]));

  const sections = [formatFields(fields)];
  const relations = groupRelations(entity);
  if (relations.length > 0) sections.push(`relations\n${indent(formatFields(relations.map(([type, targets]) => [type, targets.join(', ')])))}`);
  const problems = entity.status?.items ?? [];
  if (problems.length > 0) sections.push(`status\n${indent(formatFields(problems.map((p) => [p.level, p.message.replace(/\s*\n\s*/g, ' ')])))}`);
  return sections.join('\n\n');
}

export function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** The entity with its keys in the order of a catalog-info.yaml: apiVersion, kind, metadata, spec, then the rest. */
export function inFileOrder(entity: Entity): Record<string, unknown> {
  const { apiVersion, kind, metadata, spec, ...rest } = entity;
  const { name, namespace, title, description, ...more } = metadata;
  const orderedMetadata = { name, namespace, title, description, ...more };
  const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return clean({ apiVersion, kind, metadata: clean(orderedMetadata), spec, ...rest });
}

/** ID, TYPE and TARGET of each location. */
export function locationTable(locations: readonly LocationView[]): string {
  return formatTable(['ID', 'TYPE', 'TARGET'], locations.map((l) => [l.id, l.type, l.target]));
}

// ---------------------------------------------------------------------------------------------------------
// Register

/** An http(s) URL is a url location; anything else is a path, made absolute against `cwd`. */
export function locationFor(target: string, cwd: string): { type: 'url' | 'file'; target: string } {
  if (/^https?:\/\//i.test(target)) return { type: 'url', target };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new UsageError(`"${target}": register an http:// or https:// URL, or a path to a file the server can read`);
  }
  if (target.trim() === '') throw new UsageError('give a URL or a path to a catalog-info.yaml');
  return { type: 'file', target: resolve(cwd, target) };
}

// ---------------------------------------------------------------------------------------------------------
// Validate

/** The outcome of validating one YAML document. */
export interface DocumentResult {
  /** 1-based position in the file. */
  document: number;
  /** The document's first line in the file. */
  line: number;
  name?: string;
  ref?: string;
  valid: boolean;
  errors: { message: string; line?: number; column?: number }[];
}

/** A document of the file, before the server has seen it: its value, or its YAML errors. */
export interface ParsedDocument {
  document: number;
  line: number;
  value: unknown;
  name?: string;
  yamlErrors: { message: string; line?: number; column?: number }[];
}

/** Limits against YAML bombs, as on the server: aliases expand at most this many times per document. */
const maxAliases = 100;

/**
 * Parses every document of a multi-document YAML file, as the server reads a catalog file: one bad
 * document does not hide the others, and empty documents are skipped.
 */
export function parseCatalogYaml(text: string): ParsedDocument[] {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list: Document.Parsed[] = Array.isArray(docs) ? docs : [];
  const out: ParsedDocument[] = [];
  list.forEach((doc, index) => {
    const line = lineOf(text, doc.range[0]);
    const yamlErrors = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      // yaml's prettyErrors message is "<what> at line L, column C:\n\n<excerpt>": keep only <what>.
      const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      return { message, line: pos?.line, column: pos?.col };
    });
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: maxAliases });
    } catch (err) {
      if (yamlErrors.length === 0) yamlErrors.push({ message: (err as Error).message, line: undefined, column: undefined });
    }
    if (yamlErrors.length === 0 && (value === null || value === undefined)) return;
    const name = (value as { metadata?: { name?: unknown } } | null | undefined)?.metadata?.name;
    out.push({ document: index + 1, line, value, name: typeof name === 'string' ? name : undefined, yamlErrors });
  });
  return out;
}

/** The 1-based line of a character offset, moved past blank lines, comments and a `---` marker. */
export function lineOf(text: string, offset: number): number {
  let line = text.slice(0, offset).split('\n').length;
  const lines = text.split('\n');
  while (line <= lines.length && /^\s*(#.*|---\s*(#.*)?)?$/.test(lines[line - 1] ?? '')) line++;
  return Math.min(line, lines.length);
}

/** `✓ component:default/x` or `✗ document 2 (x): message; message`. */
export function validationLine(result: DocumentResult, file: string): string {
  if (result.valid) return `✓ ${result.ref ?? `document ${result.document}`}`;
  const what = `document ${result.document}${result.name !== undefined ? ` (${result.name})` : ''}`;
  const problems = result.errors.map((e) => (e.line !== undefined ? `${file}:${e.line}:${e.column ?? 1}: invalid YAML: ${e.message}` : e.message));
  return `✗ ${what}: ${problems.join('; ')}`;
}

/** The ref a document would have, when it has a kind and a name. */
export function documentRef(value: unknown): string | undefined {
  const v = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  if (typeof v?.kind !== 'string' || typeof v.metadata?.name !== 'string') return undefined;
  const namespace = typeof v.metadata.namespace === 'string' && v.metadata.namespace !== '' ? v.metadata.namespace : 'default';
  return formatEntityRef({ kind: v.kind, namespace, name: v.metadata.name });
}

/** Sends a parsed document to `validate-entity`; YAML errors are reported without asking the server. */
