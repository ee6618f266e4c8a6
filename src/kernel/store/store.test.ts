import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, postgresUnavailableReason, testDialects } from '../../../test/helpers/dialects.js';
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

describe.each(await testDialects())('store on %s: oneOfTexts and prepared statements', (dialect) => {
  it('matches any number of texts with one statement text where the engine has arrays, and runs a prepared text as a named statement', async () => {
    const db = await createTestDatabase(dialect);
    const store = createStore({ databaseUrl: db.databaseUrl, sqliteFile: join(db.dataDir, 'plinth.db'), logger: createLogger({ level: 'silent', pretty: false }) });
    try {
      interface Tables {
        words: { word: string };
      }
      const k = store.tables<Tables>();
      await k.schema.createTable('words').addColumn('word', 'text').execute();
      await k.insertInto('words').values(['alpha', 'beta', 'gamma', "it's"].map((word) => ({ word }))).execute();
      const query = (values: string[]) => k.selectFrom('words').select('word').where(store.dialect.oneOfTexts(sql.ref('word'), values)).orderBy('word').compile();
      const one = query(['beta']);
      const three = query(['gamma', "it's", 'delta']);
      expect(one.sql === three.sql).toBe(dialect === 'postgres');
      store.prepare(three.sql);
      // Inside one transaction every query runs on one connection: the one whose prepared statements are listed.
      const seen = await store.transaction(async (tx) => {
        const rows = [];
        for (const q of [one, three, three]) rows.push((await tx.tables().executeQuery(q)).rows);
        const prepared = tx.sqlite ? [] : (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(tx.tables() as Kysely<unknown>)).rows;
        return { rows, prepared };
      });
      expect(seen.rows).toEqual([[{ word: 'beta' }], [{ word: 'gamma' }, { word: "it's" }], [{ word: 'gamma' }, { word: "it's" }]]);
      if (dialect === 'postgres') expect(seen.prepared).toEqual([{ name: expect.stringMatching(/^plinth_\d+$/), statement: three.sql }]);
      expect((await k.executeQuery(query([]))).rows).toEqual([]);
    } finally {
      await store.destroy();
      await db.drop();
    }
  });
});
