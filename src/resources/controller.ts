/**
 * The claim controller: apply and delete run as kernel jobs that take one provider step per pass and
 * persist it (the claim row is the resumable record, STYLE §6). Steps are idempotent, so a worker killed
 * after a step's effect but before its record re-runs the step and finds the work done.
 */
import { toIso, type ClaimedJob, type JobOutcome, type Kernel } from '../kernel/index.js';
import { physicalNames, type Claim } from './model/claim.js';
import type { Module, ProviderName } from './model/module.js';
import type { Operations } from './operations.js';
import { TerminalProvisioningError, type Provider, type ProvisionContext } from './providers/provider.js';
import type { Secrets } from './secrets/service.js';
import * as q from './store/index.js';

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
  operations: Pick<Operations, 'takeBackup'>;
  moduleOf(claim: Claim): Module | undefined;
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
      // Deterministic per claim: a re-run overwrites the same file rather than leaving a second one.
      await deps.operations.takeBackup(claim, 'final', `bk-${claim.id}`);
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

  /**
   * Observes a claim; with drift and a module that says `drift.repair`, re-runs its apply steps (each
   * is absolute, so they put back what was changed) and observes again. The claim keeps what remains.
   */
  async function checkDrift(claim: Claim): Promise<string[]> {
    const provider = providerOf(claim);
    const ctx = contextOf(claim);
    const problems = await provider.observe(ctx);
    let remaining = problems;
    const repair = problems.length > 0 && deps.moduleOf(claim)?.drift.repair === true;
    if (repair) {
      for (const step of provider.steps) await step.run(ctx);
      remaining = await provider.observe(ctx);
    }
    const drift = remaining.length === 0 ? null : { detectedAt: claim.drift?.detectedAt ?? now(), problems: remaining };
    const changed = JSON.stringify(drift?.problems ?? null) !== JSON.stringify(claim.drift?.problems ?? null);
    if (!changed && !repair) return problems;
    const subjects = [`resource:${claim.environment}/${claim.name}`, claim.owner];
    const payload = { claimId: claim.id, name: claim.name, environment: claim.environment };
    await store.transaction(async (tx) => {
      await q.updateClaim(tx, claim.id, { drift }, now());
      if (problems.length > 0 && JSON.stringify(problems) !== JSON.stringify(claim.drift?.problems ?? null)) {
        await ledger.append({ kind: 'resources.drift.detected', subjects, actor: 'system:resources', payload: { ...payload, problems } }, { db: tx });
      }
      if (repair) await ledger.append({ kind: 'resources.drift.repaired', subjects, actor: 'system:resources', payload: { ...payload, problems, remaining } }, { db: tx });
      else if (drift === null) await ledger.append({ kind: 'resources.drift.resolved', subjects, actor: 'system:resources', payload: { ...payload, problems: [] } }, { db: tx });
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
