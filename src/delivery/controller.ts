import { request as httpRequest } from 'node:http';
import { ConflictError, toIso, type JobHandler, type Kernel, type Principal, type Tx } from '../kernel/index.js';
import type { ReleaseTrafficStats, Runtime } from '../runtime/index.js';
import { analyseCanary, decideCanaryStep, toAnalysisRecord, windowBetween, type AnalysisRecord, type CounterSnapshot, type DeliveryEventKind, type DeliveryEventPayloads, type Rollout, type RolloutEventBase, type RolloutStatus } from './model/index.js';
import { notifiedEvents } from './model/index.js';
import * as store from './store.js';

export const RECONCILE_JOB = 'delivery.reconcile-rollout';
export const WEBHOOK_JOB = 'delivery.send-webhook';
/** Safety-net wake-up of a rollout waiting for a person; commands wake it at once. */
const IDLE_RECHECK_MS = 60_000;
const CONTROLLER: Principal = { kind: 'system', name: 'delivery' };

export interface ControllerDeps {
  kernel: Kernel;
  runtime: Runtime;
  /** The gateway's port, once it listens (smoke tests go through it). */
  gatewayPort: () => number | undefined;
}

type Extra<K extends DeliveryEventKind> = Omit<DeliveryEventPayloads[K], keyof RolloutEventBase>;
/** An analysis made in this pass, stored with the status it led to. */
type NewAnalysis = Omit<AnalysisRecord, 'seq'>;

/** GET through the gateway to the given release; resolves with a reason when it did not answer 2xx. */
function smokeTest(port: number, host: string, rollout: Rollout, path: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, headers: { host, 'x-plinth-canary': 'always' } }, (res) => {
      res.resume();
      const served = res.headers['x-plinth-release'];
      if (served !== rollout.releaseId) resolve(`smoke test GET ${path} was served by ${String(served ?? 'no release')}, not ${rollout.releaseId}`);
      else resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300 ? undefined : `smoke test GET ${path} answered ${res.statusCode ?? '?'}; expected 2xx`);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(`smoke test GET ${path} failed: ${err.message}`));
    req.end();
  });
}

const snapshotOf = (stats: readonly ReleaseTrafficStats[], releaseId: string | null): CounterSnapshot | undefined => {
  const s = releaseId === null ? undefined : stats.find((x) => x.releaseId === releaseId);
  return s ? { requests: s.requests, errors: s.statusClasses['5xx'], latencyCounts: [...s.latency.counts] } : undefined;
};

/**
 * The rollout controller: one pass reads the rollout, takes at most one step, persists and says when
 * to look again (STYLE §6). Every effect is absolute (weights, "release X stopped"), so a pass
 * repeated after a crash finds the work done.
 */
