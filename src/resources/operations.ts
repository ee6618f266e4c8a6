/**
 * Jobs on ready claims: on-demand and scheduled backups, restores, credential rotation and the
 * revocation of the old credentials after the grace period. Each job works from a recorded
 * operation (the resumable record) and its effects are idempotent: a backup id is deterministic (a
 * retry overwrites the same file), a rotation applies whatever password version is current.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { toIso, type ClaimedJob, type JobOutcome, type Kernel, type Tx } from '../kernel/index.js';
import { physicalNames, type Claim } from './model/claim.js';
import { nextRun, parseCron, previousRun } from './model/cron.js';
import type { Module, ProviderName } from './model/module.js';
import type { BackupKind, BackupRecord, Operation } from './model/operation.js';
import { TerminalProvisioningError, type Provider, type ProvisionContext } from './providers/provider.js';
import type { Secrets } from './secrets/service.js';
import * as q from './store/index.js';

export const BACKUP_JOB = 'resources.backup-claim';
export const RESTORE_JOB = 'resources.restore-claim';
export const ROTATE_JOB = 'resources.rotate-credentials';
export const REVOKE_JOB = 'resources.revoke-credentials';
export const SCHEDULE_JOB = 'resources.schedule-backups';
/** The scheduler sleeps until the next due backup, but at most this long, so new claims are seen. */
const SCHEDULE_POLL_MS = 60_000;

export interface OperationsDeps {
  kernel: Kernel;
  providers: ReadonlyMap<ProviderName, Provider>;
  secrets: Secrets;
  backupDir: string;
  /** Days a final backup is kept (manual and scheduled ones follow their module's retention). */
  finalRetentionDays: number;
  moduleOf(claim: Claim): Module | undefined;
  /** Starts a rotation of a claim whose credentials are due for renewal. */
  renew(claim: Claim): Promise<void>;
}

export interface Operations {
  /** A backup of a claim's resource into the backup folder, recorded; undefined when the provider keeps nothing. */
  takeBackup(claim: Claim, kind: BackupKind, id: string): Promise<BackupRecord | undefined>;
  /** Takes the scheduled backups due at `now` and starts the renewals due by then; returns when to look again. */
  runSchedule(now: Date): Promise<{ taken: number; renewed: number; nextAt: Date }>;
  /** Removes backups past their retention from disk (rows stay, marked removed). */
  sweepBackups(now: Date): Promise<number>;
  register(): void;
}

/** `2026-11-26T22:30:00.000Z` → `20261126t223000000z`, a sortable id part. */
const compact = (iso: string) => iso.toLowerCase().replace(/[^0-9a-z]/g, '');

