/**
 * The claim controller: apply and delete run as kernel jobs that take one provider step per pass and
 * persist it (the claim row is the resumable record, STYLE §6). Steps are idempotent, so a worker killed
 * after a step's effect but before its record re-runs the step and finds the work done.
 */
import { z } from 'zod';
import { isTerminal, toIso, type ClaimedJob, type JobOutcome, type Kernel } from '../kernel/index.js';
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
/** How often a delete looks whether the jobs it waits for have ended. */
const SETTLE_POLL_MS = 250;

/** A delete job's payload: the claim, and the jobs (its apply, queued operations) to let end first. */
export const DeletePayload = z.object({ claimId: z.string(), after: z.array(z.string()).default([]) });

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
      if (await q.updateClaim(store, claim.id, { step: step.name }, now(), 'provisioning')) return 'progress';
      await undoLateEffect(claim, provider, ctx);
      return 'done';
    }
    const outputs = await provider.outputs(ctx);
    const readyAt = clock.now();
    const subjects = [`resource:${claim.environment}/${claim.name}`, claim.owner, `environment:${claim.environment}`];
    // Ready before: an upgrade, which keeps the claim's first time-to-provision.
    const upgraded = claim.readyAt !== null;
    const provisionMs = readyAt.getTime() - new Date(claim.createdAt).getTime();
    await store.transaction(async (tx) => {
      if (!(await q.updateClaim(tx, claim.id, { phase: 'ready', outputs, lastError: null, ...(upgraded ? {} : { readyAt: toIso(readyAt), provisionMs }) }, toIso(readyAt), 'provisioning'))) return;
      const payload = { claimId: claim.id, name: claim.name, environment: claim.environment, module: claim.module, version: claim.version };
      await ledger.append(upgraded ? { kind: 'resources.claim.upgraded', subjects, actor: 'system:resources', payload: { ...payload, preset: claim.preset } } : { kind: 'resources.claim.provisioned', subjects, actor: 'system:resources', payload: { ...payload, provisionMs } }, { db: tx });
    });
    return 'done';
  }

  /**
   * The claim left provisioning while a step ran. Normally the delete waits for the apply job to end
   * first; but a worker paused past its lease (its job taken over and finished meanwhile) wakes up to
   * land its step after the delete removed everything. It then removes what the step made, as the
   * delete did, unless the claim became ready elsewhere (or keeps data: it was ready once) or a new
   * claim of the same name owns the names now.
   */
  async function undoLateEffect(claim: Claim, provider: Provider, ctx: ProvisionContext) {
    const current = await q.findClaim(store, claim.id);
    if (current !== undefined && !(current.phase === 'deleting' && current.readyAt === null)) return;
    const successors = await q.listClaims(store, { environment: claim.environment, name: claim.name, limit: 2 });
    if (successors.some((c) => c.id !== claim.id)) return;
    await provider.destroy(ctx);
    if (current === undefined && (await q.selectSecret(store, ctx.names.secretName))?.claimId === claim.id) await secrets.removeClaimSecret(ctx.names.secretName);
    log.warn({ claimId: claim.id }, 'an apply step landed after its claim was deleted; what it created is removed');
  }

  /** When the jobs a delete must outlast (the apply, queued operations) are still going: when to look again. */
  async function stillRunning(job: ClaimedJob): Promise<Date | undefined> {
    const { after } = DeletePayload.parse(job.payload);
    for (const id of after) {
      const other = await jobs.get(id).catch(() => undefined);
      if (other !== undefined && !isTerminal(other.state)) return new Date(clock.now().getTime() + SETTLE_POLL_MS);
    }
    return undefined;
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
  function handler(pass: (id: string) => Promise<PassResult>, failedPhase: 'failed' | 'deleting', waitFor?: (job: ClaimedJob) => Promise<Date | undefined>) {
    return async (job: ClaimedJob, ctx: { signal: AbortSignal }): Promise<JobOutcome> => {
      const { claimId } = job.payload as { claimId: string };
      try {
        const until = await waitFor?.(job);
        if (until) return { kind: 'wait', until };
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
      jobs.register(DELETE_JOB, handler(deleteOnce, 'deleting', stillRunning));
    },
  };
}
