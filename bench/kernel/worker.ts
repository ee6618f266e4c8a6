/**
 * A standalone job worker for the queue and crash benchmarks:
 *   node dist/bench/kernel/worker.js '{"dataDir":…,"databaseUrl":…,"concurrency":16,"leaseMs":30000,"pollMs":100,"workMs":0}'
 * It runs `bench.work` jobs; each job's effect (a row in bench_effects) commits in the transaction
 * that records the job's completion, so a duplicate effect means a job completed twice.
 * Prints "ready" on stdout once its worker runs.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { createKernel, createLogger } from '../../src/kernel/index.js';
import { benchConfig } from './util.js';

interface WorkerArgs {
  dataDir: string;
  databaseUrl?: string;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** Simulated work per job (a random 0.5×–1.5× of it), so jobs are in flight when a worker is killed. */
  workMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs;
const kernel = await createKernel(benchConfig(args), {
  logger: createLogger({ level: 'silent', pretty: false }),
  version: 'bench',
  webDir: join(args.dataDir, 'no-portal'),
});
const workerName = `pid-${process.pid}`;
kernel.jobs.register('bench.work', async (job) => {
  if (args.workMs > 0) await new Promise((resolve) => setTimeout(resolve, args.workMs * (0.5 + Math.random())));
  return {
    kind: 'done',
    commit: async (tx) => {
      await sql`insert into bench_effects (job_id, worker) values (${job.id}, ${workerName})`.execute(tx.tables<unknown>());
    },
  };
});
const worker = kernel.jobs.startWorker({ concurrency: args.concurrency, leaseMs: args.leaseMs, pollMs: args.pollMs });
// Ready once enqueue notifications reach us (PostgreSQL LISTEN; at once on SQLite).
await kernel.store.listening();
process.stdout.write('ready\n');

// The queue's own timers are unref'd and SQLite holds no socket, so an idle worker would simply
// exit; a standalone worker lives until it is signalled.
const keepAlive = setInterval(() => undefined, 60_000);

const shutdown = () => {
  clearInterval(keepAlive);
  void worker
    .stop(1000)
    .then(() => kernel.stop())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
