/**
 * The service side of operations on a ready claim: backup now, restore a backup, rotate the
 * credentials. Each authorizes against the claim's owner, records an operation and enqueues its
 * job in one transaction, and returns the operation for the client to follow.
 */
import { authorize, ConflictError, InputError, newId, NotFoundError, principalRef, toIso, type Kernel, type Principal, type Tx } from '../kernel/index.js';
import { physicalNames, type Claim } from './model/claim.js';
import type { ProviderName } from './model/module.js';
import type { BackupRecord, Operation, OperationKind } from './model/operation.js';
import { BACKUP_JOB, RESTORE_JOB, ROTATE_JOB } from './operations.js';
import type { Provider } from './providers/provider.js';
import type { Secrets } from './secrets/service.js';
import * as q from './store/index.js';

export interface ClaimOperations {
  /** Takes a backup now (a `resources.backup-claim` job). */
  backup(principal: Principal, claimId: string): Promise<Operation>;
  /** Loads a backup (the newest of the claim's name and environment when none is named) into the claim. */
  restore(principal: Principal, claimId: string, input: { backupId?: string }): Promise<Operation>;
  /** New credentials on the server and in a new secret version; the old ones are revoked after the grace period. */
  rotate(principal: Principal, claimId: string, input: { graceSeconds?: number }): Promise<Operation>;
  listOperations(principal: Principal, claimId: string): Promise<Operation[]>;
  getOperation(principal: Principal, claimId: string, operationId: string): Promise<Operation>;
  /** Backups kept of a claim's name and environment (this claim's and earlier ones'), newest first. */
  claimBackups(principal: Principal, claimId: string): Promise<BackupRecord[]>;
}

const claimPermission = { name: 'claim resources', verb: 'write' } as const;
const readPermission = { name: 'read resource claims and modules', verb: 'read' } as const;

export function createClaimOperations(kernel: Kernel, deps: { providers: ReadonlyMap<ProviderName, Provider>; secrets: Secrets; graceSeconds: number }): ClaimOperations {
  const { store, clock, jobs, ledger } = kernel;

  async function owned(principal: Principal, claimId: string, what: string): Promise<Claim> {
    const claim = await q.selectClaim(store, claimId);
    authorize(principal, claimPermission, { type: 'resource claim', id: claimId, ownerRef: claim.owner });
    if (claim.phase !== 'ready') throw new ConflictError(`claim ${claim.environment}/${claim.name} is ${claim.phase}; ${what} needs a ready claim`);
    return claim;
  }

  async function record(principal: Principal, claim: Claim, kind: OperationKind, job: { kind: string; payload: Record<string, unknown> }, backupId: string | null, inTx: (tx: Tx) => Promise<Record<string, unknown>> = async () => ({})): Promise<Operation> {
    const at = toIso(clock.now());
    const op: Operation = { id: `op-${newId().replaceAll('-', '').slice(0, 16)}`, claimId: claim.id, kind, phase: 'queued', backupId, detail: null, error: null, jobId: null, createdBy: principalRef(principal), createdAt: at, updatedAt: at, finishedAt: null };
    await store.transaction(async (tx) => {
      const extra = await inTx(tx);
      await q.insertOperation(tx, op);
      const { job: enqueued } = await jobs.enqueue({ kind: job.kind, payload: { operationId: op.id, ...job.payload, ...extra }, idempotencyKey: `${job.kind}:${op.id}`, maxAttempts: 5 }, { db: tx });
      op.jobId = enqueued.id;
      await q.updateOperation(tx, op.id, { jobId: enqueued.id }, at);
      await ledger.append({ kind: `resources.claim.${kind}-requested`, subjects: [`resource:${claim.environment}/${claim.name}`, claim.owner], actor: op.createdBy, payload: { claimId: claim.id, operationId: op.id, ...(backupId ? { backupId } : {}) } }, { db: tx });
    });
    return op;
  }

  return {
    async backup(principal, claimId) {
      const claim = await owned(principal, claimId, 'a backup');
      const provider = deps.providers.get(claim.provider as ProviderName);
      if (!provider?.restore) throw new InputError(`module ${claim.module} (provider ${claim.provider}) keeps no backups`);
      const opId = newId().replaceAll('-', '').slice(0, 12);
      return record(principal, claim, 'backup', { kind: BACKUP_JOB, payload: {} }, `bk-${claim.id.slice(3)}-m${opId}`);
    },

    async restore(principal, claimId, input) {
      const claim = await owned(principal, claimId, 'a restore');
      if (!deps.providers.get(claim.provider as ProviderName)?.restore) throw new InputError(`module ${claim.module} (provider ${claim.provider}) cannot restore`);
      const kept = await q.listBackups(store, { environment: claim.environment, claimName: claim.name });
      // A backup of this claim, or of an earlier claim of the same name and environment with the same owner (restore after a delete).
      const backup = input.backupId === undefined ? kept.find((b) => b.ownerRef === claim.owner) : kept.find((b) => b.id === input.backupId);
      if (!backup) {
        throw new NotFoundError(
          input.backupId === undefined
            ? `no backup of ${claim.environment}/${claim.name} is kept; take one with \`plinth resource backup ${claim.name} --env ${claim.environment}\``
            : `no backup ${input.backupId} of ${claim.environment}/${claim.name}; backups: ${kept.map((b) => b.id).join(', ') || 'none'}`,
        );
      }
      if (backup.ownerRef !== claim.owner) throw new ConflictError(`backup ${backup.id} belonged to ${backup.ownerRef}, not to the claim's owner ${claim.owner}`);
      return record(principal, claim, 'restore', { kind: RESTORE_JOB, payload: {} }, backup.id);
    },

    async rotate(principal, claimId, input) {
      const claim = await owned(principal, claimId, 'a rotation');
      const rotation = deps.providers.get(claim.provider as ProviderName)?.rotation;
      if (!rotation) throw new InputError(`module ${claim.module} (provider ${claim.provider}) has no server credentials to rotate; add a version to the secret instead`);
      const names = physicalNames(claim.environment, claim.name);
      const data = await rotation.generate({ claim, names, secrets: deps.secrets });
      // The new version is stored with the operation (the intent); the job sets it on the server.
      return record(principal, claim, 'rotate', { kind: ROTATE_JOB, payload: { graceSeconds: input.graceSeconds ?? deps.graceSeconds } }, null, async (tx) => ({ version: await deps.secrets.addClaimVersion(names.secretName, data, tx) }));
    },

    async listOperations(principal, claimId) {
      authorize(principal, readPermission);
      await q.selectClaim(store, claimId);
      return q.listOperations(store, claimId);
    },

    async getOperation(principal, claimId, operationId) {
      authorize(principal, readPermission);
      const op = await q.selectOperation(store, operationId);
      if (op.claimId !== claimId) throw new NotFoundError(`no operation ${operationId} on claim ${claimId}`);
      return op;
    },

    async claimBackups(principal, claimId) {
      const claim = await q.selectClaim(store, claimId);
      authorize(principal, readPermission);
      const ownerRefs = principal.kind === 'user' && principal.role !== 'platform-admin' ? principal.ownershipRefs : undefined;
      return q.listBackups(store, { environment: claim.environment, claimName: claim.name, ownerRefs });
    },
  };
}
