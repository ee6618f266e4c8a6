import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, postgresUnavailableReason } from '../../../test/helpers/dialects.js';
import { createLogger } from '../log.js';
import { createStore } from './index.js';

const pgReason = await postgresUnavailableReason();
if (pgReason && process.env.CI === 'true') throw new Error(`${pgReason}; CI needs it`);

describe.skipIf(pgReason !== undefined)('store notify on postgres', () => {
  it('shares one round trip among concurrent notifies, and each caller is followed by a delivery', async () => {
    const db = await createTestDatabase('postgres');
    const store = createStore({ databaseUrl: db.databaseUrl, sqliteFile: '', logger: createLogger({ level: 'silent', pretty: false }) });
    const listener = new pg.Client({ connectionString: db.databaseUrl });
    await listener.connect();
    const deliveredAt: number[] = [];
    listener.on('notification', () => deliveredAt.push(performance.now()));
    await listener.query('listen coalesce_test');
    try {
      const resolvedAt: number[] = [];
      await Promise.all(Array.from({ length: 50 }, () => store.notify('coalesce_test').then(() => resolvedAt.push(performance.now()))));
      await new Promise((resolve) => setTimeout(resolve, 200));
      // PostgreSQL delivers every committed notify (it folds duplicates only within one transaction).
      expect(deliveredAt.length).toBeGreaterThanOrEqual(1);
      expect(deliveredAt.length).toBeLessThanOrEqual(3);
      expect(resolvedAt).toHaveLength(50);
      // Once the burst is over, a new notify is not folded into a send that already went out.
      await store.notify('coalesce_test');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(deliveredAt.length).toBeGreaterThanOrEqual(2);
    } finally {
      await listener.end();
      await store.destroy();
      await db.drop();
    }
  });
});
