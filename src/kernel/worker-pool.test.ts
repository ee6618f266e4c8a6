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
});
