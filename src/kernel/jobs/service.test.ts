import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../../test/helpers/dialects.js';
import { createTestKernel, manualClock, until } from '../../../test/helpers/kernel.js';
import { newSecret, toIso } from '../clock.js';
import type { Job } from './model.js';
import { claimJobs, finishJob } from './store.js';

const dialects = await testDialects();

describe.each(dialects)('jobs on %s', (dialect) => {
  const clock = manualClock(new Date());
  let k: Awaited<ReturnType<typeof createTestKernel>>;
  const kind = (name: string) => `test.${name}-${newSecret(4).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  beforeAll(async () => {
    k = await createTestKernel(dialect, { clock });
  });
  afterAll(() => k.close());

  const waitForState = async (id: string, state: Job['state']) => {
    await until(async () => (await k.jobs.get(id)).state === state, 10_000);
    return k.jobs.get(id);
  };

  it('leases for workers elsewhere: concurrent claims take each job once, never more than asked, and every write is fenced', { timeout: 30_000 }, async () => {
    const k1 = kind('leased');
    for (let i = 0; i < 60; i++) await k.jobs.enqueue({ kind: k1, payload: { i } });
    const claimer = async (n: number) => {
      const got: string[] = [];
      for (;;) {
        const job = await k.jobs.leases.claim({ kinds: [k1], workerId: `remote-${n}`, leaseMs: 60_000, waitMs: 0 });
        if (!job) return got;
        got.push(job.id);
      }
    };
    const claimed = (await Promise.all([0, 1, 2, 3, 4, 5].map(claimer))).flat();
    expect(new Set(claimed).size).toBe(60);
    expect(claimed).toHaveLength(60);
    // No job is running that no claimer was handed (an over-claim leaves such orphans until their lease expires).
    const running = (await k.jobs.list({ kind: k1, state: 'running', limit: 200 })).items.map((j) => j.id);
    expect(running.sort()).toEqual([...claimed].sort());

    const job = { ...(await k.jobs.get(claimed[0]!)), leaseToken: 'not-the-token' };
    expect(await k.jobs.leases.holds(job)).toBe(false);
    expect(await k.jobs.leases.renew(job, 1000)).toBe('lost');
    expect(await k.jobs.leases.settle(job, { kind: 'done' })).toBe(false);
    expect((await k.jobs.get(job.id)).state).toBe('running');
  });

  it('returns the first job for a repeated idempotency key', async () => {
    const a = await k.jobs.enqueue({ kind: 'test.once', payload: { n: 1 }, idempotencyKey: 'key-1' });
    const b = await k.jobs.enqueue({ kind: 'test.once', payload: { n: 2 }, idempotencyKey: 'key-1' });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.job.id).toBe(a.job.id);
    expect(b.job.payload).toEqual({ n: 1 });
  });

  it('runs a job to success, keeping its output and progress records', async () => {
    const k1 = kind('ok');
    k.jobs.register(k1, async (job, ctx) => {
      await ctx.progress('half way', { pct: 50 });
      return { kind: 'done', output: { doubled: (job.payload as { n: number }).n * 2 } };
    });
    const worker = k.jobs.startWorker({ concurrency: 2, kinds: [k1], pollMs: 20 });
    const { job } = await k.jobs.enqueue({ kind: k1, payload: { n: 21 } });
    const done = await waitForState(job.id, 'succeeded');
    expect(done).toMatchObject({ output: { doubled: 42 }, attempts: 1, leaseExpiresAt: null });
    expect((await k.jobs.progress(job.id)).map((p) => [p.message, p.data])).toEqual([['half way', { pct: 50 }]]);
    await worker.stop();
  });

  it('retries a failing job after a backoff, then succeeds', async () => {
    const k1 = kind('flaky');
    let calls = 0;
    k.jobs.register(k1, async () => {
      calls += 1;
      if (calls === 1) throw new Error('transient');
      return { kind: 'done' };
    });
    const worker = k.jobs.startWorker({ concurrency: 1, kinds: [k1], pollMs: 20 });
    const { job } = await k.jobs.enqueue({ kind: k1 });
    await until(async () => (await k.jobs.get(job.id)).lastError === 'transient');
    const waiting = await k.jobs.get(job.id);
    expect(waiting).toMatchObject({ state: 'queued', attempts: 1 });
    expect(waiting.runAt > toIso(clock.now())).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(1); // not due yet
    clock.advance(1500);
    await waitForState(job.id, 'succeeded');
    expect(calls).toBe(2);
    await worker.stop();
  });

  it('dead-letters a job after maxAttempts and records it in the ledger', async () => {
    const k1 = kind('broken');
    k.jobs.register(k1, async () => ({ kind: 'retry', error: new Error('still broken') }));
    const worker = k.jobs.startWorker({ concurrency: 1, kinds: [k1], pollMs: 20 });
    const { job } = await k.jobs.enqueue({ kind: k1, maxAttempts: 3 });
    for (let i = 0; i < 3; i++) {
      await until(async () => (await k.jobs.get(job.id)).attempts === i + 1 && (await k.jobs.get(job.id)).state !== 'running');
      clock.advance(10_000);
    }
    const dead = await waitForState(job.id, 'dead');
    expect(dead).toMatchObject({ attempts: 3, lastError: 'still broken' });
    const events = await k.ledger.query({ kinds: ['kernel.job.dead-lettered'], subject: `job:default/${job.id}` }, 10);
    expect(events.map((e) => e.payload)).toEqual([{ jobId: job.id, kind: k1, attempts: 3, lastError: 'still broken' }]);
    await worker.stop();
    // An admin may put it back with fresh attempts.
    const retried = await k.jobs.retry(job.id);
    expect(retried).toMatchObject({ state: 'queued', attempts: 0 });
    await k.jobs.cancel(job.id);
  });

  it('records a terminal failure without retrying', async () => {
    const k1 = kind('fails');
    k.jobs.register(k1, async () => ({ kind: 'fail', reason: 'input is wrong' }));
    const worker = k.jobs.startWorker({ concurrency: 1, kinds: [k1], pollMs: 20 });
    const { job } = await k.jobs.enqueue({ kind: k1 });
    expect(await waitForState(job.id, 'failed')).toMatchObject({ attempts: 1, lastError: 'input is wrong' });
    await worker.stop();
  });

  it('cancels a queued job at once and a running one through its signal', async () => {
    const k1 = kind('slow');
    k.jobs.register(k1, (_job, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ kind: 'done' }))));
    const queued = await k.jobs.enqueue({ kind: k1 });
    expect((await k.jobs.cancel(queued.job.id)).state).toBe('cancelled');
    await expect(k.jobs.cancel(queued.job.id)).rejects.toThrow(/only queued or running/);
    const worker = k.jobs.startWorker({ concurrency: 1, kinds: [k1], pollMs: 20, leaseMs: 300 });
    const { job } = await k.jobs.enqueue({ kind: k1 });
    await waitForState(job.id, 'running');
    await k.jobs.cancel(job.id);
    expect(await waitForState(job.id, 'cancelled')).toMatchObject({ cancelRequested: true });
    await worker.stop();
  });

  it('aborts a running job as soon as it is cancelled, not at its next heartbeat', async () => {
    const k1 = kind('cancel-now');
    k.jobs.register(k1, (_job, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ kind: 'done' }))));
    // Heartbeats every 20 s: only the cancel notification can end it within the test's wait.
    const worker = k.jobs.startWorker({ concurrency: 1, kinds: [k1], pollMs: 20, leaseMs: 60_000 });
    const { job } = await k.jobs.enqueue({ kind: k1 });
    await waitForState(job.id, 'running');
    const started = Date.now();
    await k.jobs.cancel(job.id);
    await waitForState(job.id, 'cancelled');
    expect(Date.now() - started).toBeLessThan(5_000);
    await worker.stop();
  });

  it('reclaims the job of a crashed worker when its lease expires, and fences the old holder', async () => {
    const k1 = kind('reclaim');
    let runs = 0;
    k.jobs.register(k1, async () => {
      runs += 1;
      return { kind: 'done', output: 'second worker' };
    });
    const { job } = await k.jobs.enqueue({ kind: k1 });
    // A worker claims it and dies without a heartbeat.
    const t = clock.now();
    const [claimed] = await claimJobs(k.store, k.store.dialect, {
      kinds: [k1],
      limit: 1,
      now: toIso(t),
      leaseExpiresAt: toIso(new Date(t.getTime() + 1000)),
      leaseToken: 'dead-worker-token',
      workerId: 'crashed',
    });
    expect(claimed?.id).toBe(job.id);
    clock.advance(5000);
    const worker = k.jobs.startWorker({ concurrency: 1, kinds: [k1], pollMs: 20, leaseMs: 300 });
    expect(await waitForState(job.id, 'succeeded')).toMatchObject({ output: 'second worker', attempts: 2 });
    expect(runs).toBe(1);
    // The crashed worker coming back cannot complete it a second time.
    expect(await finishJob(k.store, job.id, 'dead-worker-token', { state: 'succeeded', now: toIso(clock.now()) })).toBe(false);
    await worker.stop();
  });

  it('hands running jobs back to the queue when shutdown outlasts the drain', async () => {
    const k1 = kind('drain');
    k.jobs.register(k1, (_job, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ kind: 'done' }))));
    const worker = k.jobs.startWorker({ concurrency: 1, kinds: [k1], pollMs: 20 });
    const { job } = await k.jobs.enqueue({ kind: k1 });
    await waitForState(job.id, 'running');
    await worker.stop(50);
    expect(await k.jobs.get(job.id)).toMatchObject({ state: 'queued', attempts: 0, lastError: 'worker shut down' });
    await k.jobs.cancel(job.id);
  });

  it('commits the effects of a done job in the same transaction as its completion', async () => {
    const k1 = kind('effects');
    k.jobs.register(k1, async (job) => ({
      kind: 'done',
      commit: async (tx) => {
        await k.ledger.append({ kind: 'kernel.token.revoked', subjects: [`job:default/${job.id}`], payload: { tokenId: job.id, userId: 'x' } }, { db: tx });
      },
    }));
    const worker = k.jobs.startWorker({ concurrency: 4, kinds: [k1], pollMs: 20 });
    const ids = await Promise.all(Array.from({ length: 20 }, async () => (await k.jobs.enqueue({ kind: k1 })).job.id));
    for (const id of ids) await waitForState(id, 'succeeded');
    for (const id of ids) expect(await k.ledger.query({ subject: `job:default/${id}` }, 10)).toHaveLength(1);
    await worker.stop();
  });

  it('completes jobs that finish together in one batch, and one failing effect does not sink the others', async () => {
    const k1 = kind('batch');
    const release = { go: () => {} };
    const gate = new Promise<void>((resolve) => (release.go = resolve));
    k.jobs.register(k1, async (job) => {
      await gate; // every job finishes at once, so their completions share a batch
      return {
        kind: 'done',
        output: { n: (job.payload as { n: number }).n },
        commit: async (tx) => {
          if ((job.payload as { n: number }).n === 7 && job.attempts === 1) throw new Error('effect failed');
          await k.ledger.append({ kind: 'kernel.token.revoked', subjects: [`job:default/${job.id}`], payload: { tokenId: job.id, userId: 'x' } }, { db: tx });
        },
      };
    });
    const ids = await Promise.all(Array.from({ length: 16 }, async (_, n) => (await k.jobs.enqueue({ kind: k1, payload: { n } })).job.id));
    const worker = k.jobs.startWorker({ concurrency: 16, kinds: [k1], pollMs: 20 });
    await until(() => worker.running() === 16);
    release.go();
    for (const [n, id] of ids.entries()) {
      if (n === 7) continue;
      const job = await waitForState(id, 'succeeded');
      expect(job.output).toEqual({ n });
      expect(await k.ledger.query({ subject: `job:default/${id}` }, 10)).toHaveLength(1);
    }
    // The failed effect left its job running until the lease ends; nothing of it was written.
    expect((await k.jobs.get(ids[7]!)).state).toBe('running');
    expect(await k.ledger.query({ subject: `job:default/${ids[7]!}` }, 10)).toHaveLength(0);
    await worker.stop();
  });

  it('lists jobs newest first with a cursor and counts them by state', async () => {
    const first = await k.jobs.list({ limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await k.jobs.list({ limit: 2, cursor: first.nextCursor! });
    expect(second.items[0]!.createdAt <= first.items[1]!.createdAt).toBe(true);
    expect(second.items.map((j) => j.id)).not.toContain(first.items[0]!.id);
    const counts = await k.jobs.counts();
    expect(counts.queued).toBeGreaterThanOrEqual(1);
    await expect(k.jobs.list({ limit: 2, cursor: 'garbage' })).rejects.toThrow(/not a cursor/);
  });
});
