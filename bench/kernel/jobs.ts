/**
 * Figures 3 and 4: job queue throughput (enqueue + claim + complete) on SQLite with the worker in
 * the process, and on PostgreSQL with worker processes; the SQLite baseline runs the same three
 * statements through raw better-sqlite3.
 */
import type { ChildProcess } from 'node:child_process';
import { sql, type RawBuilder } from 'kysely';
import { newId, type Kernel } from '../../src/kernel/index.js';
import { benchScript, createPostgresDatabase, openKernel, openRawSqlite, progress, round, signalChild, sleep, spawnTracked, tempDir, waitForExit, wasSignalled } from './util.js';

export const JOB_KIND = 'bench.work';

export interface WorkerSpec {
  dataDir: string;
  databaseUrl?: string;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  workMs: number;
}

/** Starts `worker.js` and resolves once it prints "ready". */
export function spawnWorker(spec: WorkerSpec): Promise<ChildProcess> {
  const child = spawnTracked(process.execPath, [benchScript('worker'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`worker exited before it was ready (${code ?? signal})`));
    child.once('exit', onExit);
    child.stdout!.once('data', () => {
      child.off('exit', onExit);
      child.stdout!.resume();
      child.once('exit', (code, signal) => {
        if (!wasSignalled(child)) progress(`worker ${child.pid} exited on its own (${code ?? signal})`);
      });
      resolve(child);
    });
  });
}

export async function stopWorkers(children: Iterable<ChildProcess>): Promise<void> {
  await Promise.all([...children].map((c) => (signalChild(c, 'SIGTERM'), waitForExit(c, 5000))));
}

/** Enqueues `n` jobs from `inFlight` concurrent loops; returns the milliseconds it took. */
export async function enqueueAll(kernel: Kernel, n: number, inFlight: number, maxAttempts = 5): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        next += 1;
        await kernel.jobs.enqueue({ kind: JOB_KIND, payload: { i: next }, maxAttempts });
      }
    }),
  );
  return performance.now() - t0;
}

async function scalar(kernel: Kernel, query: RawBuilder<{ n: number }>): Promise<number> {
  const { rows } = await query.execute(kernel.store.tables<unknown>());
  return Number(rows[0]?.n ?? 0);
}

export const countSucceeded = (kernel: Kernel) => scalar(kernel, sql<{ n: number }>`select count(*) as n from kernel_jobs where state = 'succeeded'`);
export const countQueued = (kernel: Kernel) => scalar(kernel, sql<{ n: number }>`select count(*) as n from kernel_jobs where state = 'queued'`);

/** Resolves true once `predicate` holds, false after `timeoutMs`. */
export async function waitUntil(predicate: () => Promise<boolean>, timeoutMs: number, stepMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (performance.now() > deadline) return false;
    await sleep(stepMs);
  }
}

export async function createEffectsTable(kernel: Kernel): Promise<void> {
  await sql`create table bench_effects (job_id text not null, worker text not null)`.execute(kernel.store.tables<unknown>());
}

export async function effectCounts(kernel: Kernel) {
  const { rows } = await sql<{ n: number; d: number }>`select count(*) as n, count(distinct job_id) as d from bench_effects`.execute(kernel.store.tables<unknown>());
  const perWorker = await sql<{ n: number }>`select count(*) as n from bench_effects group by worker order by n desc`.execute(kernel.store.tables<unknown>());
  return { effects: Number(rows[0]?.n ?? 0), distinctEffects: Number(rows[0]?.d ?? 0), perWorker: perWorker.rows.map((r) => Number(r.n)) };
}

/** Figure 3's baseline: per job, the kernel's insert, claim and fenced completion as raw prepared statements. */
async function rawSqliteQueue(n: number): Promise<{ ms: number; pragmas: Record<string, number | string> }> {
  const { db, pragmas } = await openRawSqlite('jobs-raw');
  try {
    const insert = db.prepare(
      `insert into kernel_jobs (id, kind, payload, state, priority, run_at, attempts, max_attempts, idempotency_key, lease_token,
         lease_expires_at, worker_id, cancel_requested, last_error, output, created_at, updated_at, finished_at)
       values (?, ?, ?, 'queued', 0, ?, 0, 5, null, null, null, null, 0, null, null, ?, ?, null)
       on conflict (idempotency_key) do nothing returning *`,
    );
    const claim = db.prepare(
      `update kernel_jobs set state = 'running', lease_token = ?, lease_expires_at = ?, worker_id = ?, attempts = attempts + 1, updated_at = ?
       where id in (select id from kernel_jobs where state = 'queued' and run_at <= ? and kind in (?) order by priority desc, run_at asc limit ?)
         and state = 'queued' returning *`,
    );
    const complete = db.prepare(
      `update kernel_jobs set state = 'succeeded', output = null, last_error = null, run_at = run_at, attempts = attempts + 0,
         lease_token = null, lease_expires_at = null, worker_id = worker_id, finished_at = ?, updated_at = ?
       where id = ? and lease_token = ? and state = 'running'`,
    );
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const now = new Date().toISOString();
      const id = newId();
      insert.get(id, JOB_KIND, JSON.stringify({ i }), now, now, now);
      const token = newId();
      const claimed = claim.all(token, new Date(Date.now() + 30_000).toISOString(), 'raw', now, now, JOB_KIND, 1) as { id: string }[];
      if (claimed[0]?.id !== id) throw new Error('raw baseline claimed the wrong job');
      complete.run(now, now, id, token);
    }
    return { ms: performance.now() - t0, pragmas };
  } finally {
    db.close();
  }
}

