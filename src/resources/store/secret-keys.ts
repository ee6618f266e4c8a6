/** Queries of master-key rotation: versions by wrapping key, re-wrapping one version, and re-wrap runs. */
import type { Db } from '../../kernel/index.js';
import type { RewrapPhase, SecretRewrap } from '../secrets/model.js';
import { t, type ResourcesTables } from './tables.js';

type RewrapRow = ResourcesTables['resources_secret_rewraps'];

/** A version's wrapped data key, as re-wrapping sees it (the ciphertext is never read). */
export interface WrappedVersion {
  name: string;
  version: number;
  keyId: string;
  wrappedKey: string;
}

export async function countVersionsByKey(db: Db): Promise<{ keyId: string; count: number }[]> {
  const rows = await t(db)
    .selectFrom('resources_secret_versions')
    .select((eb) => ['key_id', eb.fn.countAll<number | string>().as('n')])
    .groupBy('key_id')
    .orderBy('key_id')
    .execute();
  return rows.map((r) => ({ keyId: r.key_id, count: Number(r.n) }));
}

/** Up to `limit` versions after `after` in (name, version) order that are not on `notKeyId`. */
export async function selectVersionsAfter(db: Db, query: { after: { name: string; version: number } | null; notKeyId: string; limit: number }): Promise<WrappedVersion[]> {
  let select = t(db)
    .selectFrom('resources_secret_versions')
    .select(['name', 'version', 'key_id', 'wrapped_key'])
    .where('key_id', '<>', query.notKeyId)
    .orderBy('name')
    .orderBy('version')
    .limit(query.limit);
  const after = query.after;
  // A row-value comparison (both engines have them) walks the primary key from the cursor on.
  if (after) select = select.where((eb) => eb(eb.refTuple('name', 'version'), '>', eb.tuple(after.name, after.version)));
  const rows = await select.execute();
  return rows.map((r) => ({ name: r.name, version: r.version, keyId: r.key_id, wrappedKey: r.wrapped_key }));
}

/**
 * Puts a re-wrapped data key in place if the version still holds the one that was read: a version
 * deleted or re-wrapped meanwhile is left alone (false), so two runs never undo each other.
 */
export async function replaceWrappedKey(db: Db, read: WrappedVersion, next: { keyId: string; wrappedKey: string }): Promise<boolean> {
  const result = await t(db)
    .updateTable('resources_secret_versions')
    .set({ key_id: next.keyId, wrapped_key: next.wrappedKey })
    .where('name', '=', read.name)
    .where('version', '=', read.version)
    .where('key_id', '=', read.keyId)
    .where('wrapped_key', '=', read.wrappedKey)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

const toRewrap = (r: RewrapRow): SecretRewrap => ({
  jobId: r.job_id,
  toKeyId: r.to_key_id,
  phase: r.phase as RewrapPhase,
  batchSize: r.batch_size,
  batches: r.batches,
  cursor: r.cursor_name === null || r.cursor_version === null ? null : { name: r.cursor_name, version: r.cursor_version },
  rewrapped: JSON.parse(r.rewrapped) as Record<string, number>,
  skipped: JSON.parse(r.skipped) as Record<string, number>,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
});

export async function insertRewrap(db: Db, rewrap: SecretRewrap): Promise<void> {
  await t(db)
    .insertInto('resources_secret_rewraps')
    .values({
      job_id: rewrap.jobId,
      to_key_id: rewrap.toKeyId,
      phase: rewrap.phase,
      batch_size: rewrap.batchSize,
      batches: rewrap.batches,
      cursor_name: rewrap.cursor?.name ?? null,
      cursor_version: rewrap.cursor?.version ?? null,
      rewrapped: JSON.stringify(rewrap.rewrapped),
      skipped: JSON.stringify(rewrap.skipped),
      created_by: rewrap.createdBy,
      created_at: rewrap.createdAt,
      updated_at: rewrap.updatedAt,
      finished_at: rewrap.finishedAt,
    })
    .execute();
}

export async function selectRewrap(db: Db, jobId: string): Promise<SecretRewrap | undefined> {
  const row = await t(db).selectFrom('resources_secret_rewraps').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  return row ? toRewrap(row) : undefined;
}

export async function latestRewrap(db: Db): Promise<SecretRewrap | undefined> {
  const row = await t(db).selectFrom('resources_secret_rewraps').selectAll().orderBy('created_at', 'desc').orderBy('job_id', 'desc').limit(1).executeTakeFirst();
  return row ? toRewrap(row) : undefined;
}

/**
 * Records a committed batch if the run is still at batch `expectedBatches` (false when another worker
 * advanced it: the caller rolls its batch back).
 */
export async function advanceRewrap(db: Db, jobId: string, expectedBatches: number, next: Pick<SecretRewrap, 'cursor' | 'rewrapped' | 'skipped' | 'updatedAt'>): Promise<boolean> {
  const result = await t(db)
    .updateTable('resources_secret_rewraps')
    .set({
      batches: expectedBatches + 1,
      cursor_name: next.cursor?.name ?? null,
      cursor_version: next.cursor?.version ?? null,
      rewrapped: JSON.stringify(next.rewrapped),
      skipped: JSON.stringify(next.skipped),
      updated_at: next.updatedAt,
    })
    .where('job_id', '=', jobId)
    .where('phase', '=', 'running')
    .where('batches', '=', expectedBatches)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function finishRewrap(db: Db, jobId: string, at: string): Promise<boolean> {
  const result = await t(db).updateTable('resources_secret_rewraps').set({ phase: 'done', updated_at: at, finished_at: at }).where('job_id', '=', jobId).where('phase', '=', 'running').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
