import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../app.js';
import { startTestApp, testConfig } from '../../test/helpers/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../test/helpers/dialects.js';
import { until } from '../../test/helpers/kernel.js';
import type { Principal } from '../kernel/index.js';
import { pgQuery } from './testing/services.js';

const dialects = await testDialects();
const system: Principal = { kind: 'system', name: 'test' };

describe.each(dialects)('claim apply after a crash (%s)', (dialect) => {
  const env = `c${Date.now().toString(36)}${dialect[0]}`;
  const names = `pl_${env}__crashy`;
  let db: TestDatabase;
  const apps: App[] = [];
  // Every log line of both processes, at trace level and without the production redaction.
  let logText = '';
  const logger = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _enc, done) => ((logText += chunk.toString('utf8')), done()) }));

  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => undefined);
    await pgQuery(`drop database if exists "${names}" with (force)`);
    await pgQuery(`drop role if exists "${names}"`);
    await db?.drop();
  });

  it('resumes from the last recorded step after a restart, converging a step whose effect happened but was not recorded', async () => {
    db = await createTestDatabase(dialect);
    const first = await buildApp(testConfig(db, { jobs: { workerEnabled: false, concurrency: 0, leaseMs: 30_000, drainMs: 500 } }), { logger });
    apps.push(first);
    await first.start();
    const { claim } = await first.resources.claim(system, { module: 'postgres', name: 'crashy', environment: env, inputs: {}, tags: { owner: 'group:default/team-a', 'cost-center': 'cc-1' } });
    expect(claim.phase).toBe('provisioning');

    // Step 1 (credentials) runs and is recorded; then step 2's effect lands on the server with a stale
    // password, as if the worker died between CREATE ROLE and recording it.
    expect(await first.resources.controller.applyOnce(claim.id)).toBe('progress');
    expect((await first.resources.getClaim(system, claim.id)).step).toBe('credentials');
    await pgQuery(`create role "${names}" login password 'stale-password'`);
    await first.stop();

    const second = await buildApp(testConfig(db), { logger });
    apps.push(second);
    await second.start();
    let phase = '';
    await until(async () => {
      phase = (await second.resources.getClaim(system, claim.id)).phase;
      return phase === 'ready' || phase === 'failed';
    }, 20_000, 50);
    const ready = await second.resources.getClaim(system, claim.id);
    expect(ready.phase, ready.lastError ?? '').toBe('ready');
    expect(ready.step).toBe('schema');

    // One role, one database, and the role's password is the stored one (the stale one was replaced).
    expect((await pgQuery('select 1 from pg_roles where rolname = $1', [names])).rowCount).toBe(1);
    expect((await pgQuery('select 1 from pg_database where datname = $1', [names])).rowCount).toBe(1);
    const url = await second.resources.secretSource(`claim.${env}.crashy/url`);
    const password = await second.resources.secretSource(`claim.${env}.crashy/password`);
    expect((await pgQuery<{ user: string }>('select current_user as user', [], url)).rows[0]!.user).toBe(names);
    expect(await second.kernel.ledger.query({ kinds: ['resources.claim.provisioned'], subject: `resource:${env}/crashy` }, 10)).toHaveLength(1);

    // The generated password never reached a log line of either process.
    expect(logText.length).toBeGreaterThan(0);
    expect(logText).not.toContain(password!);

    await second.resources.deleteClaim(system, claim.id);
    await until(async () => (await second.resources.listClaims(system, { environment: env, limit: 10 })).length === 0, 20_000, 50);
    expect((await pgQuery('select 1 from pg_database where datname = $1', [names])).rowCount).toBe(0);
  });

  it('applying the same step twice changes nothing', async () => {
    const app = apps[1]!;
    const { claim } = await app.resources.claim(system, { module: 'secret', name: 'twice', environment: env, inputs: { keys: ['apiKey'] }, tags: { owner: 'group:default/team-a', 'cost-center': 'cc-1' } });
    await until(async () => (await app.resources.getClaim(system, claim.id)).phase === 'ready', 20_000, 50);
    const value = await app.resources.secretSource(`claim.${env}.twice/apiKey`);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ready = await app.resources.getClaim(system, claim.id);
    expect(ready.outputs).toEqual({ secretRef: `claim.${env}.twice`, apiKeyRef: `claim.${env}.twice/apiKey` });
    // A second pass of a ready claim is a no-op, and re-running the step keeps the generated value.
    expect(await app.resources.controller.applyOnce(claim.id)).toBe('done');
    expect(await app.resources.secretSource(`claim.${env}.twice/apiKey`)).toBe(value);
    await app.resources.deleteClaim(system, claim.id);
    await until(async () => (await app.resources.listClaims(system, { environment: env, limit: 10 })).length === 0, 20_000, 50);
  });
});

