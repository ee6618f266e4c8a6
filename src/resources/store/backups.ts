import type { Db } from '../../kernel/index.js';
import type { BackupKind, BackupRecord } from '../model/operation.js';
import { t, type ResourcesTables } from './tables.js';

export type { BackupKind, BackupRecord };

const toBackup = (r: ResourcesTables['resources_backups']): BackupRecord => ({
  id: r.id,
  claimId: r.claim_id,
  claimName: r.claim_name,
  environment: r.environment,
  module: r.module,
  ownerRef: r.owner_ref,
  kind: r.kind === 'manual' || r.kind === 'scheduled' ? r.kind : 'final',
  path: r.path,
  bytes: r.bytes,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export async function insertBackup(db: Db, backup: BackupRecord): Promise<void> {
  await t(db)
    .insertInto('resources_backups')
    .values({ id: backup.id, claim_id: backup.claimId, claim_name: backup.claimName, environment: backup.environment, module: backup.module, owner_ref: backup.ownerRef, kind: backup.kind, path: backup.path, bytes: backup.bytes, created_at: backup.createdAt, expires_at: backup.expiresAt, removed_at: null })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Backups still on disk, newest first: of some owners, of a claim's name and environment, or expired by a time. */
export async function listBackups(db: Db, filter: { ownerRefs?: readonly string[]; expiredBefore?: string; environment?: string; claimName?: string }): Promise<BackupRecord[]> {
  let query = t(db).selectFrom('resources_backups').selectAll().where('removed_at', 'is', null).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1000);
  if (filter.ownerRefs !== undefined) query = filter.ownerRefs.length === 0 ? query.where('id', '=', '') : query.where('owner_ref', 'in', filter.ownerRefs);
  if (filter.expiredBefore !== undefined) query = query.where('expires_at', '<=', filter.expiredBefore);
  if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
  if (filter.claimName !== undefined) query = query.where('claim_name', '=', filter.claimName);
  return (await query.execute()).map(toBackup);
}

export async function findBackup(db: Db, id: string): Promise<BackupRecord | undefined> {
  const row = await t(db).selectFrom('resources_backups').selectAll().where('id', '=', id).where('removed_at', 'is', null).executeTakeFirst();
  return row ? toBackup(row) : undefined;
}

/** Whether a backup with this id was ever taken, removed ones included (the scheduler's "slot done" mark). */
export async function backupTaken(db: Db, id: string): Promise<boolean> {
  return (await t(db).selectFrom('resources_backups').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function markBackupRemoved(db: Db, id: string, at: string): Promise<void> {
  await t(db).updateTable('resources_backups').set({ removed_at: at }).where('id', '=', id).execute();
}
