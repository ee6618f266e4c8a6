import { sql, type Generated, type Selectable } from 'kysely';
import { NotFoundError } from '../errors.js';
import type { Db, Dialect } from '../store/index.js';
import type { ClaimedJob, Job, JobProgress, JobState } from './model.js';

interface JobsTables {
  kernel_jobs: {
    id: string;
    kind: string;
    payload: string;
    state: JobState;
    priority: number;
    run_at: string;
    attempts: number;
    max_attempts: number;
    idempotency_key: string | null;
    lease_token: string | null;
    lease_expires_at: string | null;
    worker_id: string | null;
    cancel_requested: number;
    last_error: string | null;
    output: string | null;
    created_at: string;
    updated_at: string;
    finished_at: string | null;
  };
  kernel_job_progress: { seq: Generated<number>; job_id: string; time: string; message: string; data: string | null };
}
type JobRow = Selectable<JobsTables['kernel_jobs']>;
export type NewJobRow = JobsTables['kernel_jobs'];

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    payload: parse(row.payload),
    state: row.state,
    priority: row.priority,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    idempotencyKey: row.idempotency_key,
    workerId: row.worker_id,
    leaseExpiresAt: row.lease_expires_at,
    cancelRequested: row.cancel_requested === 1,
    lastError: row.last_error,
    output: parse(row.output),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

const jobs = (db: Db) => db.tables<JobsTables>();

/** Inserts the job, or returns the existing one with the same idempotency key. */
export async function insertJob(db: Db, row: NewJobRow): Promise<{ job: Job; created: boolean }> {
  const inserted = await jobs(db)
    .insertInto('kernel_jobs')
    .values(row)
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { job: toJob(inserted), created: true };
  const existing = await jobs(db)
    .selectFrom('kernel_jobs')
    .selectAll()
    .where('idempotency_key', '=', row.idempotency_key)
    .executeTakeFirstOrThrow();
  return { job: toJob(existing), created: false };
}

export interface ClaimParams {
  kinds: readonly string[];
  limit: number;
  now: string;
  leaseExpiresAt: string;
  leaseToken: string;
  workerId: string;
}

/**
 * Claims up to `limit` due jobs. On PostgreSQL the candidate rows are locked with SKIP LOCKED, so
 * workers on many machines take disjoint jobs without waiting on each other; SQLite has one writer.
 */
export async function claimJobs(db: Db, dialect: Dialect, p: ClaimParams): Promise<ClaimedJob[]> {
  if (p.kinds.length === 0 || p.limit <= 0) return [];
  // The candidates are a MATERIALIZED CTE: evaluated once. As an `IN (subquery)`, PostgreSQL may run the
  // subquery again when it rechecks a row another worker changed meanwhile, and with SKIP LOCKED that
  // second run picks other rows: one claim took more jobs than its limit (seen with external runners).
  const rows = await jobs(db)
    .with((wb) => wb('candidates').materialized(), (qb) =>
      qb
        .selectFrom('kernel_jobs')
        .select('id')
        .where('state', '=', 'queued')
        .where('run_at', '<=', p.now)
        .where('kind', 'in', [...p.kinds])
        .orderBy('priority', 'desc')
        .orderBy('run_at', 'asc')
        .limit(p.limit)
        .$if(dialect.skipLocked, (q) => q.forUpdate().skipLocked()),
    )
    .updateTable('kernel_jobs')
    .set((eb) => ({
      state: 'running',
      lease_token: p.leaseToken,
      lease_expires_at: p.leaseExpiresAt,
      worker_id: p.workerId,
      attempts: eb('attempts', '+', 1),
      updated_at: p.now,
    }))
    .where('id', 'in', (eb) => eb.selectFrom('candidates').select('candidates.id'))
    .where('state', '=', 'queued')
    .returningAll()
    .execute();
  return rows.map((row) => ({ ...toJob(row), leaseToken: p.leaseToken }));
}

/** Extends the lease of every job still held under `leaseToken`; returns those (with cancel flags). */
export async function extendLeases(db: Db, leaseToken: string, leaseExpiresAt: string, now: string) {
  return jobs(db)
    .updateTable('kernel_jobs')
    .set({ lease_expires_at: leaseExpiresAt, updated_at: now })
    .where('lease_token', '=', leaseToken)
    .where('state', '=', 'running')
    .returning(['id', 'cancel_requested'])
    .execute();
}

export interface Finish {
  state: JobState;
  output?: unknown;
  lastError?: string | null;
  runAt?: string;
  /** Added to attempts (−1 gives back an attempt that did not count, such as a wait or a shutdown). */
  attemptsDelta?: number;
  now: string;
}

/**
 * Records a worker's outcome, fenced by the lease token: when the lease was lost (expired and
 * reclaimed), nothing is written and false is returned, so a job never completes twice.
 */
