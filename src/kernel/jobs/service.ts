import type { Clock } from '../clock.js';
import { newId, toIso } from '../clock.js';
import { ConflictError, InputError } from '../errors.js';
import type { Ledger } from '../ledger/service.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db, Store } from '../store/index.js';
import type { ClaimedJob, EnqueueInput, Job, JobHandler, JobOutcome, JobProgress, JobState } from './model.js';
import * as q from './store.js';
import { newSecret } from '../clock.js';
import { JOBS_CANCEL_CHANNEL as CANCEL_CHANNEL, JOBS_CHANNEL as CHANNEL, settleJob, startWorker, type Worker, type WorkerOptions } from './worker.js';

export type { Worker, WorkerOptions } from './worker.js';

const DEFAULT_MAX_ATTEMPTS = 5;
/** `layer.verb-noun`, optionally qualified after a colon (`pipelines.run:gpu+node`: a run for runners with those labels). */
const JOB_KIND = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*(:[a-z0-9][a-z0-9+.-]*)?$/;

/** The durable job queue every long operation runs on (STYLE §6). */
export interface Jobs {
  register(kind: string, handler: JobHandler): void;
  enqueue(input: EnqueueInput, options?: { db?: Db }): Promise<{ job: Job; created: boolean }>;
  get(id: string): Promise<Job>;
  list(query: { state?: JobState; kind?: string; limit: number; cursor?: string }): Promise<{ items: Job[]; nextCursor: string | null }>;
  progress(id: string): Promise<JobProgress[]>;
  /** Cancels a queued job at once; a running one is signalled and ends as cancelled. */
  cancel(id: string): Promise<Job>;
  /** Puts a dead, failed or cancelled job back in the queue with fresh attempts. */
  retry(id: string): Promise<Job>;
  counts(): Promise<Record<JobState, number>>;
  /** Makes a queued job due now (an on-demand run of a recurring job); false when it is not queued. */
  runNow(id: string): Promise<boolean>;
  startWorker(options: WorkerOptions): Worker;
  /**
   * Leases for workers outside this process (external pipeline runners, through the API): claim one due job
   * of the given kinds (waiting up to `waitMs` for one), renew it, and record its outcome. Every write is
   * fenced by the lease token, and an expired lease goes back to the queue like any worker's.
   */
  readonly leases: {
    claim(input: { kinds: readonly string[]; workerId: string; leaseMs: number; waitMs: number; signal?: AbortSignal }): Promise<ClaimedJob | undefined>;
    /** `lost`: the lease expired and the job went back to the queue (or elsewhere); stop working on it. */
    renew(job: Pick<ClaimedJob, 'id' | 'leaseToken'>, leaseMs: number): Promise<'held' | 'cancel-requested' | 'lost'>;
    /** Whether the lease is still held (for writes made on the job's behalf). */
    holds(job: Pick<ClaimedJob, 'id' | 'leaseToken'>): Promise<boolean>;
    settle(job: ClaimedJob, outcome: JobOutcome, reason?: 'cancelled' | 'shutdown'): Promise<boolean>;
  };
  /** Stops every worker started here. */
  stop(drainMs?: number): Promise<void>;
}

