import { createHash } from 'node:crypto';
import { ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, ANNOTATION_ORPHAN, ANNOTATION_SOURCE_LOCATION, validateEntity, type Entity, type EntityStatusItem } from './entity.js';
import { refKey } from './refs.js';
import { deriveRelations, sortSpecArrays, type RelationRow } from './relations.js';
import { parseYamlDocuments, type ParsedDocument } from './yaml.js';

/** An entity ready to store: validated, annotated, with the relations it emits. */
export interface ProcessedEntity {
  ref: string;
  entity: Entity;
  relations: RelationRow[];
  problems: EntityStatusItem[];
  locationRef: string;
}

/** A document as read from a file, before processing (placeholders resolved). */
export interface RawDocument {
  raw: Record<string, unknown>;
  locationRef: string;
  sourceRef: string;
}

export const processingItem = (level: EntityStatusItem['level'], message: string): EntityStatusItem => ({
  type: 'backstage.io/catalog-processing',
  level,
  message,
  error: { name: level === 'error' ? 'InputError' : 'Warning', message },
});

/** Validates and annotates one document as Backstage's processors do; throws with the problems. */
export async function processDocument(read: RawDocument, location: { type: string; target: string }, options: { owned?: boolean } = {}): Promise<ProcessedEntity> {
  // The caller's document is left as it was, unless the caller says it owns it (a freshly parsed file).
  const raw = (options.owned ? read.raw : structuredClone(read.raw)) as Record<string, unknown> & { metadata?: Record<string, unknown> };
  if (raw.metadata && typeof raw.metadata === 'object') {
    const annotations = { ...((raw.metadata.annotations as Record<string, string> | undefined) ?? {}) };
    annotations[ANNOTATION_LOCATION] = read.locationRef;
    annotations[ANNOTATION_ORIGIN_LOCATION] = `${location.type}:${location.target}`;
    annotations[ANNOTATION_SOURCE_LOCATION] ??= read.sourceRef;
    delete annotations[ANNOTATION_ORPHAN];
    raw.metadata = { ...raw.metadata, annotations };
    for (const field of ['uid', 'etag', 'generation']) delete raw.metadata[field];
  }
  const entity = sortSpecArrays(await validateEntity(raw, { owned: true }));
  const { relations, problems } = deriveRelations(entity);
  return {
    ref: refKey({ kind: entity.kind, namespace: entity.metadata.namespace ?? 'default', name: entity.metadata.name }),
    entity,
    relations,
    problems: problems.map((p) => processingItem('warning', p)),
    locationRef: read.locationRef,
  };
}

/** What a stored entity's content hash covers: a changed hash means the entity must be rewritten. */
export const contentHash = (locationId: string, p: ProcessedEntity) =>
  createHash('sha256').update(JSON.stringify([locationId, p.entity, p.relations, p.problems])).digest('hex');

/** True when a document holds a `$text`, `$json` or `$yaml` placeholder somewhere. */
export function hasPlaceholder(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasPlaceholder);
  if (value === null || typeof value !== 'object') return false;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === '$text' || keys[0] === '$json' || keys[0] === '$yaml')) return true;
  return Object.values(value).some(hasPlaceholder);
}

/** One file to parse and, where it needs no I/O (no placeholders), process. */
export interface FileJob {
  text: string;
  /** The file path or URL, for messages. */
  target: string;
  locationRef: string;
  sourceRef: string;
  /** The registered location the tree hangs from (managed-by-origin-location, content hash). */
  origin: { id: string; type: string; target: string };
}

/** The outcome of processing a document ahead of time: the entity with its hash, or the error message. */
export type Preprocessed = { ok: true; entity: ProcessedEntity; hash: string } | { ok: false; error: string };

/**
 * A parsed document; `preprocessed` is set when it was already validated. A successfully processed
 * document carries no `value` (its `preprocessed.entity.entity` stands for it), which halves what a
 * worker thread sends back.
 */
export interface ParsedFileDocument extends ParsedDocument {
  preprocessed?: Preprocessed;
  /** Set instead of parsing when the file is as it was at the last refresh and its entities are as it stored them (see FileMemo). */
  unchanged?: UnchangedEntity;
}

/** An entity a file emitted at its last refresh, still stored as it was then: nothing to parse or write. */
export interface UnchangedEntity {
  ref: string;
  hash: string;
  kind: string;
  name: string;
  /** The document's position in its file. */
  index: number;
}

/**
 * What the last refresh of a file found, kept by the process for the next one: the file's text hash
 * and the entities it emitted, when every document became a stored entity with no problem, no
 * placeholder and no Location (whose targets the reader must follow).
 */
export interface FileMemo {
  textHash: string;
  entities: UnchangedEntity[];
}

/** Parses a file and processes each document that needs nothing else read: the CPU-bound part of ingestion. */
export async function parseAndProcess(job: FileJob): Promise<ParsedFileDocument[]> {
  const docs: ParsedFileDocument[] = parseYamlDocuments(job.text, job.target);
  for (const doc of docs) {
    const value = doc.value;
    if (doc.error || value === null || typeof value !== 'object' || Array.isArray(value) || hasPlaceholder(value)) continue;
    try {
      const entity = await processDocument({ raw: value as Record<string, unknown>, locationRef: job.locationRef, sourceRef: job.sourceRef }, job.origin, { owned: true });
      doc.preprocessed = { ok: true, entity, hash: contentHash(job.origin.id, entity) };
      doc.value = undefined;
    } catch (err) {
      doc.preprocessed = { ok: false, error: (err as Error).message };
    }
  }
  return docs;
}
