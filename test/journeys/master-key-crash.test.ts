import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { createLogger, type Config, type Principal } from '../../src/kernel/index.js';
import { KEY_FILE, keyringOf, masterKeyFromBase64, PREVIOUS_KEYS_DIR, seal } from '../../src/resources/secrets/crypto.js';
import type { RewrapStarted, SecretKeysView } from '../../src/resources/secrets/model.js';
import { insertSecret } from '../../src/resources/store/index.js';
import { testConfig } from '../helpers/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/dialects.js';
import { until } from '../helpers/kernel.js';
import { adminToken, api, startServer as startProcess } from './master-key-harness.js';

// kill -9 of a real server halfway through re-wrapping 2,000 secret versions (issue 8): every version
// stays readable, and the restarted server resumes the run to the end, counting each version once.

const dialects = await testDialects();
const VERSIONS = 2000;
const system: Principal = { kind: 'system', name: 'master-key-test' };

/** The server in key-file mode (keys/secrets.key current, keys/secrets.previous/*.key previous). */
const startServer = (db: TestDatabase) => startProcess(db, { PLINTH_SECRETS_KEY: '' });

/** An in-process app on the same database with the job worker off: it reads, and never runs the re-wrap. */
async function startReader(db: TestDatabase, keys: { current: string; previous: string[] }): Promise<App> {
  const base = testConfig(db, { jobs: { workerEnabled: false, concurrency: 0, leaseMs: 30_000, drainMs: 500 } });
  const app = await buildApp({ ...base, resources: Object.assign({}, base.resources, { secretsKey: keys.current, secretsPreviousKeys: keys.previous }) } satisfies Config, { logger: createLogger({ level: 'silent', pretty: false }) });
  await app.start();
  return app;
}

async function readAll(app: App): Promise<number> {
  let read = 0;
  for (let i = 0; i < VERSIONS; i += 50) {
    const values = await Promise.all(Array.from({ length: Math.min(50, VERSIONS - i) }, (_, j) => app.resources.secretSource(`crash-${i + j}`)));
    values.forEach((v, j) => {
      if (v !== `value-${i + j}`) throw new Error(`crash-${i + j} read ${v === undefined ? 'nothing' : 'a wrong value'}`);
      read += 1;
    });
  }
  return read;
}

describe.each(dialects)('master-key re-wrap under kill -9 (%s)', (dialect) => {
  const children = new Set<ChildProcess>();
  const apps = new Set<App>();
  let db: TestDatabase | undefined;
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const app of apps) await app.stop().catch(() => undefined);
    await db?.drop();
  });

  it(`resumes after a kill halfway through ${VERSIONS} versions; every version reads at every point`, { timeout: 240_000 }, async () => {
    db = await createTestDatabase(dialect);
    const [keyA, keyB] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const [idA, idB] = [masterKeyFromBase64(keyA).id, masterKeyFromBase64(keyB).id];

    // Sealed with A (PLINTH_SECRETS_KEY mode), as the secret store seals them, 200 rows per transaction for speed.
    const seeder = await startReader(db, { current: keyA, previous: [] });
    apps.add(seeder);
    const ringA = keyringOf(masterKeyFromBase64(keyA));
    const { store } = seeder.kernel;
    for (let i = 0; i < VERSIONS; i += 200) {
      await store.transaction(async (tx) => {
        for (let n = i; n < Math.min(i + 200, VERSIONS); n++) {
          const sealed = seal(ringA, JSON.stringify({ value: `value-${n}` }), `secret:crash-${n}:v1`);
          await insertSecret(tx, store.dialect, { name: `crash-${n}`, ownerRef: 'group:default/team-a', claimId: null, keys: ['value'], sealed, actor: 'system:test', at: new Date().toISOString() });
        }
      });
    }
    expect((await seeder.resources.secrets.keys(system)).versions).toEqual([{ keyId: idA, state: 'current', count: VERSIONS }]);
    await seeder.stop();
    apps.delete(seeder);

    // The operator's rotation in key-file mode: B becomes the key file, A moves to the previous folder.
    mkdirSync(join(db.dataDir, PREVIOUS_KEYS_DIR), { recursive: true });
    writeFileSync(join(db.dataDir, PREVIOUS_KEYS_DIR, 'a.key'), `${keyA}\n`, { mode: 0o600 });
    writeFileSync(join(db.dataDir, KEY_FILE), `${keyB}\n`, { mode: 0o600 });

    const first = await startServer(db);
    children.add(first.child);
    const token = await adminToken(first.url);
    const run = await api<RewrapStarted>(first.url, token, 'POST', '/api/resources/secrets/rewrap', { batchSize: 5 });
    expect(run.toKeyId).toBe(idB);
    let onB = 0;
    await until(async () => {
      onB = (await api<SecretKeysView>(first.url, token, 'GET', '/api/resources/secrets/keys')).versions.find((v) => v.keyId === idB)?.count ?? 0;
      return onB >= 100;
    }, 60_000, 5);
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;
    children.delete(first.child);

    // Halfway: versions on both keys, and every one of them reads.
    const reader = await startReader(db, { current: keyB, previous: [keyA] });
    apps.add(reader);
    const halfway = await reader.resources.secrets.keys(system);
    const count = (keyId: string) => halfway.versions.find((v) => v.keyId === keyId)?.count ?? 0;
    expect(count(idB)).toBeGreaterThanOrEqual(onB);
    expect(count(idA)).toBeGreaterThan(0);
    expect(count(idA) + count(idB)).toBe(VERSIONS);
    expect(halfway.lastRewrap).toMatchObject({ jobId: run.jobId, phase: 'running', jobState: 'running' });
    expect(await readAll(reader)).toBe(VERSIONS);
    await reader.stop();
    apps.delete(reader);

    // The restarted server takes the run over once the killed one's lease expires, and finishes it.
    const second = await startServer(db);
    children.add(second.child);
    const token2 = await adminToken(second.url);
    await until(async () => (await api<{ state: string }>(second.url, token2, 'GET', `/api/jobs/${run.jobId}`)).state === 'succeeded', 120_000, 200);
    const job = await api<{ attempts: number; output: { rewrapped: Record<string, number> } }>(second.url, token2, 'GET', `/api/jobs/${run.jobId}`);
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    const done = await api<SecretKeysView>(second.url, token2, 'GET', '/api/resources/secrets/keys');
    expect(done.versions).toEqual([{ keyId: idB, state: 'current', count: VERSIONS }]);
    // Each version counted once across both attempts.
    expect(done.lastRewrap).toMatchObject({ jobId: run.jobId, phase: 'done', rewrapped: { [idA]: VERSIONS }, skipped: {} });
    const events = await api<{ items: { payload: { jobId: string; rewrapped: Record<string, number> } }[] }>(second.url, token2, 'GET', '/api/events?kind=resources.secrets.rewrapped');
    expect(events.items.map((e) => e.payload)).toEqual([expect.objectContaining({ jobId: run.jobId, rewrapped: { [idA]: VERSIONS } })]);
    second.child.kill('SIGKILL');
    children.delete(second.child);

    // A can go: B alone reads every version.
    const onlyB = await startReader(db, { current: keyB, previous: [] });
    apps.add(onlyB);
    expect(await readAll(onlyB)).toBe(VERSIONS);
  });
});
