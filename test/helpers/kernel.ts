import { join } from 'node:path';
import { createKernel, createLogger, type Clock, type Kernel, type Migration } from '../../src/kernel/index.js';
import { testConfig } from './app.js';
import { createTestDatabase, type DialectName } from './dialects.js';

/** A migrated kernel on a fresh database, without the HTTP listener or the embedded worker. */
export async function createTestKernel(dialect: DialectName, options: { clock?: Clock; migrations?: readonly Migration[] } = {}): Promise<Kernel & { close(): Promise<void> }> {
  const db = await createTestDatabase(dialect);
  const config = testConfig(db, { jobs: { workerEnabled: false, concurrency: 0, leaseMs: 30_000, drainMs: 1000 } });
  const kernel = await createKernel(config, {
    clock: options.clock,
    logger: createLogger({ level: 'silent', pretty: false }),
    version: 'test',
    webDir: join(db.dataDir, 'no-portal'),
  });
  await kernel.start(options.migrations ?? []);
  return {
    ...kernel,
    async close() {
      await kernel.stop();
      await db.drop();
    },
  };
}

/** A clock tests move by hand. */
export function manualClock(start = new Date('2026-01-01T00:00:00.000Z')): Clock & { advance(ms: number): void; set(d: Date): void } {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
    set: (d) => {
      now = d.getTime();
    },
  };
}

export function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`condition not met within ${timeoutMs} ms`));
      setTimeout(tick, stepMs);
    };
    void tick();
  });
}
