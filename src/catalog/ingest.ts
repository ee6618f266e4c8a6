import { createHash, randomBytes } from 'node:crypto';
import { newId, newSecret, toIso, type Clock, type Store } from '../kernel/index.js';
import { ANNOTATION_ORIGIN_LOCATION, ANNOTATION_ORPHAN, type Entity, type EntityStatusItem } from './model/entity.js';
import { contentHash, parseAndProcess, processDocument, processingItem, type FileJob, type FileMemo, type ParsedFileDocument, type ProcessedEntity, type UnchangedEntity } from './model/process.js';
import { refKey } from './model/refs.js';
import { deriveRelations } from './model/relations.js';
import { buildSearchRows } from './model/search-rows.js';
import type { CatalogLocation, LocationProblem, StoredEntity } from './model/types.js';
import { generatedLocationName, type ReadEntity, type ReadHooks, type ReadResult } from './reader.js';
import { beginBulkIngest, finishBulkIngest } from './store/bulk-indexes.js';
import { countEntities, refreshStatistics, selectByRefs, selectRootedAt, storedAsBefore, writeEntities, type EntityWrite } from './store/entities.js';
import { searchKeyIds } from './store/search-keys.js';

export type { ProcessedEntity } from './model/process.js';

function docLabel(read: ReadEntity): string {
  const meta = read.raw.metadata as { name?: unknown } | undefined;
  const name = typeof meta?.name === 'string' ? ` (${String(read.raw.kind)} ${meta.name})` : '';
  return `${read.locationRef.replace(/^(file|url):/, '')}: document ${read.docIndex + 1}${name}`;
}

/** Validates and annotates one document as Backstage's processors do; throws with the problems. */
export function processEntity(read: ReadEntity, location: { type: string; target: string }): Promise<ProcessedEntity> {
  return processDocument(read, location);
}

export function generatedLocationEntity(location: CatalogLocation): ReadEntity {
  return {
    raw: {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Location',
      metadata: { name: generatedLocationName(location), namespace: 'default' },
      spec: { type: location.type, target: location.target },
    },
    locationRef: `${location.type}:${location.target}`,
    sourceRef: `${location.type}:${location.target}`,
    docIndex: 0,
  };
}

export interface IngestSummary {
  added: number;
  updated: number;
  unchanged: number;
  orphaned: number;
  problems: LocationProblem[];
  changedRefs: string[];
}

/**
 * Entity writes gathered before one transaction commits them. A commit writes every index page the
 * batch touched; at 100,000 entities those pages are spread over indexes larger than the page cache,
 * so fewer, larger commits write each page fewer times (2,000 → 5,000: issue #3).
 */
const WRITE_BATCH = 5000;

/** Entity writes after which the database's planner statistics are refreshed (see refreshStatistics). */
const BULK_WRITE = 5000;

/**
 * Stores what a location tree emits, file by file as `readTree` reads it (memory stays bounded by a
 * batch, not the tree): new and changed entities, their relations and search rows; conflicts and bad
 * documents become problems on the location; entities the tree no longer emits become orphans, unless
 * the file they came from could not be read this time.
 */
export async function ingestLocation(
  deps: IngestDeps,
  location: CatalogLocation,
  readTree: (hooks: Required<ReadHooks>) => Promise<ReadResult>,
): Promise<IngestSummary> {
  const bulk = { active: false };
  try {
    const summary = await ingestTree(deps, location, readTree, bulk);
    if (bulk.active) {
      bulk.active = false;
      await finishBulkIngest(deps.store);
    }
    if (summary.added + summary.updated + summary.orphaned >= BULK_WRITE) await refreshStatistics(deps.store);
    return summary;
  } finally {
    if (bulk.active) await finishBulkIngest(deps.store);
  }
}

export interface IngestDeps {
  store: Store;
  clock: Clock;
  parseFile?: (job: FileJob) => Promise<ParsedFileDocument[]>;
  /**
   * Checks another layer makes of an entity it interprets (a Template's actions and expressions):
   * each problem is an error on the entity's status and on its location; the entity is still stored.
   */
  checkEntity?: (entity: Entity) => string[];
  /**
   * This location's files as its last refresh in this process found them, by location ref (file:…):
   * a file whose text and stored entities are as they were is not parsed again, and the map is kept
   * up to date. Without it every file is parsed.
   */
  fileMemos?: Map<string, FileMemo>;
  /**
   * Entity writes per transaction (default WRITE_BATCH). A first full batch into a catalog holding fewer
   * entities than that starts a bulk load (store/bulk-indexes.ts).
   */
  writeBatch?: number;
}