export async function finishJob(db: Db, id: string, leaseToken: string, f: Finish): Promise<boolean> {
  const terminal = f.state !== 'queued';
  const result = await jobs(db)
    .updateTable('kernel_jobs')
    .set((eb) => ({
      state: f.state,
      output: f.output === undefined ? null : JSON.stringify(f.output),
      last_error: f.lastError ?? null,
      run_at: f.runAt ?? eb.ref('run_at'),
      attempts: eb('attempts', '+', f.attemptsDelta ?? 0),
      lease_token: null,
      lease_expires_at: null,
      worker_id: terminal ? eb.ref('worker_id') : null,
      finished_at: terminal ? f.now : null,
      updated_at: f.now,
    }))
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Marks several running jobs succeeded in one statement, each fenced by its own lease token; returns
 * the ids it finished (a job whose lease was lost is left alone and missing from the result).
 */
export async function finishSucceeded(db: Db, items: readonly { id: string; leaseToken: string; output: unknown }[], now: string): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const outputs = sql.join(
    items.map((i) => sql`when ${i.id} then ${i.output === undefined ? null : JSON.stringify(i.output)}`),
    sql` `,
  );
  const fences = sql.join(items.map((i) => sql`(${i.id}, ${i.leaseToken})`));
  const { rows } = await sql<{ id: string }>`
    update kernel_jobs set state = 'succeeded', output = case id ${outputs} end, last_error = null,
      lease_token = null, lease_expires_at = null, finished_at = ${now}, updated_at = ${now}
    where state = 'running' and (id, lease_token) in (values ${fences})
    returning id`.execute(jobs(db));
  return new Set(rows.map((r) => r.id));
}

/** Returns expired leases to the queue, or dead-letters them when their attempts are used up. */
export async function reclaimExpired(db: Db, now: string): Promise<{ requeued: number; dead: Job[] }> {
  const dead = await jobs(db)
    .updateTable('kernel_jobs')
    .set({
      state: 'dead',
      lease_token: null,
      lease_expires_at: null,
      last_error: 'lease expired: the worker stopped heartbeating (crashed or lost its connection)',
      finished_at: now,
      updated_at: now,
    })
    .where('state', '=', 'running')
    .where('lease_expires_at', '<', now)
    .whereRef('attempts', '>=', 'max_attempts')
    .returningAll()
    .execute();
  const requeued = await jobs(db)
    .updateTable('kernel_jobs')
    .set({
      state: 'queued',
      lease_token: null,
      lease_expires_at: null,
      worker_id: null,
      run_at: now,
      last_error: 'lease expired: the worker stopped heartbeating (crashed or lost its connection)',
      updated_at: now,
    })
    .where('state', '=', 'running')
    .where('lease_expires_at', '<', now)
    .executeTakeFirst();
  return { requeued: Number(requeued.numUpdatedRows), dead: dead.map(toJob) };
}

export async function selectJob(db: Db, id: string): Promise<Job> {
  const row = await jobs(db).selectFrom('kernel_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`job ${id} does not exist`);
  return toJob(row);
}

export async function holdsLease(db: Db, id: string, leaseToken: string): Promise<boolean> {
  const row = await jobs(db).selectFrom('kernel_jobs').select('id').where('id', '=', id).where('lease_token', '=', leaseToken).where('state', '=', 'running').executeTakeFirst();
  return row !== undefined;
}

export async function requestCancel(db: Db, id: string, now: string): Promise<void> {
  await jobs(db)
    .updateTable('kernel_jobs')
    .set({ state: 'cancelled', finished_at: now, updated_at: now, cancel_requested: 1 })
    .where('id', '=', id)
    .where('state', '=', 'queued')
    .execute();
  await jobs(db)
    .updateTable('kernel_jobs')
    .set({ cancel_requested: 1, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'running')
    .execute();
}

/** Puts a finished job back in the queue with fresh attempts; returns false when it is not finished. */
export async function requeueFinished(db: Db, id: string, now: string): Promise<boolean> {
  const result = await jobs(db)
    .updateTable('kernel_jobs')
    .set({ state: 'queued', attempts: 0, run_at: now, cancel_requested: 0, finished_at: null, updated_at: now })
    .where('id', '=', id)
    .where('state', 'in', ['dead', 'failed', 'cancelled'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countByState(db: Db): Promise<Record<JobState, number>> {
  const rows = await jobs(db)
    .selectFrom('kernel_jobs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  const counts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, dead: 0 };
  for (const row of rows) counts[row.state] = Number(row.n);
  return counts;
}

export async function selectJobs(
  db: Db,
  q: { state?: JobState; kind?: string; limit: number; before?: { createdAt: string; id: string } },
): Promise<Job[]> {
  let query = jobs(db).selectFrom('kernel_jobs').selectAll();
  if (q.state) query = query.where('state', '=', q.state);
  if (q.kind) query = query.where('kind', '=', q.kind);
  if (q.before) {
    const { createdAt, id } = q.before;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(createdAt, id)));
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map(toJob);
}

export async function insertProgress(db: Db, jobId: string, time: string, message: string, data: unknown) {
  await jobs(db)
    .insertInto('kernel_job_progress')
    .values({ job_id: jobId, time, message, data: data === undefined ? null : JSON.stringify(data) })
    .execute();
}

export async function selectProgress(db: Db, jobId: string): Promise<JobProgress[]> {
  const rows = await jobs(db)
    .selectFrom('kernel_job_progress')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('seq', 'asc')
    .limit(1000)
    .execute();
  return rows.map((r) => ({ seq: r.seq, time: r.time, message: r.message, data: parse(r.data) }));
}

/** Makes a queued job due now; returns false when it is not queued. */
export async function makeDue(db: Db, id: string, now: string): Promise<boolean> {
  const result = await jobs(db).updateTable('kernel_jobs').set({ run_at: now, updated_at: now }).where('id', '=', id).where('state', '=', 'queued').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
