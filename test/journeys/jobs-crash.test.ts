import { spawn, type ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/dialects.js';
import { createTestKernel, until } from '../helpers/kernel.js';

const dialects = await testDialects();

function startWorker(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/job-worker.ts', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, CRASH_LEASE_MS: '1000' },
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

describe.each(dialects)('job queue under SIGKILL on %s', (dialect) => {
  const children = new Set<ChildProcess>();
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('completes every job exactly once while workers are killed at random', { timeout: 120_000 }, async () => {
    const k = await createTestKernel(dialect);
    const spawning: Promise<void>[] = [];
    try {
      await sql`create table crash_effects (job_id text not null, worker text not null)`.execute(k.store.tables<unknown>());
      const total = 400;
      for (let i = 0; i < total; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, total - i) }, () => k.jobs.enqueue({ kind: 'crash.work', maxAttempts: 100 })));
      }
      const args = ['--data-dir', k.config.dataDir, ...(k.config.databaseUrl ? ['--database-url', k.config.databaseUrl] : [])];
      const spawnOne = () => {
        const started = startWorker(args).then((child) => {
          children.add(child);
          child.once('exit', () => children.delete(child));
        });
        spawning.push(started);
        return started;
      };
      await Promise.all([spawnOne(), spawnOne(), spawnOne()]);
      let kills = 0;
      // Kill a random live worker now and then (never the last one), and start a replacement.
      const killOne = () => {
        const victims = [...children];
        const victim = victims[Math.floor(Math.random() * victims.length)];
        if (!victim || victims.length < 2 || kills >= 6) return;
        victim.kill('SIGKILL');
        kills += 1;
        void spawnOne().catch(() => undefined);
      };
      // The first kill lands while the workers are busy with the first jobs, however fast they are.
      await until(async () => (await k.jobs.counts()).running > 0, 10_000, 5);
      killOne();
      const killer = setInterval(killOne, 300);
      try {
        await until(async () => (await k.jobs.counts()).succeeded === total || (await k.jobs.list({ state: 'succeeded', limit: total })).items.length === total, 90_000, 200);
      } finally {
        clearInterval(killer);
      }
      const rows = await sql<{ n: number; d: number }>`select count(*) as n, count(distinct job_id) as d from crash_effects`.execute(k.store.tables<unknown>());
      expect(kills).toBeGreaterThan(0);
      expect(Number(rows.rows[0]!.n)).toBe(total);
      expect(Number(rows.rows[0]!.d)).toBe(total);
      expect((await k.jobs.list({ state: 'succeeded', limit: total })).items).toHaveLength(total);
    } finally {
      // A replacement may still be starting: wait for it, so no worker outlives the test.
      await Promise.allSettled(spawning);
      for (const c of children) c.kill('SIGKILL');
      await k.close();
    }
  });
});