export function createOperations(deps: OperationsDeps): Operations {
  const { kernel, providers, secrets } = deps;
  const { store, clock, ledger, jobs, logger } = kernel;
  const log = logger.child({ layer: 'resources' });
  const now = () => toIso(clock.now());
  const subjects = (claim: Claim) => [`resource:${claim.environment}/${claim.name}`, claim.owner];
  const providerOf = (claim: Claim) => {
    const provider = providers.get(claim.provider as ProviderName);
    if (!provider) throw new TerminalProvisioningError(`no provider ${claim.provider} in this Plinth`);
    return provider;
  };
  const contextOf = (claim: Claim): ProvisionContext => ({ claim, names: physicalNames(claim.environment, claim.name), secrets });

  async function takeBackup(claim: Claim, kind: BackupKind, id: string): Promise<BackupRecord | undefined> {
    const dir = join(deps.backupDir, claim.environment);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const taken = await providerOf(claim).backup(contextOf(claim), join(dir, `${claim.name}-${id}.dump`));
    if (!taken) return undefined;
    const createdAt = clock.now();
    const days = kind === 'final' ? deps.finalRetentionDays : (deps.moduleOf(claim)?.backup.retentionDays ?? deps.finalRetentionDays);
    const record: BackupRecord = {
      id,
      claimId: claim.id,
      claimName: claim.name,
      environment: claim.environment,
      module: `${claim.module}@${claim.version}`,
      ownerRef: claim.owner,
      kind,
      path: taken.path,
      bytes: taken.bytes,
      createdAt: toIso(createdAt),
      expiresAt: toIso(new Date(createdAt.getTime() + days * 86_400_000)),
    };
    await store.transaction(async (tx) => {
      await q.insertBackup(tx, record);
      await ledger.append({ kind: 'resources.backup.taken', subjects: subjects(claim), actor: 'system:resources', payload: { claimId: claim.id, backupId: id, kind, bytes: taken.bytes } }, { db: tx });
    });
    return record;
  }

  /** Loads the operation and its claim; undefined when there is nothing (left) to do. */
  async function load(operationId: string): Promise<{ op: Operation; claim: Claim } | undefined> {
    const op = await q.selectOperation(store, operationId);
    if (op.phase !== 'queued') return undefined;
    const claim = await q.findClaim(store, op.claimId);
    if (!claim || claim.phase !== 'ready') throw new TerminalProvisioningError(`claim ${op.claimId} is ${claim ? claim.phase : 'gone'}, not ready`);
    return { op, claim };
  }

  const finish = (op: Operation, claim: Claim, detail: string, event: { kind: string; payload: Record<string, unknown>; subjects?: string[] }, extra: (tx: Tx) => Promise<void> = async () => undefined) =>
    store.transaction(async (tx) => {
      await q.updateOperation(tx, op.id, { phase: 'succeeded', detail, finishedAt: now() }, now());
      await ledger.append({ kind: event.kind, subjects: [...(event.subjects ?? []), ...subjects(claim)], actor: op.createdBy, payload: { claimId: claim.id, operationId: op.id, ...event.payload } }, { db: tx });
      await extra(tx);
    });

  async function backupOnce(operationId: string) {
    const loaded = await load(operationId);
    if (!loaded) return;
    const { op, claim } = loaded;
    const backup = await takeBackup(claim, 'manual', op.backupId!);
    if (!backup) throw new TerminalProvisioningError(`module ${claim.module} (provider ${claim.provider}) keeps no backups`);
    await finish(op, claim, `${backup.bytes} bytes, kept until ${backup.expiresAt}`, { kind: 'resources.claim.backed-up', payload: { backupId: backup.id, bytes: backup.bytes } });
  }

  async function restoreOnce(operationId: string) {
    const loaded = await load(operationId);
    if (!loaded) return;
    const { op, claim } = loaded;
    const provider = providerOf(claim);
    const backup = await q.findBackup(store, op.backupId!);
    if (!backup) throw new TerminalProvisioningError(`backup ${op.backupId} is gone (past its retention)`);
    if (!provider.restore) throw new TerminalProvisioningError(`module ${claim.module} (provider ${claim.provider}) cannot restore`);
    try {
      await stat(backup.path);
    } catch (err) {
      throw new TerminalProvisioningError(`the file of backup ${backup.id} is missing from the backup folder`, { cause: err });
    }
    await provider.restore(contextOf(claim), backup.path);
    await finish(op, claim, `restored backup ${backup.id} taken ${backup.createdAt}`, { kind: 'resources.claim.restored', payload: { backupId: backup.id } });
  }

  async function rotateOnce(operationId: string, payload: { version: number; graceSeconds: number }) {
    const loaded = await load(operationId);
    if (!loaded) return;
    const { op, claim } = loaded;
    const rotation = providerOf(claim).rotation;
    if (!rotation) throw new TerminalProvisioningError(`module ${claim.module} has no server credentials to rotate`);
    await rotation.apply(contextOf(claim));
    const rotatedAt = clock.now();
    const revokeAt = new Date(rotatedAt.getTime() + payload.graceSeconds * 1000);
    const secretName = physicalNames(claim.environment, claim.name).secretName;
    // A password for servers' credentials; a certificate's secret is read whole (tls.crt, tls.key, ca.crt).
    const secretRef = (await q.selectSecret(store, secretName))?.keys.includes('password') ? `${secretName}/password` : secretName;
    await finish(
      op,
      claim,
      `password version ${payload.version} is active; the old one is revoked at ${toIso(revokeAt)}`,
      // The runtime restarts or reloads the workloads that read this secret when it sees this event.
      { kind: 'resources.secret.rotated', subjects: [`secret:${secretName}`], payload: { name: secretName, secretRef, version: payload.version, revokeAt: toIso(revokeAt) } },
      async (tx) => {
        await jobs.enqueue({ kind: REVOKE_JOB, payload: { claimId: claim.id, version: payload.version, rotatedAt: toIso(rotatedAt) }, runAt: revokeAt, idempotencyKey: `${REVOKE_JOB}:${claim.id}:v${payload.version}`, maxAttempts: 8 }, { db: tx });
      },
    );
  }

  /**
   * Ends the credentials a rotation replaced. The revoke is idempotent (re-run after a crash it finds
   * them ended); its event commits with the job's completion, so a re-run never records it twice.
   */
  async function revokeOnce(payload: { claimId: string; version: number; rotatedAt: string }): Promise<JobOutcome> {
    const claim = await q.findClaim(store, payload.claimId);
    if (!claim || claim.phase !== 'ready') return { kind: 'done' };
    const { closedSessions } = await providerOf(claim).rotation!.revoke(contextOf(claim), new Date(payload.rotatedAt));
    const name = physicalNames(claim.environment, claim.name).secretName;
    return {
      kind: 'done',
      commit: async (tx) => void (await ledger.append({ kind: 'resources.secret.revoked', subjects: [`secret:${name}`, ...subjects(claim)], actor: 'system:resources', payload: { claimId: claim.id, name, version: payload.version - 1, closedSessions } }, { db: tx })),
    };
  }

  async function runSchedule(at: Date): Promise<{ taken: number; renewed: number; nextAt: Date }> {
    let taken = 0;
    let renewed = 0;
    let nextAt = new Date(at.getTime() + SCHEDULE_POLL_MS);
    for (const claim of await q.listClaims(store, { limit: 10_000 })) {
      const provider = providers.get(claim.provider as ProviderName);
      if (claim.phase === 'ready' && provider?.renewalDue) {
        try {
          // The rotation stores the new version at once, so the next pass finds nothing due.
          if (await provider.renewalDue(contextOf(claim), at)) {
            await deps.renew(claim);
            renewed += 1;
          }
        } catch (err) {
          log.warn({ claimId: claim.id, err: (err as Error).message }, 'renewal failed; retried at the next pass');
        }
      }
      const schedule = deps.moduleOf(claim)?.backup.schedule;
      const cron = schedule ? parseCron(schedule) : undefined;
      if (!cron || claim.phase !== 'ready' || claim.readyAt === null) continue;
      const next = nextRun(cron, at);
      if (next && next < nextAt) nextAt = next;
      const due = previousRun(cron, at);
      // Due since the claim became ready, and not taken for this slot yet (the id is the slot's).
      const id = due ? `bk-${claim.id.slice(3)}-s${compact(toIso(due))}` : '';
      if (!due || toIso(due) < claim.readyAt || (await q.backupTaken(store, id))) continue;
      try {
        if (await takeBackup(claim, 'scheduled', id)) taken += 1;
      } catch (err) {
        log.warn({ claimId: claim.id, err: (err as Error).message }, 'scheduled backup failed; retried at the next pass');
      }
    }
    return { taken, renewed, nextAt };
  }

  async function sweepBackups(at: Date): Promise<number> {
    const expired = await q.listBackups(store, { expiredBefore: toIso(at) });
    for (const backup of expired) {
      await rm(backup.path, { force: true });
      await q.markBackupRemoved(store, backup.id, toIso(at));
    }
    return expired.length;
  }

  /** Runs one operation; terminal errors (or the last attempt) fail it with the reason, others retry. */
  function handler(run: (job: ClaimedJob) => Promise<void | JobOutcome>) {
    return async (job: ClaimedJob): Promise<JobOutcome> => {
      try {
        return (await run(job)) ?? { kind: 'done' };
      } catch (err) {
        const message = (err as Error).message.slice(0, 1000);
        const terminal = err instanceof TerminalProvisioningError || job.attempts >= job.maxAttempts;
        log.warn({ job: job.kind, err: message, attempt: job.attempts, terminal }, 'resource operation failed');
        const { operationId } = job.payload as { operationId?: string };
        if (operationId) await q.updateOperation(store, operationId, terminal ? { phase: 'failed', error: message, finishedAt: now() } : { error: message }, now());
        return terminal ? { kind: 'fail', reason: message } : { kind: 'retry', error: err as Error };
      }
    };
  }

  return {
    takeBackup,
    runSchedule,
    sweepBackups,
    register() {
      jobs.register(BACKUP_JOB, handler((job) => backupOnce((job.payload as { operationId: string }).operationId)));
      jobs.register(RESTORE_JOB, handler((job) => restoreOnce((job.payload as { operationId: string }).operationId)));
      jobs.register(ROTATE_JOB, handler((job) => {
        const payload = job.payload as { operationId: string; version: number; graceSeconds: number };
        return rotateOnce(payload.operationId, payload);
      }));
      jobs.register(REVOKE_JOB, handler((job) => revokeOnce(job.payload as { claimId: string; version: number; rotatedAt: string })));
      jobs.register(SCHEDULE_JOB, async () => {
        const { nextAt } = await runSchedule(clock.now());
        return { kind: 'wait', until: nextAt };
      });
    },
  };
}
