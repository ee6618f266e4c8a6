/** Operations on a ready claim that run as jobs: on-demand backups, restores and credential rotations. */
import { z } from 'zod';

export const operationKinds = ['backup', 'restore', 'rotate'] as const;
export type OperationKind = (typeof operationKinds)[number];

/**
 * Operation phases:
 * - queued: recorded, its job waits for a worker
 * - succeeded: done (a rotation: the new password works; the old one is revoked later, see `detail`)
 * - failed: `error` says why; nothing half-done is left on the server that a retry would not redo
 */
export const operationPhases = ['queued', 'succeeded', 'failed'] as const;
export type OperationPhase = (typeof operationPhases)[number];

export const OperationView = z.object({
  id: z.string(),
  claimId: z.string(),
  kind: z.enum(operationKinds),
  phase: z.enum(operationPhases),
  /** The backup taken (backup) or loaded (restore). */
  backupId: z.string().nullable(),
  detail: z.string().nullable(),
  error: z.string().nullable(),
  jobId: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type Operation = z.infer<typeof OperationView>;

export const RestoreBody = z.strictObject({
  /** A backup of this claim (or of an earlier claim of the same name and environment); the newest when absent. */
  backupId: z.string().regex(/^bk-[a-z0-9-]{1,80}$/, 'a backup id looks like bk-…').optional(),
});
export const RotateBody = z.strictObject({
  /** Seconds the old credentials keep working (sessions opened with them stay open); the configured default when absent. */
  graceSeconds: z.number().int().min(0).max(30 * 86_400).optional(),
});

export const backupKinds = ['final', 'manual', 'scheduled'] as const;
export type BackupKind = (typeof backupKinds)[number];

export const BackupView = z.object({
  id: z.string(),
  claimId: z.string(),
  claimName: z.string(),
  environment: z.string(),
  module: z.string(),
  ownerRef: z.string(),
  kind: z.enum(backupKinds),
  path: z.string(),
  bytes: z.number(),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export type BackupRecord = z.infer<typeof BackupView>;
