import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/kernel/index.js';
import { testConfig } from '../helpers/app.js';
import { until } from '../helpers/kernel.js';
import { privatePostgresUnavailableReason, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';

const reason = privatePostgresUnavailableReason();
if (reason && process.env.CI === 'true') throw new Error(`${reason}; CI must run the PostgreSQL restart test`);
if (reason) process.stderr.write(`\n[skip] PostgreSQL restart journey: ${reason}\n`);

describe.skipIf(reason !== undefined)('a PostgreSQL restart while Plinth runs', () => {
  let pg: PrivatePostgres | undefined;
  let app: App | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-restart-'));
  afterAll(async () => {
    await app?.stop().catch(() => undefined);
    pg?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 fast while the database is down and recovers by itself', { timeout: 120_000 }, async () => {
    pg = await startPrivatePostgres();
    app = await buildApp(testConfig({ dataDir, databaseUrl: pg.url }), { logger: createLogger({ level: 'silent', pretty: false }) });
    await app.start();
    const server = app.server;
    const { kernel } = app;
    const login = await server.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: 'admin-password-for-tests' } });
    const cookie = `plinth_session=${login.cookies.find((c) => c.name === 'plinth_session')!.value}`;
    const csrf = (login.json() as { csrfToken: string }).csrfToken;
    const token = (
      (await server.inject({ method: 'POST', url: '/api/auth/tokens', headers: { cookie, 'x-csrf-token': csrf }, payload: { name: 't' } })).json() as { secret: string }
    ).secret;
    const auth = { authorization: `Bearer ${token}` };
    expect((await server.inject({ method: 'GET', url: '/api/status', headers: auth })).statusCode).toBe(200);
    const seen: string[] = [];
    const sub = kernel.ledger.subscribe({ kinds: ['kernel.user.created'] }, (e) => seen.push((e.payload as { username: string }).username));
    await sub.ready;

    pg.stop();
    const t0 = Date.now();
    const down = await server.inject({ method: 'GET', url: '/api/status', headers: auth });
    const elapsed = Date.now() - t0;
    expect(down.statusCode).toBe(503);
    expect((down.json() as { error: { name: string } }).error.name).toBe('ServiceUnavailableError');
    expect(down.body).not.toMatch(/ECONNREFUSED|postgres|127\.0\.0\.1/);
    expect(elapsed).toBeLessThan(3500);
    expect((await server.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect((await server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    pg.start();
    await until(async () => (await server.inject({ method: 'GET', url: '/api/status', headers: auth })).statusCode === 200, 20_000, 200);
    expect((await server.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    // The live subscription survives: the LISTEN connection came back.
    const created = await server.inject({ method: 'POST', url: '/api/users', headers: auth, payload: { username: 'after-restart', password: 'password-123' } });
    expect(created.statusCode).toBe(201);
    await until(() => seen.includes('after-restart'), 10_000);
    sub.close();
  });
});
