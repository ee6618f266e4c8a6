/**
 * Figure 5: worker processes are SIGKILLed at random while they run jobs; every job must still
 * complete exactly once (one bench_effects row per job, committed with its fenced completion).
 */
import type { ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { createEffectsTable, countSucceeded, effectCounts, enqueueAll, spawnWorker, stopWorkers, waitUntil, type WorkerSpec } from './jobs.js';
import { createPostgresDatabase, openKernel, progress, round, signalChild, sleep, tempDir } from './util.js';

export interface CrashOptions {
  jobs: number;
  workers: number;
  concurrency: number;
  leaseMs: number;
  workMs: number;
  pollMs: number;
  maxKills: number;
  timeoutMs: number;
}

async function crashRun(db: { dataDir: string; databaseUrl?: string }, o: CrashOptions) {
  const kernel = await openKernel(db);
  await createEffectsTable(kernel);
  const spec: WorkerSpec = { ...db, concurrency: o.concurrency, leaseMs: o.leaseMs, pollMs: o.pollMs, workMs: o.workMs };
  const live = new Set<ChildProcess>();
  const spawnOne = async () => {
    const child = await spawnWorker(spec);
    live.add(child);
    child.once('exit', () => live.delete(child));
  };
  await Promise.all(Array.from({ length: o.workers }, spawnOne));
  let kills = 0;
  let stopping = false;
  const replacements: Promise<void>[] = [];
  // Every 300-500 ms, SIGKILL a random live worker (never the last one) and start a replacement.
  const killer = (async () => {
    while (!stopping && kills < o.maxKills) {
      await sleep(300 + Math.random() * 200);
      const victims = [...live];
      if (stopping || victims.length < 2) continue;
      const victim = victims[Math.floor(Math.random() * victims.length)]!;
      live.delete(victim);
      signalChild(victim, 'SIGKILL');
      kills += 1;
      replacements.push(spawnOne().catch((err: Error) => progress(`replacement worker failed: ${err.message}`)));
    }
  })();
  try {
    const t0 = performance.now();
    await enqueueAll(kernel, o.jobs, 32, 100);
    const completed = await waitUntil(async () => (await countSucceeded(kernel)) >= o.jobs, o.timeoutMs, 50);
    const elapsedMs = performance.now() - t0;
    stopping = true;
    await killer;
    await Promise.all(replacements);
    const succeeded = await countSucceeded(kernel);
    const { rows } = await sql<{ n: number }>`select count(*) as n from kernel_jobs where attempts > 1`.execute(kernel.store.tables<unknown>());
    const { effects, distinctEffects } = await effectCounts(kernel);
    return {
      kills,
      jobs: o.jobs,
      succeeded,
      effects,
      distinctEffects,
      duplicates: effects - distinctEffects,
      retriedJobs: Number(rows[0]?.n ?? 0),
      exactlyOnce: succeeded === o.jobs && effects === o.jobs && distinctEffects === o.jobs,
      elapsedMs: round(elapsedMs, 1),
      jobsPerS: round((succeeded / elapsedMs) * 1000, 0),
      workers: o.workers,
      workerConcurrency: o.concurrency,
      leaseMs: o.leaseMs,
      timedOut: !completed,
    };
  } finally {
    stopping = true;
    await killer;
    await Promise.allSettled(replacements);
    await stopWorkers(live);
    await kernel.close();
  }
}

export async function measureCrashPostgres(o: CrashOptions) {
  const db = await createPostgresDatabase();
  try {
    const r = await crashRun({ dataDir: tempDir('crash-pg'), databaseUrl: db.url }, o);
    progress(`crash postgres: ${r.kills} kills, ${r.effects} effects / ${r.distinctEffects} distinct for ${r.jobs} jobs`);
    return r;
  } finally {
    await db.drop();
  }
}

export async function measureCrashSqlite(o: CrashOptions) {
  const r = await crashRun({ dataDir: tempDir('crash-sqlite') }, o);
  progress(`crash sqlite: ${r.kills} kills, ${r.effects} effects / ${r.distinctEffects} distinct for ${r.jobs} jobs`);
  return { ...r, note: 'worker processes share one SQLite file in WAL mode; wake-ups do not cross processes on SQLite, so idle workers poll' };
}
