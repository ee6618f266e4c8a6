/**
 * The claim controller: apply and delete run as kernel jobs that take one provider step per pass and
 * persist it (the claim row is the resumable record, STYLE §6). Steps are idempotent, so a worker killed
 * after a step's effect but before its record re-runs the step and finds the work done.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { toIso, type ClaimedJob, type JobOutcome, type Kernel } from '../kernel/index.js';
import { physicalNames, type Claim } from './model/claim.js';
import type { ProviderName } from './model/module.js';
import { TerminalProvisioningError, type Provider, type ProvisionContext } from './providers/provider.js';
import type { Secrets } from './secrets/service.js';
import * as q from './store.js';

export const APPLY_JOB = 'resources.apply-claim';
export const DELETE_JOB = 'resources.delete-claim';
export const DRIFT_JOB = 'resources.check-drift';
const DELETE_STEPS = ['backup', 'destroy'] as const;

export type PassResult = 'progress' | 'done';

export interface Controller {
  /** One apply step of a provisioning claim; 'done' once it is ready (or no longer provisioning). */
  applyOnce(claimId: string): Promise<PassResult>;
  /** One delete step of a deleting claim; 'done' once it is gone. */
  deleteOnce(claimId: string): Promise<PassResult>;
  /** Compares one claim with its server; records (and clears) drift on the claim. */
  checkDrift(claim: Claim): Promise<string[]>;
  register(): void;
}

export interface ControllerDeps {
  kernel: Kernel;
  providers: ReadonlyMap<ProviderName, Provider>;
  secrets: Secrets;
  backupDir: string;
  backupRetentionDays: number;
}