async function ingestTree(
  deps: IngestDeps,
  location: CatalogLocation,
  readTree: (hooks: Required<ReadHooks>) => Promise<ReadResult>,
  bulk: { active: boolean },
): Promise<IngestSummary> {
  const now = toIso(deps.clock.now());
  const problems: LocationProblem[] = [];
  const summary: IngestSummary = { added: 0, updated: 0, unchanged: 0, orphaned: 0, problems, changedRefs: [] };
  /** Every ref this tree emitted so far, with the file it came from (duplicates, orphans). */
  const seen = new Map<string, string>();
  const emitted = new Set<string>();
  let pending: EntityWrite[] = [];
  let flushed = false;
  const flush = async () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    // Decided at the first flush: a full batch into a catalog holding fewer entities than that batch
    // is the start of a bulk load, whose search and relation indexes are built once at the end.
    if (!flushed && batch.length >= (deps.writeBatch ?? WRITE_BATCH) && (await countEntities(deps.store)) < batch.length) {
      bulk.active = true;
      await beginBulkIngest(deps.store);
    }
    flushed = true;
    const keys = new Set<string>();
    for (const w of batch) for (const s of w.search) keys.add(s.key);
    await deps.store.transaction(async (tx) => writeEntities(tx, batch, await searchKeyIds(deps.store, tx, keys)));
  };

  // The location's own generated entity is written last, with every problem the tree had.
  const generated = await processEntity(generatedLocationEntity(location), location);
  seen.set(generated.ref, generated.locationRef);
  emitted.add(generated.ref);

  const origin = { id: location.id, type: location.type, target: location.target };
  const parseFile = deps.parseFile ?? parseAndProcess;
  /** Files parsed in this refresh that may be remembered (see memoizable), by location ref. */
  const parsedFiles = new Map<string, { textHash: string; entities: number }>();

  async function ingestFile(items: ReadEntity[]) {
    const processed: ProcessedEntity[] = [];
    const failedRefs: { ref: string; message: string }[] = [];
    const hashes = new Map<ProcessedEntity, string>();
    const docIndexes = new Map<ProcessedEntity, number>();
    const problemsBefore = problems.length;
    /** The file's entities stored as they are (unchanged or written), for its memo. */
    const stored: UnchangedEntity[] = [];
    for (const item of items) {
      if (item.unchanged) {
        const { ref } = item.unchanged;
        const first = seen.get(ref);
        if (first !== undefined) {
          problems.push({ locationRef: item.locationRef, message: `${docLabel(item)}: duplicate entity ${ref}, also in ${first}` });
          continue;
        }
        seen.set(ref, item.locationRef);
        emitted.add(ref);
        summary.unchanged += 1;
        stored.push(item.unchanged);
        continue;
      }
      try {
        let p: ProcessedEntity;
        if (item.preprocessed?.ok) {
          p = item.preprocessed.entity;
          hashes.set(p, item.preprocessed.hash);
        } else if (item.preprocessed) {
          throw new Error(item.preprocessed.error);
        } else {
          p = await processEntity(item, location);
        }
        const first = seen.get(p.ref);
        if (first !== undefined) {
          problems.push({ locationRef: item.locationRef, message: `${docLabel(item)}: duplicate entity ${p.ref}, also in ${first}` });
          continue;
        }
        seen.set(p.ref, p.locationRef);
        docIndexes.set(p, item.docIndex);
        const checked = deps.checkEntity?.(p.entity) ?? [];
        if (checked.length > 0) {
          p = { ...p, problems: [...p.problems, ...checked.map((message) => processingItem('error', message))] };
          for (const message of checked) problems.push({ locationRef: item.locationRef, message: `${docLabel(item)}: ${message}` });
        }
        processed.push(p);
      } catch (err) {
        const message = `${docLabel(item)}: ${(err as Error).message}`;
        problems.push({ locationRef: item.locationRef, message });
        const meta = item.raw.metadata as { name?: unknown; namespace?: unknown } | undefined;
        if (typeof item.raw.kind === 'string' && typeof meta?.name === 'string') {
          failedRefs.push({ ref: refKey({ kind: item.raw.kind, namespace: typeof meta.namespace === 'string' ? meta.namespace : 'default', name: meta.name }), message });
        }
      }
    }
    const existing = new Map((await selectByRefs(deps.store, [...processed.map((p) => p.ref), ...failedRefs.map((f) => f.ref)])).map((e) => [e.ref, e]));
    for (const p of processed) {
      const old = existing.get(p.ref);
      if (old && old.rootLocationId !== null && old.rootLocationId !== location.id && !old.orphan) {
        problems.push({
          locationRef: p.locationRef,
          message: `ConflictError: ${p.ref} is already registered from ${old.entity.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION] ?? old.locationRef}; this location's copy was not stored`,
        });
        continue;
      }
      emitted.add(p.ref);
      const hash = hashes.get(p) ?? contentHash(location.id, p);
      stored.push({ ref: p.ref, hash, kind: p.entity.kind, name: p.entity.metadata.name, index: docIndexes.get(p) ?? 0 });
      if (old && old.contentHash === hash && !old.orphan) {
        summary.unchanged += 1;
        continue;
      }
      pending.push(toWrite(p, old, hash, location.id, now));
      summary.changedRefs.push(p.ref);
      if (old) summary.updated += 1;
      else summary.added += 1;
    }
    // A document that fails keeps its last good entity, with the error on it (as Backstage does).
    for (const failed of failedRefs) {
      const old = existing.get(failed.ref);
      if (!old || old.rootLocationId !== location.id || emitted.has(failed.ref)) continue;
      emitted.add(failed.ref);
      pending.push(rewrite(old, { problems: [processingItem('error', failed.message)] }, now));
    }
    remember(items, stored, problems.length === problemsBefore && failedRefs.length === 0);
    if (pending.length >= (deps.writeBatch ?? WRITE_BATCH)) await flush();
  }

  /**
   * Keeps a file's memo when every one of its documents became an entity stored as it is, with no
   * problem; drops it otherwise. A file read from its memo keeps it (its text and entities matched).
   */
  function remember(items: readonly ReadEntity[], stored: UnchangedEntity[], clean: boolean) {
    const memos = deps.fileMemos;
    const fileRef = items[0]?.locationRef;
    if (!memos || fileRef === undefined) return;
    const parsed = parsedFiles.get(fileRef);
    parsedFiles.delete(fileRef);
    if (!clean || stored.length !== items.length) memos.delete(fileRef);
    else if (parsed && parsed.entities === stored.length) memos.set(fileRef, { textHash: parsed.textHash, entities: stored });
  }

  /** A file whose every document is an entity processed ahead, none of them a Location (whose targets must be read). */
  const memoizable = (docs: readonly ParsedFileDocument[]) =>
    docs.some((d) => d.preprocessed) &&
    docs.every((d) => (d.preprocessed?.ok === true && d.preprocessed.entity.entity.kind !== 'Location') || (!d.preprocessed && !d.error && (d.value === null || d.value === undefined)));

  /** Parses a file, unless its memo shows it unchanged: same text, and its entities stored as that refresh left them. */
  async function parseOrRecall(job: FileJob): Promise<ParsedFileDocument[]> {
    const memos = deps.fileMemos;
    if (!memos) return parseFile(job);
    const textHash = createHash('sha256').update(job.text).digest('base64url');
    const memo = memos.get(job.locationRef);
    if (memo?.textHash === textHash && (await storedAsBefore(deps.store, location.id, memo.entities))) {
      return memo.entities.map((entity) => ({ index: entity.index, value: undefined, unchanged: entity }));
    }
    memos.delete(job.locationRef);
    const docs = await parseFile(job);
    if (memoizable(docs)) parsedFiles.set(job.locationRef, { textHash, entities: docs.filter((d) => d.preprocessed).length });
    return docs;
  }

  const read = await readTree({
    onFile: ingestFile,
    parseFile: (text, file, sourceRef) => parseOrRecall({ text, target: file.target, locationRef: `${file.type}:${file.target}`, sourceRef, origin }),
  });
  problems.unshift(...read.problems);
  await flush();

  for (const row of await selectRootedAt(deps.store, location.id)) {
    if (emitted.has(row.ref) || row.orphan || read.unreadable.has(row.locationRef)) continue;
    const [old] = await selectByRefs(deps.store, [row.ref]);
    if (!old) continue;
    const entity = structuredClone(old.entity);
    entity.metadata.annotations = { ...entity.metadata.annotations, [ANNOTATION_ORPHAN]: 'true' };
    pending.push(rewrite(old, { entity, orphan: true }, now));
    summary.orphaned += 1;
    summary.changedRefs.push(row.ref);
    if (pending.length >= (deps.writeBatch ?? WRITE_BATCH)) await flush();
  }

  // The location's problems show on its generated Location entity, as Backstage shows processing errors.
  const statusItems = problems.map((p) => processingItem('error', p.message));
  const [oldGenerated] = await selectByRefs(deps.store, [generated.ref]);
  const hash = contentHash(location.id, generated);
  if (!oldGenerated || oldGenerated.contentHash !== hash || oldGenerated.orphan) {
    const write = toWrite(generated, oldGenerated, hash, location.id, now);
    write.row.problems = JSON.stringify([...generated.problems, ...statusItems]);
    pending.push(write);
    summary.changedRefs.push(generated.ref);
    if (oldGenerated) summary.updated += 1;
    else summary.added += 1;
  } else if (JSON.stringify(oldGenerated.problems) !== JSON.stringify(statusItems)) {
    pending.push(rewrite(oldGenerated, { problems: statusItems }, now));
  } else {
    summary.unchanged += 1;
  }
  await flush();
  return summary;
}