export function createController(deps: ControllerDeps) {
  const { kernel, runtime } = deps;
  const { store: db, ledger, jobs, clock } = kernel;
  const now = () => toIso(clock.now());

  async function record<K extends DeliveryEventKind>(tx: Tx, kind: K, r: Rollout, actor: string, extra: Extra<K>): Promise<void> {
    const payload = { rolloutId: r.id, service: r.service, environment: r.environment, version: r.version, artifactDigest: r.artifactDigest, commit: r.commit, releaseId: r.releaseId, ...extra };
    await ledger.append({ kind, subjects: [`service:default/${r.service}`, `environment:${r.environment}`, `rollout:${r.id}`], actor, payload }, { db: tx });
    if (!notifiedEvents.includes(kind)) return;
    // Webhooks are jobs of their own: retried with backoff, never holding up the rollout.
    for (const hook of await store.listWebhooks(tx, r.service)) {
      await jobs.enqueue({ kind: WEBHOOK_JOB, payload: { url: hook.url, event: { kind, time: now(), actor, ...payload } }, maxAttempts: 4 }, { db: tx });
    }
  }

  /** Persists a status (fenced by revision) with its ledger event and the analysis behind it in one transaction. */
  async function persist<K extends DeliveryEventKind>(r: Rollout, revision: number, status: RolloutStatus, event?: { kind: K; actor: string; extra: Extra<K> }, analysis?: NewAnalysis): Promise<void> {
    await db.transaction(async (tx) => {
      await store.updateRolloutStatus(tx, r.id, revision, status, now());
      if (analysis) await store.insertAnalysis(tx, r.id, analysis);
      if (event) await record(tx, event.kind, r, event.actor, event.extra);
    });
  }

  const stopQuietly = async (releaseId: string, reason: string) => {
    const release = await runtime.release(CONTROLLER, releaseId);
    if (release.phase === 'ready' || release.phase === 'starting') await runtime.stopRelease(CONTROLLER, releaseId, reason);
  };

  async function promote(r: Rollout, revision: number, actor: string, manual: boolean, analysis?: NewAnalysis): Promise<void> {
    const sticky = r.strategy.kind === 'canary' && r.strategy.sticky;
    await runtime.setTraffic(CONTROLLER, r.service, r.environment, { stable: r.releaseId, canaryWeightPercent: 0, sticky });
    if (r.previousReleaseId !== null) await stopQuietly(r.previousReleaseId, `replaced by ${r.version} (rollout ${r.id})`);
    const at = now();
    const status: RolloutStatus = { ...r.status, phase: 'succeeded', weightPercent: 100, message: manual ? `promoted by ${actor}` : 'promoted', finishedAt: at, pausedFrom: null };
    await persist(r, revision, status, { kind: 'delivery.rollout.promoted', actor, extra: { previousReleaseId: r.previousReleaseId, durationMs: Date.parse(at) - Date.parse(r.createdAt), manual } }, analysis);
  }

  /** All traffic to the previous stable first (what the rollback-time target measures), then stop the new release. */
  async function rollBack(r: Rollout, revision: number, actor: string, reason: string, automatic: boolean, analysis?: NewAnalysis): Promise<void> {
    if (r.previousReleaseId === null) return fail(r, revision, actor, reason, analysis);
    await runtime.setTraffic(CONTROLLER, r.service, r.environment, { stable: r.previousReleaseId, canaryWeightPercent: 0, sticky: false });
    await stopQuietly(r.releaseId, `rolled back: ${reason}`);
    const status: RolloutStatus = { ...r.status, phase: 'rolled-back', weightPercent: 0, message: reason, finishedAt: now(), pausedFrom: null };
    await persist(r, revision, status, { kind: 'delivery.rollout.rolled-back', actor, extra: { previousReleaseId: r.previousReleaseId, reason, automatic } }, analysis);
  }

  async function fail(r: Rollout, revision: number, actor: string, reason: string, analysis?: NewAnalysis): Promise<void> {
    await stopQuietly(r.releaseId, reason);
    const status: RolloutStatus = { ...r.status, phase: 'failed', weightPercent: 0, message: reason, finishedAt: now(), pausedFrom: null };
    await persist(r, revision, status, { kind: 'delivery.rollout.failed', actor, extra: { reason } }, analysis);
  }

  /** Sets a canary step's weight and starts its analysis window from the gateway's counters now. */
  async function enterStep(r: Rollout, revision: number, stepIndex: number, actor: string, analysis?: NewAnalysis): Promise<void> {
    if (r.strategy.kind !== 'canary' || r.previousReleaseId === null) throw new Error(`rollout ${r.id} has no canary steps`);
    const weightPercent = r.strategy.steps[stepIndex]!.weightPercent;
    await runtime.setTraffic(CONTROLLER, r.service, r.environment, { stable: r.previousReleaseId, canary: r.releaseId, canaryWeightPercent: weightPercent, sticky: r.strategy.sticky });
    const stats = runtime.trafficStats(CONTROLLER, r.service, r.environment);
    const baseline: Record<string, CounterSnapshot> = {};
    for (const id of [r.releaseId, r.previousReleaseId]) {
      const s = snapshotOf(stats, id);
      if (s) baseline[id] = s;
    }
    const status: RolloutStatus = { ...r.status, phase: 'progressing', stepIndex, weightPercent, stepStartedAt: now(), baseline, lastAnalysis: null, message: `canary at ${weightPercent}%`, pausedFrom: null };
    await persist(r, revision, status, { kind: 'delivery.rollout.stepped', actor, extra: { stepIndex, weightPercent } }, analysis);
  }

  /** After the smoke test: what the strategy does first. */
  async function begin(r: Rollout, revision: number): Promise<number> {
    const actor = 'system:delivery';
    if (r.previousReleaseId === null || r.strategy.kind === 'direct') {
      await promote(r, revision, actor, false);
      return -1;
    }
    const needsApproval = r.strategy.kind === 'blueGreen' ? r.strategy.approval : r.strategy.steps[0]!.approval;
    if (needsApproval) {
      await persist(r, revision, { ...r.status, smokeTestPassed: true, phase: 'awaiting-approval', message: r.strategy.kind === 'blueGreen' ? 'waiting for approval to switch all traffic' : 'waiting for approval before step 1' });
      return IDLE_RECHECK_MS;
    }
    if (r.strategy.kind === 'blueGreen') {
      await promote(r, revision, actor, false);
      return -1;
    }
    await enterStep({ ...r, status: { ...r.status, smokeTestPassed: true } }, revision, 0, actor);
    return 0;
  }

  async function applyCommand(r: Rollout, revision: number, command: NonNullable<Rollout['pendingCommand']>): Promise<void> {
    const { by } = command;
    switch (command.command) {
      case 'abort':
        await rollBack(r, revision, by, `aborted by ${by}`, false);
        break;
      case 'promote':
        await promote(r, revision, by, true);
        break;
      case 'pause':
        if (r.status.phase !== 'paused') await persist(r, revision, { ...r.status, phase: 'paused', pausedFrom: r.status.phase, message: `paused by ${by}` }, { kind: 'delivery.rollout.paused', actor: by, extra: {} });
        break;
      case 'resume':
        if (r.status.phase === 'paused') await persist(r, revision, { ...r.status, phase: r.status.pausedFrom ?? 'progressing', pausedFrom: null, message: `resumed by ${by}` }, { kind: 'delivery.rollout.resumed', actor: by, extra: {} });
        break;
      case 'approve': {
        if (r.status.phase !== 'awaiting-approval') break;
        const next = r.status.stepIndex + 1;
        const approved: Rollout = { ...r, status: { ...r.status, smokeTestPassed: true, approvals: [...r.status.approvals, { step: next, by, at: command.at }] } };
        await db.transaction((tx) => record(tx, 'delivery.rollout.approved', r, by, { stepIndex: next, approvedBy: by }));
        if (r.strategy.kind === 'canary') await enterStep(approved, revision, next, by);
        else await promote(approved, revision, by, false);
        break;
      }
    }
    await store.clearCommand(db, r.id, command);
  }

  /** One pass. Returns when to look again (ms from now), or null when the rollout is finished. */
  async function reconcileOnce(rolloutId: string): Promise<number | null> {
    const { rollout: r, revision } = await store.getRollout(db, rolloutId);
    const { status } = r;
    if (status.phase === 'succeeded' || status.phase === 'rolled-back' || status.phase === 'failed') return null;
    const command = r.pendingCommand;
    // A promote before the smoke test waits for it; every other command applies at once.
    if (command && !(command.command === 'promote' && !status.smokeTestPassed)) {
      await applyCommand(r, revision, command);
      return 0;
    }
    if (status.phase === 'paused' || status.phase === 'awaiting-approval') return IDLE_RECHECK_MS;
    const release = await runtime.release(CONTROLLER, r.releaseId);
    if (release.phase !== 'ready') {
      await rollBack(r, revision, 'system:delivery', `release ${r.releaseId} is ${release.phase}${release.message ? `: ${release.message}` : ''}`, true);
      return null;
    }
    if (!status.smokeTestPassed) {
      const port = deps.gatewayPort();
      if (port === undefined) throw new Error('the gateway is not listening yet; the smoke test waits for it');
      if (r.previousReleaseId !== null) await runtime.setTraffic(CONTROLLER, r.service, r.environment, { stable: r.previousReleaseId, canary: r.releaseId, canaryWeightPercent: 0, sticky: false });
      const { path, timeoutMs } = r.strategy.smokeTest;
      let failure = await smokeTest(port, runtime.gatewayHost(r.service, r.environment), r, path, timeoutMs);
      for (let attempt = 1; failure !== undefined && attempt < 3; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        failure = await smokeTest(port, runtime.gatewayHost(r.service, r.environment), r, path, timeoutMs);
      }
      if (failure !== undefined) {
        if (r.previousReleaseId !== null) await runtime.setTraffic(CONTROLLER, r.service, r.environment, { stable: r.previousReleaseId, canaryWeightPercent: 0, sticky: false });
        await fail(r, revision, 'system:delivery', failure);
        return null;
      }
      return begin({ ...r, status: { ...status, smokeTestPassed: true } }, revision);
    }
    if (r.strategy.kind !== 'canary' || r.previousReleaseId === null) {
      await promote(r, revision, 'system:delivery', false);
      return null;
    }
    return progressCanary(r, revision, r.strategy, r.previousReleaseId);
  }

  async function progressCanary(r: Rollout, revision: number, strategy: Extract<Rollout['strategy'], { kind: 'canary' }>, stableId: string): Promise<number | null> {
    const { status } = r;
    const step = strategy.steps[status.stepIndex]!;
    // After a restart the runtime restores the recorded split; re-asserting it is a no-op then.
    const split = runtime.traffic(CONTROLLER, r.service, r.environment);
    if (split?.canary !== r.releaseId || split.canaryWeightPercent !== status.weightPercent || split.stable !== stableId) {
      await runtime.setTraffic(CONTROLLER, r.service, r.environment, { stable: stableId, canary: r.releaseId, canaryWeightPercent: status.weightPercent, sticky: strategy.sticky });
    }
    const stats = runtime.trafficStats(CONTROLLER, r.service, r.environment);
    const bucketsMs = stats[0]?.latency.bucketsMs ?? [];
    const buckets = bucketsMs.length + 1;
    const analysis = step.analysis
      ? analyseCanary(strategy.analysis, bucketsMs, windowBetween(status.baseline?.[r.releaseId], snapshotOf(stats, r.releaseId), buckets), windowBetween(status.baseline?.[stableId], snapshotOf(stats, stableId), buckets))
      : null;
    const decision = decideCanaryStep(strategy, status, analysis, clock.now().getTime());
    const at = now();
    const lastAnalysis = analysis ? { ...analysis, at } : status.lastAnalysis;
    // Every analysis is kept (the portal charts the whole rollout), written with the status it led to.
    const made = analysis ? toAnalysisRecord(analysis, at, status) : undefined;
    const judged: Rollout = { ...r, status: { ...status, lastAnalysis } };
    switch (decision.kind) {
      case 'rollback':
        await rollBack(judged, revision, 'system:delivery', decision.reason, true, made);
        return null;
      case 'promote':
        await promote(judged, revision, 'system:delivery', false, made);
        return null;
      case 'next-step':
        if (decision.needsApproval) {
          await persist(judged, revision, { ...judged.status, phase: 'awaiting-approval', message: `waiting for approval before step ${decision.stepIndex + 1} (${strategy.steps[decision.stepIndex]!.weightPercent}%)` }, undefined, made);
          return IDLE_RECHECK_MS;
        }
        await enterStep(judged, revision, decision.stepIndex, 'system:delivery', made);
        return 0;
      case 'wait': {
        await persist(judged, revision, { ...judged.status, message: decision.message ?? judged.status.message }, undefined, made);
        const remainingBakeMs = (step.bakeMs ?? strategy.bakeMs) - (clock.now().getTime() - Date.parse(status.stepStartedAt ?? now()));
        return Math.max(0, Math.min(strategy.analysisIntervalMs, remainingBakeMs > 0 ? remainingBakeMs : strategy.analysisIntervalMs));
      }
    }
  }

  const handler: JobHandler = async (job) => {
    const rolloutId = (job.payload as { rolloutId?: unknown } | null)?.rolloutId;
    if (typeof rolloutId !== 'string') return { kind: 'fail', reason: 'payload has no rolloutId' };
    try {
      const nextMs = await reconcileOnce(rolloutId);
      if (nextMs === null) return { kind: 'done' };
      // A command that arrived during the pass is handled at once, not after the wait.
      const { rollout } = await store.getRollout(db, rolloutId);
      return { kind: 'wait', until: new Date(clock.now().getTime() + (rollout.pendingCommand ? 0 : nextMs)) };
    } catch (err) {
      if (err instanceof ConflictError) return { kind: 'wait', until: clock.now() };
      return { kind: 'retry', error: err as Error };
    }
  };

  return { reconcileOnce, handler, record };
}

/** Posts one notification; a non-2xx answer or no answer is retried by the job queue. */
export const sendWebhook: JobHandler = async (job) => {
  const payload = job.payload as { url?: unknown; event?: unknown } | null;
  if (typeof payload?.url !== 'string') return { kind: 'fail', reason: 'payload has no url' };
  try {
    const res = await fetch(payload.url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'plinth-delivery' }, body: JSON.stringify(payload.event), signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    if (!res.ok) return { kind: 'retry', error: new Error(`${payload.url} answered ${res.status}`) };
    return { kind: 'done' };
  } catch (err) {
    return { kind: 'retry', error: new Error(`${payload.url}: ${(err as Error).message}`) };
  }
};