describe.each(dialects)('periodic drift check (%s)', (dialect) => {
  const env = `d${Date.now().toString(36)}${dialect[0]}`;
  const role = `pl_${env}__watched`;

  afterAll(async () => {
    await pgQuery(`drop database if exists "${role}" with (force)`);
    await pgQuery(`drop role if exists "${role}"`);
  });

  it('notices a database handed to another owner outside Plinth within one interval, and the fix clears it', async () => {
    const base = testConfig({ dataDir: '/unused', databaseUrl: undefined });
    const t = await startTestApp({ dialect, config: { resources: { ...base.resources, driftIntervalS: 1 } } });
    try {
      const app = t.app;
      const { claim } = await app.resources.claim(system, { module: 'postgres', name: 'watched', environment: env, inputs: {}, tags: { owner: 'group:default/team-a', 'cost-center': 'cc-1' } });
      await until(async () => (await app.resources.getClaim(system, claim.id)).phase === 'ready', 20_000, 50);
      // (A password changed by hand is checked too, but the local server trusts loopback logins.)
      await pgQuery(`alter database "${role}" owner to postgres`);
      const changedAt = Date.now();
      await until(async () => (await app.resources.getClaim(system, claim.id)).drift !== null, 5_000, 50);
      expect(Date.now() - changedAt).toBeLessThan(2_500);
      expect((await app.resources.getClaim(system, claim.id)).drift?.problems[0]).toBe(`database ${role} is owned by postgres, not ${role}`);
      await pgQuery(`alter database "${role}" owner to "${role}"`);
      await until(async () => (await app.resources.getClaim(system, claim.id)).drift === null, 5_000, 50);
      expect((await app.kernel.ledger.query({ kinds: ['resources.drift.detected', 'resources.drift.resolved'], subject: `resource:${env}/watched` }, 10)).map((e) => e.kind)).toEqual(['resources.drift.detected', 'resources.drift.resolved']);
      await app.resources.deleteClaim(system, claim.id);
      await until(async () => (await app.resources.listClaims(system, { environment: env, limit: 10 })).length === 0, 20_000, 50);
    } finally {
      await t.close();
    }
  });
});

function startApplyWorker(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/resources/testing/apply-worker.ts', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`apply worker exited early with ${code}`)));
  });
}

describe.each(dialects)('claim apply under SIGKILL (%s)', (dialect) => {
  const env = `k${Date.now().toString(36)}${dialect[0]}`;
  const role = `pl_${env}__killed`;
  let child: ChildProcess | undefined;
  let db: TestDatabase | undefined;
  let app: App | undefined;

  afterAll(async () => {
    child?.kill('SIGKILL');
    await app?.stop();
    await pgQuery(`drop database if exists "${role}" with (force)`);
    await pgQuery(`drop role if exists "${role}"`);
    await db?.drop();
  });

  it('a worker killed -9 mid-apply leaves a job that another worker resumes to one ready database', { timeout: 60_000 }, async () => {
    db = await createTestDatabase(dialect);
    app = await buildApp(testConfig(db, { jobs: { workerEnabled: false, concurrency: 0, leaseMs: 1000, drainMs: 500 } }), { logger: pino({ level: 'silent' }) });
    await app.start();
    child = await startApplyWorker(['--data-dir', db.dataDir, ...(db.databaseUrl ? ['--database-url', db.databaseUrl] : [])]);
    const { claim } = await app.resources.claim(system, { module: 'postgres', name: 'killed', environment: env, inputs: {}, tags: { owner: 'group:default/team-a', 'cost-center': 'cc-1' } });
    // Kill as soon as the first step is recorded: the next step is then running (or about to) in the child.
    let atKill = claim;
    await until(async () => (atKill = await app!.resources.getClaim(system, claim.id)).step !== null, 20_000, 1);
    child.kill('SIGKILL');
    expect(atKill.phase).toBe('provisioning');
    expect(['credentials', 'role', 'database']).toContain(atKill.step);

    // This process takes over once the dead worker's lease (1 s) runs out.
    app.kernel.jobs.startWorker({ concurrency: 2, leaseMs: 1000, pollMs: 50 });
    await until(async () => ['ready', 'failed'].includes((await app!.resources.getClaim(system, claim.id)).phase), 20_000, 50);
    const ready = await app.resources.getClaim(system, claim.id);
    expect(ready.phase, ready.lastError ?? '').toBe('ready');
    expect((await pgQuery('select 1 from pg_roles where rolname = $1', [role])).rowCount).toBe(1);
    expect((await pgQuery('select 1 from pg_database where datname = $1', [role])).rowCount).toBe(1);
    const url = await app.resources.secretSource(`claim.${env}.killed/url`);
    expect((await pgQuery<{ user: string }>('select current_user as user', [], url)).rows[0]!.user).toBe(role);
    expect(await app.kernel.ledger.query({ kinds: ['resources.claim.provisioned'], subject: `resource:${env}/killed` }, 10)).toHaveLength(1);
  });
});
