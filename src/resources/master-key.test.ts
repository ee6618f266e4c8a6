import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../app.js';
import { ADMIN_PASSWORD, testConfig } from '../../test/helpers/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../test/helpers/dialects.js';
import { createTestKernel, until } from '../../test/helpers/kernel.js';
import type { Config } from '../kernel/index.js';
import { resourcesMigrations } from './migrations.js';
import { keyringOf, masterKeyFromBase64, rewrap, seal, unseal } from './secrets/crypto.js';
import * as q from './store/index.js';
import type { RewrapStarted, SecretKeysView } from './secrets/model.js';

// Master-key rotation through the HTTP API (issue 8): seal with A, restart on B with A as previous,
// re-wrap while reading and writing, then restart on B alone.

const dialects = await testDialects();
/** Secrets sealed with the first key; ten of them get a second version. */
const SECRETS = 100;

/** The app's config with these master keys (`secretsPreviousKeys` is what PLINTH_SECRETS_PREVIOUS_KEYS becomes). */
function configWith(db: TestDatabase, keys: { current: string; previous?: string[] }): Config {
  const base = testConfig(db);
  return { ...base, resources: Object.assign({}, base.resources, { secretsKey: keys.current, secretsPreviousKeys: keys.previous ?? [] }) };
}

describe.each(dialects)('secret store master-key rotation (%s)', (dialect) => {
  let db: TestDatabase;
  const apps: App[] = [];
  // Every log line of every start, at trace level: key material must never appear in it.
  let logText = '';
  const logger = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _enc, done) => ((logText += chunk.toString('utf8')), done()) }));
  const [keyA, keyB, keyC] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
  const [idA, idB] = [masterKeyFromBase64(keyA).id, masterKeyFromBase64(keyB).id];

  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => undefined);
    await db?.drop();
  });

  async function start(keys: { current: string; previous?: string[] }) {
    const app = await buildApp(configWith(db, keys), { logger });
    apps.push(app);
    await app.start();
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) => {
      const res = await app.server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
      return { status: res.statusCode, body: res.json() as unknown, text: res.body };
    };
    const login = await app.server.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
    const session = { cookie: `plinth_session=${login.cookies.find((c) => c.name === 'plinth_session')!.value}`, 'x-csrf-token': (login.json() as { csrfToken: string }).csrfToken };
    const token = (await app.server.inject({ method: 'POST', url: '/api/auth/tokens', headers: session, payload: { name: 'rotation' } })).json() as { secret: string };
    const stop = async () => {
      await app.stop();
      apps.splice(apps.indexOf(app), 1);
    };
    return { app, admin: token.secret, call, stop };
  }

  const reveal = async (s: Awaited<ReturnType<typeof start>>, name: string) => {
    const res = await s.call('POST', `/api/resources/secrets/${name}/reveal`, s.admin);
    expect(res.status, res.text).toBe(200);
    return (res.body as { data: { value: string } }).data.value;
  };
  const keysOf = async (s: Awaited<ReturnType<typeof start>>) => {
    const res = await s.call('GET', '/api/resources/secrets/keys', s.admin);
    expect(res.status, res.text).toBe(200);
    return res.body as SecretKeysView;
  };
  const finished = async (s: Awaited<ReturnType<typeof start>>, jobId: string) => {
    let state = '';
    await until(async () => {
      state = ((await s.call('GET', `/api/jobs/${jobId}`, s.admin)).body as { state: string }).state;
      return state !== 'queued' && state !== 'running';
    }, 30_000, 50);
    return state;
  };

  it('reads through a rotation, re-wraps while serving, and then needs only the new key', { timeout: 180_000 }, async () => {
    db = await createTestDatabase(dialect);
    const values = new Map<string, string>();

    // 1. Everything sealed with A.
    const onA = await start({ current: keyA });
    for (let i = 0; i < SECRETS; i++) {
      const name = `rot-${i}`;
      const created = await onA.call('POST', '/api/resources/secrets', onA.admin, { name, owner: 'group:default/team-a', value: `v1-of-${name}` });
      expect(created.status, created.text).toBe(201);
      values.set(name, `v1-of-${name}`);
    }
    for (let i = 0; i < 10; i++) {
      expect((await onA.call('PUT', `/api/resources/secrets/rot-${i}`, onA.admin, { value: `v2-of-rot-${i}` })).status).toBe(200);
      values.set(`rot-${i}`, `v2-of-rot-${i}`);
    }
    expect(await keysOf(onA)).toMatchObject({ currentKeyId: idA, previousKeyIds: [], versions: [{ keyId: idA, state: 'current', count: SECRETS + 10 }], lastRewrap: null });
    expect((await onA.call('POST', '/api/users', onA.admin, { username: 'dev', role: 'member', password: 'dev-password' })).status).toBe(201);
    await onA.stop();

    // 2. Current B, previous A: every value still reads; a new version is sealed with B.
    const onB = await start({ current: keyB, previous: [keyA] });
    for (const [name, value] of values) expect(await reveal(onB, name)).toBe(value);
    expect((await onB.call('PUT', `/api/resources/secrets/rot-${SECRETS - 1}`, onB.admin, { value: 'v2-of-rot-last' })).status).toBe(200);
    values.set(`rot-${SECRETS - 1}`, 'v2-of-rot-last');
    const before = await keysOf(onB);
    expect(before.currentKeyId).toBe(idB);
    expect(before.previousKeyIds).toEqual([idA]);
    expect(before.versions.sort((a, b) => a.keyId.localeCompare(b.keyId))).toEqual([{ keyId: idA, state: 'previous', count: SECRETS + 10 }, { keyId: idB, state: 'current', count: 1 }].sort((a, b) => a.keyId.localeCompare(b.keyId)));

    // Admins only; bad input is a 400.
    const login = await onB.app.server.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'dev', password: 'dev-password' } });
    const devSession = { cookie: `plinth_session=${login.cookies.find((c) => c.name === 'plinth_session')!.value}`, 'x-csrf-token': (login.json() as { csrfToken: string }).csrfToken };
    const devToken = ((await onB.app.server.inject({ method: 'POST', url: '/api/auth/tokens', headers: devSession, payload: { name: 'dev' } })).json() as { secret: string }).secret;
    expect((await onB.call('POST', '/api/resources/secrets/rewrap', devToken, {})).status).toBe(403);
    expect((await onB.call('GET', '/api/resources/secrets/keys', devToken)).status).toBe(403);
    expect((await onB.app.server.inject({ method: 'GET', url: '/api/resources/secrets/keys' })).statusCode).toBe(401);
    expect((await onB.call('POST', '/api/resources/secrets/rewrap', onB.admin, { batchSize: 0 })).status).toBe(400);
    expect((await onB.call('POST', '/api/resources/secrets/rewrap', onB.admin, { batchSize: 5, keyId: idA })).status).toBe(400);
    // `keys` and `rewrap` would be shadowed by these routes, so no secret takes those names.
    expect((await onB.call('POST', '/api/resources/secrets', onB.admin, { name: 'keys', owner: 'group:default/team-a', value: 'x' })).status).toBe(400);

    // 3. Re-wrap in small batches while reading and writing go on.
    // Two admins asking at once start one run.
    const racing = await Promise.all([1, 2].map(() => onB.call('POST', '/api/resources/secrets/rewrap', onB.admin, { batchSize: 2 })));
    expect(racing.map((r) => r.status)).toEqual([202, 202]);
    const [run, other] = racing.map((r) => r.body as RewrapStarted) as [RewrapStarted, RewrapStarted];
    expect(other.jobId).toBe(run.jobId);
    expect([run.created, other.created].sort()).toEqual([false, true]);
    expect(run.toKeyId).toBe(idB);
    let traffic = 0;
    let writes = 0;
    // Reads and writes that met the store half re-wrapped (versions on both keys at once).
    let duringMixedState = 0;
    while (((await onB.call('GET', `/api/jobs/${run.jobId}`, onB.admin)).body as { state: string }).state !== 'succeeded') {
      const name = `rot-${traffic % SECRETS}`;
      if ((await keysOf(onB)).versions.length === 2) duringMixedState += 1;
      expect(await reveal(onB, name)).toBe(values.get(name));
      if (traffic % 7 === 0) {
        const next = `v-during-${traffic}`;
        expect((await onB.call('PUT', `/api/resources/secrets/${name}`, onB.admin, { value: next })).status).toBe(200);
        values.set(name, next);
        writes += 1;
      }
      traffic += 1;
      if (traffic > 5000) throw new Error('the re-wrap did not finish');
    }
    expect(duringMixedState).toBeGreaterThan(0);
    const after = await keysOf(onB);
    expect(after.versions).toEqual([{ keyId: idB, state: 'current', count: SECRETS + 11 + writes }]);
    expect(after.lastRewrap).toMatchObject({ jobId: run.jobId, jobState: 'succeeded', phase: 'done', toKeyId: idB, rewrapped: { [idA]: SECRETS + 10 }, skipped: {} });
    expect(after.lastRewrap!.batches).toBeGreaterThanOrEqual((SECRETS + 10) / 2);
    const [event] = await onB.app.kernel.ledger.query({ kinds: ['resources.secrets.rewrapped'] }, 5);
    expect(event).toMatchObject({ actor: 'user:default/admin', subjects: [`master-key:${idB}`], payload: { jobId: run.jobId, toKeyId: idB, fromKeyIds: [idA], rewrapped: { [idA]: SECRETS + 10 }, skipped: {}, remaining: {} } });

    // A second run finds nothing left to do and changes nothing.
    const again = (await onB.call('POST', '/api/resources/secrets/rewrap', onB.admin, {})).body as RewrapStarted;
    expect(again.jobId).not.toBe(run.jobId);
    expect(await finished(onB, again.jobId)).toBe('succeeded');
    expect((await keysOf(onB)).lastRewrap).toMatchObject({ jobId: again.jobId, phase: 'done', rewrapped: {}, skipped: {} });
    expect((await keysOf(onB)).versions).toEqual(after.versions);
    await onB.stop();

    // 4. B alone: everything reads.
    const onlyB = await start({ current: keyB });
    for (const [name, value] of values) expect(await reveal(onlyB, name)).toBe(value);
    await onlyB.stop();

    // 5. A keyring without B: a clear 503 naming the key id, and a re-wrap that skips what it cannot open.
    const onC = await start({ current: keyC });
    const refused = await onC.call('POST', '/api/resources/secrets/rot-1/reveal', onC.admin);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { name: 'ServiceUnavailableError' } });
    expect(refused.text).toContain(`master key ${idB}`);
    expect(refused.text).toContain('PLINTH_SECRETS_PREVIOUS_KEYS');
    expect((await keysOf(onC)).versions).toEqual([{ keyId: idB, state: 'unknown', count: SECRETS + 11 + writes }]);
    const skipping = (await onC.call('POST', '/api/resources/secrets/rewrap', onC.admin, {})).body as RewrapStarted;
    expect(await finished(onC, skipping.jobId)).toBe('succeeded');
    expect((await keysOf(onC)).lastRewrap).toMatchObject({ phase: 'done', rewrapped: {}, skipped: { [idB]: SECRETS + 11 + writes } });
    await onC.stop();

    // Key ids only: no key, in any encoding, in the logs or the ledger.
    const ledgerText = JSON.stringify(await (await start({ current: keyB })).app.kernel.ledger.query({}, 1000));
    for (const key of [keyA, keyB, keyC]) {
      const raw = Buffer.from(key, 'base64');
      for (const text of [raw.toString('base64'), raw.toString('hex'), raw.toString('base64url')]) {
        expect(logText).not.toContain(text);
        expect(ledgerText).not.toContain(text);
      }
    }
    expect(logText).toContain(idB);
  });
});

