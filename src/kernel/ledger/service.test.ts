import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../../test/helpers/dialects.js';
import { createTestKernel, until } from '../../../test/helpers/kernel.js';
import type { LedgerEvent } from './model.js';

const dialects = await testDialects();

describe.each(dialects)('ledger on %s', (dialect) => {
  let k: Awaited<ReturnType<typeof createTestKernel>>;
  beforeAll(async () => {
    k = await createTestKernel(dialect);
  });
  afterAll(() => k.close());

  const created = (username: string, subjects: string[] = [`user:default/${username}`]) => ({
    kind: 'kernel.user.created' as const,
    subjects,
    actor: 'user:default/admin',
    payload: { userId: username, username, role: 'member' },
  });

  it('appends a batch with increasing sequence numbers and reads it back', async () => {
    const before = await k.ledger.lastSeq();
    const events = await k.ledger.append(Array.from({ length: 1200 }, (_, i) => created(`u${i}`)));
    expect(events).toHaveLength(1200);
    expect(events[0]!.seq).toBeGreaterThan(before);
    for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBe(events[i - 1]!.seq + 1);
    const read = await k.ledger.query({ afterSeq: before }, 2000);
    expect(read.map((e) => e.payload)).toEqual(events.map((e) => e.payload));
    expect(read[5]).toMatchObject({ kind: 'kernel.user.created', actor: 'user:default/admin', subjects: ['user:default/u5'] });
  });

  it('queries by subject, kind and time range', async () => {
    await k.ledger.append([
      created('x1', ['user:default/x1', 'group:default/team-x']),
      { kind: 'kernel.token.revoked', subjects: ['group:default/team-x'], payload: { tokenId: 't', userId: 'x1' } },
      created('x2', ['user:default/x2']),
    ]);
    const team = await k.ledger.query({ subject: 'group:default/team-x' }, 100);
    expect(team.map((e) => e.kind)).toEqual(['kernel.user.created', 'kernel.token.revoked']);
    const revoked = await k.ledger.query({ kinds: ['kernel.token.revoked'], subject: 'group:default/team-x' }, 100);
    expect(revoked).toHaveLength(1);
    const future = await k.ledger.query({ since: '2999-01-01T00:00:00.000Z' }, 100);
    expect(future).toEqual([]);
    const all = await k.ledger.query({ until: '2999-01-01T00:00:00.000Z', kinds: ['kernel.token.revoked'] }, 100);
    expect(all.length).toBeGreaterThanOrEqual(1);
  });

  it('rejects malformed kinds and subjects without appending anything', async () => {
    const before = await k.ledger.lastSeq();
    await expect(
      k.ledger.append([created('ok'), { ...created('bad'), subjects: ['not a ref'] }]),
    ).rejects.toThrow(/not a ref/);
    expect(await k.ledger.lastSeq()).toBe(before);
  });

  it('does not publish events of a transaction that rolls back', async () => {
    const before = await k.ledger.lastSeq();
    await expect(
      k.store.transaction(async (tx) => {
        await k.ledger.append(created('ghost'), { db: tx });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await k.ledger.query({ afterSeq: before }, 10)).toEqual([]);
  });

  it('delivers backfill, then live events, in order and filtered', async () => {
    const start = await k.ledger.lastSeq();
    await k.ledger.append([created('b1'), created('b2')]);
    const got: LedgerEvent[] = [];
    const sub = k.ledger.subscribe({ afterSeq: start, kinds: ['kernel.user.created'] }, (e) => got.push(e));
    await sub.ready;
    await k.ledger.append({ kind: 'kernel.token.revoked', subjects: [], payload: { tokenId: 't', userId: 'u' } });
    await k.ledger.append(created('live1'));
    await until(() => got.length >= 3);
    expect(got.map((e) => (e.payload as { username: string }).username)).toEqual(['b1', 'b2', 'live1']);
    sub.close();
  });

  it('delivers only events after subscription when no afterSeq is given', async () => {
    await k.ledger.append(created('old'));
    const got: string[] = [];
    const sub = k.ledger.subscribe({ subject: 'user:default/new1' }, (e) => got.push((e.payload as { username: string }).username));
    await sub.ready;
    await k.ledger.append([created('new1'), created('other')]);
    await until(() => got.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['new1']);
    sub.close();
  });
});

describe.runIf(dialects.includes('postgres'))('ledger across replicas (postgres)', () => {
  it('wakes a subscriber in another process-like replica through LISTEN/NOTIFY', async () => {
    const a = await createTestKernel('postgres');
    // A second store on the same database stands for another replica.
    const { createStore } = await import('../store/index.js');
    const { createLedger } = await import('./service.js');
    const { createMetrics } = await import('../metrics.js');
    const { createLogger, systemClock } = await import('../index.js');
    const logger = createLogger({ level: 'silent', pretty: false });
    const storeB = createStore({ databaseUrl: a.config.databaseUrl, sqliteFile: '', logger });
    const ledgerB = createLedger({ store: storeB, clock: systemClock, logger, metrics: createMetrics(async () => ({})) });
    try {
      const got: number[] = [];
      const sub = ledgerB.subscribe({}, (e) => got.push(e.seq));
      await sub.ready;
      const t0 = Date.now();
      const [appended] = await a.ledger.append({ kind: 'kernel.token.revoked', subjects: [], payload: { tokenId: 't', userId: 'u' } });
      await until(() => got.includes(appended!.seq), 5000, 2);
      // Well under the 1 s safety-net poll: the notification did the work.
      expect(Date.now() - t0).toBeLessThan(500);
      sub.close();
    } finally {
      ledgerB.stop();
      await storeB.destroy();
      await a.close();
    }
  });
});