/** Figure 3: a kernel on fresh SQLite with its worker in the same process; jobs enqueued while it runs. */
export async function measureJobsSqlite(n = 20_000, concurrency = 32, inFlight = 32) {
  const kernel = await openKernel({ dataDir: tempDir('jobs-sqlite') });
  let done = 0;
  let finishedAt = 0;
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  kernel.jobs.register(JOB_KIND, async () => ({
    kind: 'done',
    // Counts completions exactly when their transaction commits, without polling the table.
    commit: async (tx) =>
      tx.afterCommit(() => {
        done += 1;
        if (done === n) {
          finishedAt = performance.now();
          allDone();
        }
      }),
  }));
  const worker = kernel.jobs.startWorker({ concurrency, leaseMs: 30_000 });
  const t0 = performance.now();
  let enqueueMs: number;
  let queuedAfterEnqueue: number;
  let timedOut: boolean;
  try {
    enqueueMs = await enqueueAll(kernel, n, inFlight);
    queuedAfterEnqueue = await countQueued(kernel);
    timedOut = await Promise.race([finished.then(() => false), sleep(120_000).then(() => true)]);
  } finally {
    await worker.stop(1000);
  }
  const elapsedMs = (timedOut ? performance.now() : finishedAt) - t0;
  const succeeded = await countSucceeded(kernel);
  await kernel.close();
  const jobsPerS = round((done / elapsedMs) * 1000, 0);
  const baseline = await rawSqliteQueue(n);
  const baselineJobsPerS = round((n / baseline.ms) * 1000, 0);
  progress(`jobs sqlite: ${jobsPerS} jobs/s (raw better-sqlite3 ${baselineJobsPerS}/s), enqueue phase ${enqueueMs.toFixed(0)} ms`);
  return {
    jobs: n,
    succeeded,
    workerConcurrency: concurrency,
    enqueuersInFlight: inFlight,
    elapsedMs: round(elapsedMs, 1),
    jobsPerS,
    enqueueOnlyPerS: round((n / enqueueMs) * 1000, 0),
    queuedWhenEnqueueDone: queuedAfterEnqueue,
    baselineJobsPerS,
    ratio: round(jobsPerS / baselineJobsPerS, 3),
    baselinePragmas: baseline.pragmas,
    timedOut,
    note: 'from first enqueue to the commit of the last completion; baseline: insert + claim + fenced complete per job via raw prepared statements, one after another, on the same schema and pragmas',
  };
}

/** Figure 4: PostgreSQL, `workers` worker processes, jobs enqueued by this process while they run. */
export async function measureJobsPostgres(n = 10_000, workers = 4, concurrency = 16, inFlight = 32) {
  const db = await createPostgresDatabase();
  const dataDir = tempDir('jobs-pg');
  const kernel = await openKernel({ dataDir, databaseUrl: db.url });
  await createEffectsTable(kernel);
  const spec: WorkerSpec = { dataDir, databaseUrl: db.url, concurrency, leaseMs: 30_000, pollMs: 1000, workMs: 0 };
  const children = await Promise.all(Array.from({ length: workers }, () => spawnWorker(spec)));
  let result;
  try {
    const t0 = performance.now();
    const enqueueMs = await enqueueAll(kernel, n, inFlight);
    const queuedAfterEnqueue = await countQueued(kernel);
    const completed = await waitUntil(async () => (await countSucceeded(kernel)) >= n, 120_000, 20);
    const elapsedMs = performance.now() - t0;
    const succeeded = await countSucceeded(kernel);
    const counts = await effectCounts(kernel);
    const jobsPerS = round((succeeded / elapsedMs) * 1000, 0);
    progress(`jobs postgres: ${jobsPerS} jobs/s with ${workers} workers; effects ${counts.effects}/${counts.distinctEffects}`);
    result = {
      jobs: n,
      succeeded,
      workers,
      workerConcurrency: concurrency,
      enqueuersInFlight: inFlight,
      elapsedMs: round(elapsedMs, 1),
      jobsPerS,
      enqueueOnlyPerS: round((n / enqueueMs) * 1000, 0),
      queuedWhenEnqueueDone: queuedAfterEnqueue,
      ...counts,
      effectsExact: counts.effects === n && counts.distinctEffects === n,
      timedOut: !completed,
      note: 'from first enqueue until count(succeeded) = N (polled every 20 ms); each job commits one bench_effects row with its completion',
    };
  } finally {
    await stopWorkers(children);
    await kernel.close();
    await db.drop();
  }
  return result;
}