export function createController(deps: ControllerDeps): Controller {
  const { kernel, providers, secrets } = deps;
  const { store, clock, ledger, jobs, logger } = kernel;
  const log = logger.child({ layer: 'resources' });
  const now = () => toIso(clock.now());

  const providerOf = (claim: Claim) => {
    const provider = providers.get(claim.provider as ProviderName);
    if (!provider) throw new TerminalProvisioningError(`no provider ${claim.provider} in this Plinth`);
    return provider;
  };
  const contextOf = (claim: Claim): ProvisionContext => ({ claim, names: physicalNames(claim.environment, claim.name), secrets });

  async function applyOnce(claimId: string): Promise<PassResult> {
    const claim = await q.findClaim(store, claimId);
    if (!claim || claim.phase !== 'provisioning') return 'done';
    const provider = providerOf(claim);
    const ctx = contextOf(claim);
    const next = claim.step === null ? 0 : provider.steps.findIndex((s) => s.name === claim.step) + 1;
    const step = provider.steps[next];
    if (step) {
      await step.run(ctx);
      await q.updateClaim(store, claim.id, { step: step.name }, now(), 'provisioning');
      return 'progress';
    }
    const outputs = await provider.outputs(ctx);
    const readyAt = clock.now();
    const provisionMs = readyAt.getTime() - new Date(claim.createdAt).getTime();
    await store.transaction(async (tx) => {
      if (!(await q.updateClaim(tx, claim.id, { phase: 'ready', outputs, readyAt: toIso(readyAt), provisionMs, lastError: null }, toIso(readyAt), 'provisioning'))) return;
      await ledger.append(
        { kind: 'resources.claim.provisioned', subjects: [`resource:${claim.environment}/${claim.name}`, claim.owner, `environment:${claim.environment}`], actor: 'system:resources', payload: { claimId: claim.id, name: claim.name, environment: claim.environment, module: claim.module, version: claim.version, provisionMs } },
        { db: tx },
      );
    });
    return 'done';
  }

  async function deleteOnce(claimId: string): Promise<PassResult> {
    const claim = await q.findClaim(store, claimId);
    if (!claim || claim.phase !== 'deleting') return 'done';
    const provider = providerOf(claim);
    const ctx = contextOf(claim);
    const next = DELETE_STEPS.indexOf(claim.step as (typeof DELETE_STEPS)[number]) + 1;
    const step = DELETE_STEPS[next];
    if (step === 'backup') {
      const dir = join(deps.backupDir, claim.environment);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // Deterministic per claim: a re-run overwrites the same file rather than leaving a second one.
      const taken = await provider.backup(ctx, join(dir, `${claim.name}-${claim.id}.dump`));
      if (taken) {
        const createdAt = clock.now();
        await q.insertBackup(store, {
          id: `bk-${claim.id}`,
          claimId: claim.id,
          claimName: claim.name,
          environment: claim.environment,
          module: `${claim.module}@${claim.version}`,
          ownerRef: claim.owner,
          path: taken.path,
          bytes: taken.bytes,
          createdAt: toIso(createdAt),
          expiresAt: toIso(new Date(createdAt.getTime() + deps.backupRetentionDays * 86_400_000)),
        });
      }
    } else if (step === 'destroy') {
      await provider.destroy(ctx);
    } else {
      await store.transaction(async (tx) => {
        await secrets.removeClaimSecret(ctx.names.secretName, tx);
        await q.deleteClaimRow(tx, claim.id);
        await ledger.append({ kind: 'resources.claim.deleted', subjects: [`resource:${claim.environment}/${claim.name}`, claim.owner, `environment:${claim.environment}`], actor: 'system:resources', payload: { claimId: claim.id, name: claim.name, environment: claim.environment, module: claim.module } }, { db: tx });
      });
      return 'done';
    }
    await q.updateClaim(store, claim.id, { step }, now(), 'deleting');
    return 'progress';
  }

  /** Runs passes until done; a terminal error (or the last attempt) fails the claim, others retry with backoff. */
  function handler(pass: (id: string) => Promise<PassResult>, failedPhase: 'failed' | 'deleting') {
    return async (job: ClaimedJob, ctx: { signal: AbortSignal }): Promise<JobOutcome> => {
      const { claimId } = job.payload as { claimId: string };
      try {
        while ((await pass(claimId)) === 'progress') {
          if (ctx.signal.aborted) return { kind: 'retry', error: new Error('interrupted; resuming from the last recorded step') };
        }
        return { kind: 'done' };
      } catch (err) {
        const message = (err as Error).message.slice(0, 1000);
        const terminal = err instanceof TerminalProvisioningError || job.attempts >= job.maxAttempts;
        log.warn({ claimId, err: message, attempt: job.attempts, terminal }, 'claim step failed');
        await q.updateClaim(store, claimId, { lastError: message, ...(terminal && failedPhase === 'failed' ? { phase: 'failed' as const } : {}) }, now());
        if (!terminal) return { kind: 'retry', error: err as Error };
        await ledger.append({ kind: 'resources.claim.failed', subjects: [`resource-claim:${claimId}`], actor: 'system:resources', payload: { claimId, error: message, job: job.kind } });
        return { kind: 'fail', reason: message };
      }
    };
  }

  async function checkDrift(claim: Claim): Promise<string[]> {
    const problems = await providerOf(claim).observe(contextOf(claim));
    const drift = problems.length === 0 ? null : { detectedAt: claim.drift?.detectedAt ?? now(), problems };
    if (JSON.stringify(drift?.problems ?? null) === JSON.stringify(claim.drift?.problems ?? null)) return problems;
    await store.transaction(async (tx) => {
      await q.updateClaim(tx, claim.id, { drift }, now());
      await ledger.append({ kind: drift ? 'resources.drift.detected' : 'resources.drift.resolved', subjects: [`resource:${claim.environment}/${claim.name}`, claim.owner], actor: 'system:resources', payload: { claimId: claim.id, name: claim.name, environment: claim.environment, problems } }, { db: tx });
    });
    return problems;
  }

  return {
    applyOnce,
    deleteOnce,
    checkDrift,
    register() {
      jobs.register(APPLY_JOB, handler(applyOnce, 'failed'));
      jobs.register(DELETE_JOB, handler(deleteOnce, 'deleting'));
    },
  };
}
