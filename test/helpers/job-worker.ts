/**
 * A standalone worker process for crash tests: `tsx test/helpers/job-worker.ts --data-dir D [--database-url U]`.
 * It runs `crash.work` jobs whose effect (a row in crash_effects) commits with the job's completion.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { createKernel, createLogger, parseConfig } from '../../src/kernel/index.js';

const config = parseConfig(process.argv.slice(2), { PLINTH_LOG_LEVEL: 'silent' });
const kernel = await createKernel(
  { ...config, jobs: { ...config.jobs, workerEnabled: false } },
  { logger: createLogger({ level: 'silent', pretty: false }), version: 'test', webDir: join(config.dataDir, 'none') },
);
const workerName = `pid-${process.pid}`;
kernel.jobs.register('crash.work', async (job) => {
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
  return {
    kind: 'done',
    commit: async (tx) => {
      await sql`insert into crash_effects (job_id, worker) values (${job.id}, ${workerName})`.execute(tx.tables<unknown>());
    },
  };
});
kernel.jobs.startWorker({ concurrency: Number(process.env.CRASH_CONCURRENCY ?? 4), leaseMs: Number(process.env.CRASH_LEASE_MS ?? 1000), pollMs: 50 });
// Exit with the test that started us, even if it dies without killing us.
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.stdout.write('ready\n');
