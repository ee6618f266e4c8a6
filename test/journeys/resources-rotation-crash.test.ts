import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Claim, Operation } from '../../src/resources/index.js';
import { scramMatches } from '../../src/resources/providers/postgres.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../helpers/dialects.js';
import { until } from '../helpers/kernel.js';
import { adminToken, api, killServer, startServer, type ServerProcess } from './master-key-harness.js';
import { pgQuery } from '../../src/resources/testing/services.js';

// kill -9 of a real server in the middle of PostgreSQL and Redis password rotations (issue 8): once
// right after the rotations are requested, once inside their grace period. Each restart converges:
// the new password is the server's, the secret's newest version holds it, the old one is revoked after
// the grace period, every event is recorded once, and no role, user or database is doubled.

const dialects = await testDialects();
const redisUrl = 'redis://127.0.0.1:6379';
/**
 * Long enough for a restart and the checks inside the grace period on a busy two-core CI machine
 * (6 s was not: the old Redis password was already revoked when the test tried it).
 */
const GRACE_S = 20;
const tags = { owner: 'group:default/team-a', 'cost-center': 'cc-1' };

/** Whether `password` logs the ACL user in (a fresh connection each time). */
async function redisLogin(user: string, password: string): Promise<boolean> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.call('AUTH', user, password);
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