const ETAG_BYTES = 12;
let etagPool = Buffer.alloc(0);
let etagOffset = 0;

/**
 * A fresh etag (what newSecret(12) makes), cut from a pooled random buffer: a randomBytes call per
 * entity cost more than the rest of preparing it for the store at 100,000 entities.
 */
function newEtag(): string {
  if (etagOffset + ETAG_BYTES > etagPool.length) {
    etagPool = randomBytes(ETAG_BYTES * 1024);
    etagOffset = 0;
  }
  etagOffset += ETAG_BYTES;
  return etagPool.toString('base64url', etagOffset - ETAG_BYTES, etagOffset);
}

function toWrite(p: ProcessedEntity, old: StoredEntity | undefined, hash: string, rootLocationId: string, now: string): EntityWrite {
  const uid = old?.uid ?? newId();
  const specChanged = !old || JSON.stringify(old.entity.spec) !== JSON.stringify(p.entity.spec);
  const generation = (old?.entity.metadata.generation ?? 0) + (specChanged ? 1 : 0);
  const entity: Entity = { ...p.entity, metadata: { ...p.entity.metadata, uid, etag: newEtag(), generation } };
  const owner = p.relations.find((r) => r.source === p.ref && r.type === 'ownedBy');
  return {
    row: {
      uid,
      entity_ref: p.ref,
      kind: entity.kind.toLowerCase(),
      namespace: (entity.metadata.namespace ?? 'default').toLowerCase(),
      name: entity.metadata.name.toLowerCase(),
      owner_ref: owner?.target ?? null,
      root_location_id: rootLocationId,
      location_ref: p.locationRef,
      body: JSON.stringify(entity),
      problems: JSON.stringify(p.problems),
      content_hash: hash,
      orphan: 0,
      created_at: now,
      updated_at: now,
    },
    relations: p.relations,
    search: buildSearchRows(entity),
    isNew: !old,
  };
}

/** Rewrites a stored entity with changed body, problems or orphan flag, keeping the relations it emitted. */
function rewrite(old: StoredEntity, change: { entity?: Entity; problems?: EntityStatusItem[]; orphan?: boolean }, now: string): EntityWrite {
  const entity = change.entity ?? old.entity;
  const relations = deriveRelations(entity).relations;
  return {
    row: {
      uid: old.uid,
      entity_ref: old.ref,
      kind: entity.kind.toLowerCase(),
      namespace: (entity.metadata.namespace ?? 'default').toLowerCase(),
      name: entity.metadata.name.toLowerCase(),
      owner_ref: old.ownerRef,
      root_location_id: old.rootLocationId,
      location_ref: old.locationRef,
      body: JSON.stringify({ ...entity, metadata: { ...entity.metadata, etag: newEtag() } }),
      problems: JSON.stringify(change.problems ?? old.problems),
      content_hash: change.entity || change.problems ? `changed-${newSecret(8)}` : old.contentHash,
      orphan: change.orphan ?? old.orphan ? 1 : 0,
      created_at: old.updatedAt,
      updated_at: now,
    },
    relations,
    search: buildSearchRows(entity),
    isNew: false,
  };
}
