import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import { newSecret, toIso } from '../clock.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db, Store, Tx } from '../store/index.js';
import { backoffMs, type ClaimedJob, type Job, type JobHandler, type JobOutcome } from './model.js';
import * as q from './store.js';

export const JOBS_CHANNEL = 'plinth_jobs';
/** Notified when a job's cancellation is requested, so the worker running it aborts it now. */
export const JOBS_CANCEL_CHANNEL = 'plinth_jobs_cancel';

export interface WorkerOptions {
  /** Jobs run at once by this worker. */
  concurrency: number;
  /** Job kinds this worker takes; default every registered kind. */
  kinds?: readonly string[];
  leaseMs?: number;
  /** Safety-net poll; wake-ups normally come from enqueue notifications. */
  pollMs?: number;
  /** While jobs run, how long to gather wake-ups before the next claim. */
  coalesceMs?: number;
  workerId?: string;
}

export interface Worker {
  id: string;
  /** Stops claiming, lets running jobs finish for `drainMs`, then hands the rest back to the queue. */
  stop(drainMs?: number): Promise<void>;
  /** Jobs running now. */
  running(): number;
}

export interface WorkerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  handlers: ReadonlyMap<string, JobHandler>;
  /** Dead-letters jobs in the given transaction (ledger event included). */
  recordDead(db: Db, jobs: readonly Job[]): Promise<void>;
  onStopped(worker: Worker): void;
}

export class LeaseLost extends Error {}

/** Most completions one transaction carries. */
const MAX_COMPLETION_BATCH = 64;

interface Completion {
  job: ClaimedJob;
  output: unknown;
  /** The handler's effects, committed with the completion. */
  commit?: (tx: Tx) => Promise<void>;
}
interface PendingCompletion extends Completion {
  resolve(): void;
  reject(err: unknown): void;
}