describe.each(dialects)('credential rotation under kill -9 (store: %s)', (dialect) => {
  const env = `r${Date.now().toString(36)}${dialect[0]}`;
  const identifier = (name: string) => `pl_${env}__${name.replaceAll('-', '_')}`;
  const servers = new Set<ServerProcess>();
  const admin = new Redis(redisUrl);
  let db: TestDatabase | undefined;

  afterAll(async () => {
    for (const server of servers) await killServer(server);
    for (const { datname } of (await pgQuery<{ datname: string }>('select datname from pg_database where datname like $1', [`pl\\_${env}\\_\\_%`])).rows) await pgQuery(`drop database if exists "${datname}" with (force)`);
    for (const { rolname } of (await pgQuery<{ rolname: string }>('select rolname from pg_roles where rolname like $1', [`pl\\_${env}\\_\\_%`])).rows) await pgQuery(`drop role if exists "${rolname}"`);
    for (const user of (await admin.call('ACL', 'USERS')) as string[]) if (user.startsWith(`pl_${env}__`)) await admin.call('ACL', 'DELUSER', user);
    admin.disconnect();
    await db?.drop();
  });

  async function boot(): Promise<{ server: ServerProcess; token: string }> {
    const server = await startServer(db!);
    servers.add(server);
    return { server, token: await adminToken(server.url) };
  }
  async function kill(server: ServerProcess) {
    await killServer(server);
    servers.delete(server);
  }

  it('converges after a kill right after the request and another inside the grace period', { timeout: 240_000 }, async () => {
    db = await createTestDatabase(dialect);
    let { server, token } = await boot();
    const call = <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => api<T>(server.url, token, method, path, body);
    const reveal = async (name: string) => (await call<{ version: number; data: Record<string, string> }>('POST', `/api/resources/secrets/claim.${env}.${name}/reveal`)).data;

    const claims: Record<'pg' | 'redis', Claim> = {
      pg: (await call<{ claim: Claim }>('POST', '/api/resources/claims', { module: 'postgres', name: 'rot-pg', environment: env, tags })).claim,
      redis: (await call<{ claim: Claim }>('POST', '/api/resources/claims', { module: 'redis', name: 'rot-redis', environment: env, tags })).claim,
    };
    for (const claim of Object.values(claims)) {
      await until(async () => ['ready', 'failed'].includes((await call<Claim>('GET', `/api/resources/claims/${claim.id}`)).phase), 30_000, 50);
      const ready = await call<Claim>('GET', `/api/resources/claims/${claim.id}`);
      expect(ready.phase, ready.lastError ?? '').toBe('ready');
    }
    const old = { pg: (await reveal('rot-pg')).password!, redis: (await reveal('rot-redis')).password! };
    // A session opened with the old password before the rotation: the revoke ends it after the grace period.
    const oldSession = new pg.Client({ connectionString: (await reveal('rot-pg')).url! });
    oldSession.on('error', () => undefined);
    await oldSession.connect();

    // Kill 1: as soon as both rotations are recorded (their jobs queued, running or just done).
    const ops = {
      pg: await call<Operation>('POST', `/api/resources/claims/${claims.pg.id}/rotate`, { graceSeconds: GRACE_S }),
      redis: await call<Operation>('POST', `/api/resources/claims/${claims.redis.id}/rotate`, { graceSeconds: GRACE_S }),
    };
    await kill(server);

    // The new version is the intent, stored with the request: the restarted server applies it.
    ({ server, token } = await boot());
    const settled: Record<string, Operation> = {};
    for (const [key, op] of Object.entries(ops)) {
      await until(async () => (settled[key] = await call<Operation>('GET', `/api/resources/claims/${op.claimId}/operations/${op.id}`)).phase !== 'queued', 30_000, 50);
      expect(settled[key]!.phase, settled[key]!.error ?? '').toBe('succeeded');
    }
    const fresh = { pg: await reveal('rot-pg'), redis: await reveal('rot-redis') };
    expect(fresh.pg.password).not.toBe(old.pg);
    expect(fresh.redis.password).not.toBe(old.redis);
    const verifier = async () => (await pgQuery<{ rolpassword: string }>('select rolpassword from pg_authid where rolname = $1', [identifier('rot-pg')])).rows[0]!.rolpassword;
    expect(scramMatches(await verifier(), fresh.pg.password!)).toBe(true);
    // Inside the grace period Redis takes both passwords; the old PostgreSQL session still runs.
    expect(await redisLogin(identifier('rot-redis'), fresh.redis.password!)).toBe(true);
    expect(await redisLogin(identifier('rot-redis'), old.redis)).toBe(true);
    expect((await oldSession.query('select 1 as one')).rows[0]).toEqual({ one: 1 });

    // Kill 2: the rotations are done, their revokes wait for the end of the grace period.
    const revokedBefore = await call<{ items: unknown[] }>('GET', '/api/events?kind=resources.secret.revoked');
    expect(revokedBefore.items).toEqual([]);
    await kill(server);
    await new Promise((resolve) => setTimeout(resolve, GRACE_S * 1000));

    ({ server, token } = await boot());
    type Revoked = { payload: { claimId: string; version: number; closedSessions: number } };
    let revoked: Revoked[] = [];
    await until(async () => (revoked = (await call<{ items: Revoked[] }>('GET', '/api/events?kind=resources.secret.revoked')).items).length >= 2, 30_000, 100);
    // Recorded once each, whatever ran twice.
    expect(revoked.map((e) => e.payload.claimId).sort()).toEqual([claims.pg.id, claims.redis.id].sort());
    expect(revoked.find((e) => e.payload.claimId === claims.pg.id)!.payload).toMatchObject({ version: 1, closedSessions: 1 });
    const rotated = (await call<{ items: { payload: { claimId: string; version: number } }[] }>('GET', '/api/events?kind=resources.secret.rotated')).items;
    expect(rotated.map((e) => `${e.payload.claimId}:v${e.payload.version}`).sort()).toEqual([`${claims.pg.id}:v2`, `${claims.redis.id}:v2`].sort());

    // The old credentials are gone: the session is closed, Redis takes only the newest password.
    await expect(oldSession.query('select 1')).rejects.toThrow();
    await oldSession.end().catch(() => undefined);
    expect(await redisLogin(identifier('rot-redis'), old.redis)).toBe(false);
    expect(await redisLogin(identifier('rot-redis'), fresh.redis.password!)).toBe(true);
    const user = (await admin.call('ACL', 'GETUSER', identifier('rot-redis'))) as unknown[];
    const passwords = user[user.indexOf('passwords') + 1] as string[];
    expect(passwords).toEqual([createHash('sha256').update(fresh.redis.password!).digest('hex')]);
    expect(scramMatches(await verifier(), fresh.pg.password!)).toBe(true);

    // The newest secret version is the server's, and nothing is doubled or half-done.
    for (const name of ['rot-pg', 'rot-redis']) expect((await call<{ version: number }>('GET', `/api/resources/secrets/claim.${env}.${name}`)).version).toBe(2);
    expect((await reveal('rot-pg')).password).toBe(fresh.pg.password);
    expect((await pgQuery('select rolname from pg_roles where rolname like $1', [`pl\\_${env}\\_\\_%`])).rows).toEqual([{ rolname: identifier('rot-pg') }]);
    expect((await pgQuery('select datname from pg_database where datname like $1', [`pl\\_${env}\\_\\_%`])).rows).toEqual([{ datname: identifier('rot-pg') }]);
    expect(((await admin.call('ACL', 'USERS')) as string[]).filter((u) => u.startsWith(`pl_${env}__`))).toEqual([identifier('rot-redis')]);
    expect(await call('POST', '/api/resources/drift/check')).toEqual({ checked: 2, drifted: 0 });
    const jobs = await call<{ items: { kind: string; state: string }[] }>('GET', '/api/jobs?limit=100');
    expect(jobs.items.filter((j) => j.kind.startsWith('resources.') && j.kind !== 'resources.schedule-backups' && j.kind !== 'resources.check-drift' && j.state !== 'succeeded')).toEqual([]);

    for (const claim of Object.values(claims)) await call('DELETE', `/api/resources/claims/${claim.id}`);
    await until(async () => (await call<{ items: Claim[] }>('GET', `/api/resources/claims?environment=${env}`)).items.length === 0, 30_000, 100);
    expect((await pgQuery('select 1 from pg_roles where rolname like $1', [`pl\\_${env}\\_\\_%`])).rowCount).toBe(0);
    expect(((await admin.call('ACL', 'USERS')) as string[]).filter((u) => u.startsWith(`pl_${env}__`))).toEqual([]);
    await kill(server);
  });
});
