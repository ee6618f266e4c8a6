import { afterAll, describe, expect, it } from 'vitest';
import type { PoolTestRequest } from './testing/pool-test-worker.js';
import { createWorkerPool, WorkerUnavailableError } from './worker-pool.js';

const pool = createWorkerPool<PoolTestRequest, string>({ entry: new URL('./testing/pool-test-worker.js', import.meta.url), name: 'test', threads: 2, idleMs: 200 });
afterAll(() => pool.close());

describe('worker pool', () => {
  it('answers requests on worker threads, many at once, and passes a worker-side error on as it is', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.run({ echo: `n${i}` })));
    expect(answers).toEqual(Array.from({ length: 10 }, (_, i) => `N${i}`));
    await expect(pool.run({ fail: 'bad input' })).rejects.toThrow(/^bad input$/);
    expect(pool.usable).toBe(true);
  });

  it('aborts a running request in the worker, and refuses one whose signal is already aborted', async () => {
    const abort = new AbortController();
    const running = pool.run({ waitForAbort: true }, abort.signal);
    setTimeout(() => abort.abort(), 50);
    await expect(running).rejects.toThrow(/cancelled/);
    await expect(pool.run({ echo: 'x' }, AbortSignal.abort())).rejects.toThrow();
  });

  it('rejects with WorkerUnavailableError when the worker goes away, and starts a new one for the next request', async () => {
    await expect(pool.run({ exit: 3 })).rejects.toThrow(WorkerUnavailableError);
    expect(await pool.run({ echo: 'again' })).toBe('AGAIN');
  });

  it('lets idle workers exit, and starts them again on demand', async () => {
    await new Promise((r) => setTimeout(r, 400));
    expect(await pool.run({ echo: 'after idle' })).toBe('AFTER IDLE');
  });
  it('runs on a warm worker only: while none has loaded its module, runOnWarm starts them and leaves the request to the caller', async () => {
    const cold = createWorkerPool<PoolTestRequest, string>({ entry: new URL('./testing/pool-test-worker.js', import.meta.url), name: 'cold', threads: 2, idleMs: 5000 });
    try {
      expect(cold.runOnWarm({ echo: 'first' })).toBeUndefined();
      let answer: Promise<string> | undefined;
      const deadline = Date.now() + 20_000;
      while (!(answer = cold.runOnWarm({ echo: 'warm' })) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await answer).toBe('WARM');
      expect(await Promise.all(Array.from({ length: 6 }, (_, i) => cold.runOnWarm({ echo: `w${i}` })))).toEqual(Array.from({ length: 6 }, (_, i) => `W${i}`));
    } finally {
      await cold.close();
    }
  });
});