export function createJobs(deps: { store: Store; ledger: Ledger; clock: Clock; logger: Logger; metrics: Metrics }): Jobs {
  const { store, ledger, clock, logger, metrics } = deps;
  const handlers = new Map<string, JobHandler>();
  const workers = new Set<Worker>();
  const now = () => toIso(clock.now());

  async function recordDead(db: Db, deadJobs: readonly Job[]) {
    if (deadJobs.length === 0) return;
    await ledger.append(
      deadJobs.map((job) => ({
        kind: 'kernel.job.dead-lettered' as const,
        subjects: [`job:default/${job.id}`],
        actor: 'system:jobs',
        payload: { jobId: job.id, kind: job.kind, attempts: job.attempts, lastError: job.lastError },
      })),
      { db },
    );
    for (const job of deadJobs) metrics.jobsFinished.inc({ kind: job.kind, state: 'dead' });
  }


  return {
    startWorker(options) {
      const worker = startWorker({ store, clock, logger, metrics, handlers, recordDead, onStopped: (w) => workers.delete(w) }, options);
      workers.add(worker);
      return worker;
    },
    register(kind, handler) {
      if (handlers.has(kind)) throw new Error(`a handler for job kind ${kind} is already registered`);
      handlers.set(kind, handler);
    },
    async enqueue(input, options) {
      if (!JOB_KIND.test(input.kind)) throw new InputError(`job kind "${input.kind}" is not layer.verb-noun`);
      const t = now();
      // Inside the caller's transaction, the job and its wake-up commit with the caller's change;
      // alone, the insert commits by itself and the wake-up follows it.
      const db = options?.db ?? store;
      const result = await q.insertJob(db, {
        id: newId(),
        kind: input.kind,
        payload: JSON.stringify(input.payload ?? null),
        state: 'queued',
        priority: input.priority ?? 0,
        run_at: toIso(input.runAt ?? clock.now()),
        attempts: 0,
        max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        idempotency_key: input.idempotencyKey ?? null,
        lease_token: null,
        lease_expires_at: null,
        worker_id: null,
        cancel_requested: 0,
        last_error: null,
        output: null,
        created_at: t,
        updated_at: t,
        finished_at: null,
      });
      if (result.created) await db.notify(CHANNEL);
      return result;
    },
    get: (id) => q.selectJob(store, id),
    async list(query) {
      const before = query.cursor ? decodeCursor(query.cursor) : undefined;
      const items = await q.selectJobs(store, { state: query.state, kind: query.kind, limit: query.limit, before });
      const last = items[items.length - 1];
      return { items, nextCursor: items.length === query.limit && last ? encodeCursor(last) : null };
    },
    async progress(id) {
      await q.selectJob(store, id);
      return q.selectProgress(store, id);
    },
    async cancel(id) {
      const job = await q.selectJob(store, id);
      if (job.state !== 'queued' && job.state !== 'running') throw new ConflictError(`job ${id} is ${job.state}; only queued or running jobs can be cancelled`);
      await q.requestCancel(store, id, now());
      await store.notify(CANCEL_CHANNEL);
      return q.selectJob(store, id);
    },
    async retry(id) {
      const job = await q.selectJob(store, id);
      if (!(await q.requeueFinished(store, id, now()))) throw new ConflictError(`job ${id} is ${job.state}; only dead, failed or cancelled jobs can be retried`);
      await store.notify(CHANNEL);
      return q.selectJob(store, id);
    },
    counts: () => q.countByState(store),
    async runNow(id) {
      const due = await q.makeDue(store, id, now());
      if (due) await store.notify(CHANNEL);
      return due;
    },
    leases: {
      async claim({ kinds, workerId, leaseMs, waitMs, signal }) {
        const deadline = Date.now() + waitMs;
        for (;;) {
          const t = clock.now();
          const [job] = await q.claimJobs(store, store.dialect, { kinds, limit: 1, now: toIso(t), leaseExpiresAt: toIso(new Date(t.getTime() + leaseMs)), leaseToken: newSecret(12), workerId });
          const left = deadline - Date.now();
          if (job || left <= 0 || signal?.aborted) return job;
          // Woken by an enqueue; the poll covers jobs that fall due by time or come back from an expired lease.
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              unlisten();
              signal?.removeEventListener('abort', done);
              resolve();
            };
            const timer = setTimeout(done, Math.min(left, 1000));
            const unlisten = store.listen(CHANNEL, done);
            signal?.addEventListener('abort', done);
          });
        }
      },
      async renew(job, leaseMs) {
        const t = clock.now();
        const [held] = await q.extendLeases(store, job.leaseToken, toIso(new Date(t.getTime() + leaseMs)), toIso(t));
        if (!held || held.id !== job.id) return 'lost';
        return held.cancel_requested === 1 ? 'cancel-requested' : 'held';
      },
      holds: (job) => q.holdsLease(store, job.id, job.leaseToken),
      settle: (job, outcome, reason) => settleJob({ store, clock, metrics, recordDead }, job, outcome, reason),
    },
    async stop(drainMs) {
      await Promise.all([...workers].map((w) => w.stop(drainMs)));
    },
  };
}

function encodeCursor(job: Job): string {
  return Buffer.from(JSON.stringify([job.createdAt, job.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // fall through to the InputError below
  }
  throw new InputError('cursor: not a cursor this API returned; use nextCursor from the previous page');
}
