import { NotFoundError, type Db } from '../../kernel/index.js';
import type { Operation, OperationKind, OperationPhase } from '../model/operation.js';
import { t, type ResourcesTables } from './tables.js';

const toOperation = (r: ResourcesTables['resources_operations']): Operation => ({
  id: r.id,
  claimId: r.claim_id,
  kind: r.kind as OperationKind,
  phase: r.phase as OperationPhase,
  backupId: r.backup_id,
  detail: r.detail,
  error: r.error,
  jobId: r.job_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
});

export async function insertOperation(db: Db, op: Operation): Promise<void> {
  await t(db)
    .insertInto('resources_operations')
    .values({ id: op.id, claim_id: op.claimId, kind: op.kind, phase: op.phase, backup_id: op.backupId, detail: op.detail, error: op.error, job_id: op.jobId, created_by: op.createdBy, created_at: op.createdAt, updated_at: op.updatedAt, finished_at: op.finishedAt })
    .execute();
}

export async function updateOperation(db: Db, id: string, patch: Partial<Pick<Operation, 'phase' | 'backupId' | 'detail' | 'error' | 'jobId' | 'finishedAt'>>, at: string): Promise<void> {
  await t(db)
    .updateTable('resources_operations')
    .set({
      updated_at: at,
      ...(patch.phase !== undefined ? { phase: patch.phase } : {}),
      ...(patch.backupId !== undefined ? { backup_id: patch.backupId } : {}),
      ...(patch.detail !== undefined ? { detail: patch.detail } : {}),
      ...(patch.error !== undefined ? { error: patch.error } : {}),
      ...(patch.jobId !== undefined ? { job_id: patch.jobId } : {}),
      ...(patch.finishedAt !== undefined ? { finished_at: patch.finishedAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export async function selectOperation(db: Db, id: string): Promise<Operation> {
  const row = await t(db).selectFrom('resources_operations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`no resource operation ${id}`);
  return toOperation(row);
}

export async function listOperations(db: Db, claimId: string): Promise<Operation[]> {
  return (await t(db).selectFrom('resources_operations').selectAll().where('claim_id', '=', claimId).orderBy('created_at', 'desc').limit(100).execute()).map(toOperation);
}