/** A claim loop: claims due jobs with a lease, heartbeats them, runs their handlers, records outcomes fenced by the lease. */
export function startWorker(deps: WorkerDeps, options: WorkerOptions): Worker {
  const { store, clock, logger, metrics, handlers, recordDead } = deps;
  const now = () => toIso(clock.now());
  const id = options.workerId ?? `${hostname()}:${process.pid}:${newSecret(4)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 1000;
  const coalesceMs = options.coalesceMs ?? 5;
  const log = logger.child({ worker: id });
  const running = new Map<string, { job: ClaimedJob; abort: AbortController; done: Promise<void> }>();
  const heartbeats = new Map<string, NodeJS.Timeout>();
  let stopping = false;
  // A wake that arrives while the loop is busy is remembered, so no enqueue waits for the poll.
  let wakePending = false;
  let wakeUp: (() => void) | undefined;
  const wake = () => {
    wakePending = true;
    const fn = wakeUp;
    wakeUp = undefined;
    fn?.();
  };
  const waitForWake = (timeoutMs?: number) =>
    new Promise<void>((resolve) => {
      if (wakePending || stopping) {
        wakePending = false;
        return resolve();
      }
      // Not unref'd: a worker process with nothing else to do stays alive to poll.
      const timer = timeoutMs === undefined ? undefined : setTimeout(wake, timeoutMs);
      wakeUp = () => {
        if (timer) clearTimeout(timer);
        wakePending = false;
        resolve();
      };
    });
  const unlisten = store.listen(JOBS_CHANNEL, wake);

  /** Extends the leases held under `token` and aborts the jobs that were cancelled or lost meanwhile. */
  async function beat(token: string, timer: NodeJS.Timeout) {
    const held = [...running.values()].filter((r) => r.job.leaseToken === token);
    if (held.length === 0) {
      clearInterval(timer);
      heartbeats.delete(token);
      return;
    }
    try {
      const alive = await q.extendLeases(store, token, toIso(new Date(clock.now().getTime() + leaseMs)), now());
      const byId = new Map(alive.map((r) => [r.id, r.cancel_requested === 1]));
      for (const r of held) {
        if (!running.has(r.job.id)) continue;
        if (!byId.has(r.job.id)) r.abort.abort('lease-lost');
        else if (byId.get(r.job.id)) r.abort.abort('cancelled');
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'heartbeat failed; the lease may expire');
    }
  }

  function startHeartbeat(token: string) {
    const timer: NodeJS.Timeout = setInterval(() => void beat(token, timer), Math.max(50, Math.floor(leaseMs / 3)));
    timer.unref();
    heartbeats.set(token, timer);
  }
  // A cancellation is noticed at once, not at the next heartbeat (which may be 10 s away).
  const unlistenCancels = store.listen(JOBS_CANCEL_CHANNEL, () => {
    for (const [token, timer] of heartbeats) void beat(token, timer);
  });

  // Successful completions are written in batches: those that finish while a batch commits ride in
  // the next one, so a busy worker pays one transaction for many jobs (no added wait when idle).
  const pendingCompletions: PendingCompletion[] = [];
  let flushing = false;

  function complete(c: Completion): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      pendingCompletions.push({ ...c, resolve, reject });
      if (!flushing) {
        flushing = true;
        setImmediate(() => void flushCompletions());
      }
    });
  }

  async function flushCompletions() {
    while (pendingCompletions.length > 0) await writeCompletions(pendingCompletions.splice(0, MAX_COMPLETION_BATCH));
    flushing = false;
  }

  async function writeCompletions(batch: PendingCompletion[]) {
    const t = now();
    const fences = batch.map((c) => ({ id: c.job.id, leaseToken: c.job.leaseToken, output: c.output }));
    if (batch.every((c) => !c.commit)) {
      // No effects to roll back: one fenced UPDATE; a job missing from its result lost its lease.
      try {
        const finished = await q.finishSucceeded(store, fences, t);
        for (const c of batch) {
          if (finished.has(c.job.id)) c.resolve();
          else c.reject(new LeaseLost());
        }
      } catch (err) {
        for (const c of batch) c.reject(err);
      }
      return;
    }
    if (batch.length > 1) {
      try {
        await store.transaction(async (tx) => {
          for (const c of batch) await c.commit?.(tx);
          if ((await q.finishSucceeded(tx, fences, t)).size !== batch.length) throw new LeaseLost();
        });
        for (const c of batch) c.resolve();
        return;
      } catch {
        // A lost lease or a failing effect: each job alone below, so one cannot take the others down.
      }
    }
    for (const [i, c] of batch.entries()) {
      try {
        await store.transaction(async (tx) => {
          if ((await q.finishSucceeded(tx, [fences[i]!], t)).size !== 1) throw new LeaseLost();
          await c.commit?.(tx);
        });
        c.resolve();
      } catch (err) {
        c.reject(err);
      }
    }
  }

  async function settle(job: ClaimedJob, outcome: JobOutcome, reason: unknown): Promise<void> {
    if (reason === 'lease-lost') {
      log.warn({ jobId: job.id }, 'lease lost; the job was handed to another worker');
      return;
    }
    if (reason !== 'cancelled' && reason !== 'shutdown' && outcome.kind === 'done') {
      await complete({ job, output: outcome.output, commit: outcome.commit });
      metrics.jobsFinished.inc({ kind: job.kind, state: 'succeeded' });
      return;
    }
    await settleJob(deps, job, outcome, reason === 'cancelled' || reason === 'shutdown' ? reason : undefined);
  }

  async function runJob(job: ClaimedJob, abort: AbortController): Promise<void> {
    const handler = handlers.get(job.kind)!;
    let outcome: JobOutcome;
    try {
      outcome = await handler(job, {
        signal: abort.signal,
        progress: (message, data) => q.insertProgress(store, job.id, now(), message, data),
      });
    } catch (err) {
      outcome = { kind: 'retry', error: err instanceof Error ? err : new Error(String(err)) };
    }
    try {
      await settle(job, outcome, abort.signal.aborted ? abort.signal.reason : undefined);
    } catch (err) {
      if (err instanceof LeaseLost) log.warn({ jobId: job.id }, 'lease lost before completion; effects rolled back');
      else log.error({ err, jobId: job.id }, 'could not record the job outcome; its lease will expire and it will be retried');
    }
  }

  async function reclaim() {
    try {
      const dead = await store.transaction(async (tx) => {
        const r = await q.reclaimExpired(tx, now());
        await recordDead(tx, r.dead);
        return r;
      });
      if (dead.requeued > 0) wake();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'lease reclaim failed');
    }
  }
  const reclaimTimer = setInterval(reclaim, Math.min(5000, Math.max(100, Math.floor(leaseMs / 2))));
  reclaimTimer.unref();

  const loop = (async () => {
    await reclaim();
    while (!stopping) {
      // While busy, let wake-ups pile up for a moment: one claim then fills several free slots,
      // instead of every enqueue notification in a cluster triggering a claim query in every worker.
      if (running.size > 0 && !stopping) await sleep(coalesceMs);
      const kinds = (options.kinds ?? [...handlers.keys()]).filter((k) => handlers.has(k));
      const free = options.concurrency - running.size;
      let claimed: ClaimedJob[] = [];
      if (free > 0 && kinds.length > 0) {
        try {
          const t = clock.now();
          claimed = await q.claimJobs(store, store.dialect, {
            kinds,
            limit: free,
            now: toIso(t),
            leaseExpiresAt: toIso(new Date(t.getTime() + leaseMs)),
            leaseToken: newSecret(12),
            workerId: id,
          });
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'claim failed; retrying');
        }
      }
      if (claimed.length > 0) startHeartbeat(claimed[0]!.leaseToken);
      for (const job of claimed) {
        const abort = new AbortController();
        const done = runJob(job, abort).finally(() => {
          running.delete(job.id);
          wake();
        });
        running.set(job.id, { job, abort, done });
      }
      if (claimed.length > 0 && claimed.length === free) {
        // Every free slot was filled: wait for a slot to free up (or an enqueue).
        await waitForWake();
        continue;
      }
      if (claimed.length > 0) continue;
      await waitForWake(pollMs);
    }
  })();

  const worker: Worker = {
    id,
    running: () => running.size,
    async stop(drainMs = 10_000) {
      if (stopping) return;
      stopping = true;
      unlisten();
      unlistenCancels();
      wake();
      await loop;
      const drained = Promise.all([...running.values()].map((r) => r.done));
      const timedOut = await Promise.race([drained.then(() => false), sleep(drainMs).then(() => true)]);
      if (timedOut) {
        for (const r of running.values()) r.abort.abort('shutdown');
        await Promise.race([drained, sleep(2000)]);
      }
      clearInterval(reclaimTimer);
      for (const timer of heartbeats.values()) clearInterval(timer);
      heartbeats.clear();
      deps.onStopped(worker);
    },
  };
  return worker;
}

function sleep(ms: number) {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Records a job's outcome fenced by its lease token (a lost lease writes nothing and gives false). `reason`
 * says the run was interrupted: cancelled ends it, shutdown hands it back without using an attempt.
 * Shared by this process's workers and by workers elsewhere that hold a lease through the API.
 */
export async function settleJob(
  deps: Pick<WorkerDeps, 'store' | 'clock' | 'metrics' | 'recordDead'>,
  job: ClaimedJob,
  outcome: JobOutcome,
  reason?: 'cancelled' | 'shutdown',
): Promise<boolean> {
  const { store, clock, metrics, recordDead } = deps;
  const t = toIso(clock.now());
  if (reason === 'cancelled') {
    const done = await q.finishJob(store, job.id, job.leaseToken, { state: 'cancelled', lastError: 'cancelled', now: t });
    if (done) metrics.jobsFinished.inc({ kind: job.kind, state: 'cancelled' });
    return done;
  }
  if (reason === 'shutdown') return q.finishJob(store, job.id, job.leaseToken, { state: 'queued', runAt: t, attemptsDelta: -1, lastError: 'worker shut down', now: t });
  switch (outcome.kind) {
    case 'done': {
      const done = await store.transaction(async (tx) => {
        if ((await q.finishSucceeded(tx, [{ id: job.id, leaseToken: job.leaseToken, output: outcome.output }], t)).size !== 1) return false;
        await outcome.commit?.(tx);
        return true;
      });
      if (done) metrics.jobsFinished.inc({ kind: job.kind, state: 'succeeded' });
      return done;
    }
    case 'wait':
      return q.finishJob(store, job.id, job.leaseToken, { state: 'queued', runAt: toIso(outcome.until), attemptsDelta: -1, now: t });
    case 'fail': {
      const done = await q.finishJob(store, job.id, job.leaseToken, { state: 'failed', lastError: outcome.reason, now: t });
      if (done) metrics.jobsFinished.inc({ kind: job.kind, state: 'failed' });
      return done;
    }
    case 'retry': {
      const lastError = outcome.error.message.slice(0, 2000);
      if (job.attempts >= job.maxAttempts) {
        try {
          await store.transaction(async (tx) => {
            if (!(await q.finishJob(tx, job.id, job.leaseToken, { state: 'dead', lastError, now: t }))) throw new LeaseLost();
            await recordDead(tx, [{ ...job, state: 'dead', lastError }]);
          });
          return true;
        } catch (err) {
          if (err instanceof LeaseLost) return false;
          throw err;
        }
      }
      const runAt = toIso(new Date(clock.now().getTime() + backoffMs(job.attempts)));
      return q.finishJob(store, job.id, job.leaseToken, { state: 'queued', runAt, lastError, now: t });
    }
  }
}