describe.each(dialects)('re-wrap queries (%s)', (dialect) => {
  const [a, b] = [masterKeyFromBase64(randomBytes(32).toString('base64')), masterKeyFromBase64(randomBytes(32).toString('base64'))];
  const at = '2027-01-10T00:00:00.000Z';

  it('replaces a wrapped key only over the one that was read, walks versions in key order, and advances a run once per batch', async () => {
    const k = await createTestKernel(dialect, { migrations: resourcesMigrations });
    try {
      for (const name of ['s-1', 's-2', 's-3', 's-4']) {
        const sealed = seal(keyringOf(a), JSON.stringify({ value: name }), `secret:${name}:v1`);
        await q.insertSecret(k.store, k.store.dialect, { name, ownerRef: 'group:default/team-a', claimId: null, keys: ['value'], sealed, actor: 'system:test', at });
      }
      const all = await q.selectVersionsAfter(k.store, { after: null, notKeyId: b.id, limit: 10 });
      expect(all.map((v) => v.name)).toEqual(['s-1', 's-2', 's-3', 's-4']);
      expect((await q.selectVersionsAfter(k.store, { after: { name: 's-2', version: 1 }, notKeyId: b.id, limit: 1 })).map((v) => v.name)).toEqual(['s-3']);

      const ring = keyringOf(b, [a]);
      const first = all[0]!;
      const moved = rewrap(ring, first, 'secret:s-1:v1');
      expect(await q.replaceWrappedKey(k.store, first, moved)).toBe(true);
      // The same stale read again (a second run, a retried batch): nothing changes.
      expect(await q.replaceWrappedKey(k.store, first, rewrap(ring, first, 'secret:s-1:v1'))).toBe(false);
      const stored = (await q.selectSecret(k.store, 's-1'))!;
      expect(stored.sealed).toMatchObject({ keyId: b.id, wrappedKey: moved.wrappedKey });
      expect(unseal(keyringOf(b), stored.sealed, 'secret:s-1:v1')).toBe(JSON.stringify({ value: 's-1' }));
      expect((await q.selectVersionsAfter(k.store, { after: null, notKeyId: b.id, limit: 10 })).map((v) => v.name)).toEqual(['s-2', 's-3', 's-4']);
      expect(await q.countVersionsByKey(k.store)).toEqual([{ keyId: a.id, count: 3 }, { keyId: b.id, count: 1 }].sort((x, y) => x.keyId.localeCompare(y.keyId)));

      await q.insertRewrap(k.store, { jobId: 'job-1', toKeyId: b.id, phase: 'running', batchSize: 2, batches: 0, cursor: null, rewrapped: {}, skipped: {}, createdBy: 'user:default/admin', createdAt: at, updatedAt: at, finishedAt: null });
      const next = { cursor: { name: 's-2', version: 1 }, rewrapped: { [a.id]: 2 }, skipped: {}, updatedAt: at };
      expect(await q.advanceRewrap(k.store, 'job-1', 0, next)).toBe(true);
      // A worker that lost its lease still holds batch 0: its batch is refused (and rolled back by the caller).
      expect(await q.advanceRewrap(k.store, 'job-1', 0, { ...next, rewrapped: { [a.id]: 99 } })).toBe(false);
      expect(await q.selectRewrap(k.store, 'job-1')).toMatchObject({ batches: 1, cursor: { name: 's-2', version: 1 }, rewrapped: { [a.id]: 2 }, phase: 'running' });
      expect(await q.finishRewrap(k.store, 'job-1', at)).toBe(true);
      expect(await q.finishRewrap(k.store, 'job-1', at)).toBe(false);
      expect(await q.advanceRewrap(k.store, 'job-1', 1, next)).toBe(false);
      expect((await q.latestRewrap(k.store))!).toMatchObject({ jobId: 'job-1', phase: 'done', finishedAt: at });
    } finally {
      await k.close();
    }
  });
});
