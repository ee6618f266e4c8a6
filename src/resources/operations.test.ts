import { readFile, stat, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { until } from '../../test/helpers/kernel.js';
import type { Principal } from '../kernel/index.js';
import type { Claim, Operation } from './index.js';
import { scramMatches } from './providers/postgres.js';
import { pgQuery } from './testing/services.js';

// Rotation, on-demand and scheduled backups, and restores of PostgreSQL claims on the real server.

const dialects = await testDialects();
const system: Principal = { kind: 'system', name: 'test' };
const tags = { owner: 'group:default/team-a', 'cost-center': 'cc-1' };

const verifierOf = async (name: string) => (await pgQuery<{ rolpassword: string }>('select rolpassword from pg_authid where rolname = $1', [name])).rows[0]!.rolpassword;

describe.each(dialects)('claim operations on PostgreSQL (store: %s)', (dialect) => {
  const env = `o${Date.now().toString(36)}${dialect[0]}`;
  const role = (name: string) => `pl_${env}__${name}`;
  let t: TestApp;
  let member: string;
  const call = (method: 'GET' | 'POST', url: string, payload?: unknown, token = t.adminToken) =>
    t.app.server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    member = (await t.createUser('mallory', 'member')).token;
  });
  afterAll(async () => {
    for (const { datname } of (await pgQuery<{ datname: string }>('select datname from pg_database where datname like $1', [`pl\\_${env}\\_\\_%`])).rows) await pgQuery(`drop database if exists "${datname}" with (force)`);
    for (const { rolname } of (await pgQuery<{ rolname: string }>('select rolname from pg_roles where rolname like $1', [`pl\\_${env}\\_\\_%`])).rows) await pgQuery(`drop role if exists "${rolname}"`);
    await t?.close();
  });

  async function ready(name: string, module = 'postgres'): Promise<Claim> {
    const { claim } = await t.app.resources.claim(system, { module, name, environment: env, inputs: {}, tags });
    await until(async () => ['ready', 'failed'].includes((await t.app.resources.getClaim(system, claim.id)).phase), 20_000, 25);
    const done = await t.app.resources.getClaim(system, claim.id);
    expect(done.phase, done.lastError ?? '').toBe('ready');
    return done;
  }
  async function settled(op: Operation): Promise<Operation> {
    let current = op;
    await until(async () => (current = await t.app.resources.getOperation(system, op.claimId, op.id)).phase !== 'queued', 30_000, 25);
    return current;
  }

  it('rotates a database password: a new secret version set on the server, old sessions ended after the grace period', { timeout: 30_000 }, async () => {
    const claim = await ready('rot');
    const oldPassword = (await t.app.resources.secretSource(`claim.${env}.rot/password`))!;
    expect(scramMatches(await verifierOf(role('rot')), oldPassword)).toBe(true);
    const before = new pg.Client({ connectionString: (await t.app.resources.secretSource(`claim.${env}.rot/url`))! });
    before.on('error', () => undefined);
    await before.connect();

    const res = await call('POST', `/api/resources/claims/${claim.id}/rotate`, { graceSeconds: 1 });
    expect(res.statusCode, res.body).toBe(202);
    const op = await settled(res.json<Operation>());
    expect(op.phase, op.error ?? '').toBe('succeeded');
    const newPassword = (await t.app.resources.secretSource(`claim.${env}.rot/password`))!;
    expect(newPassword).not.toBe(oldPassword);
    expect(await t.app.resources.secretSource(`claim.${env}.rot/url`)).toContain(newPassword);
    // The server's verifier is the new password's; the stored one matches, so there is no drift.
    expect(scramMatches(await verifierOf(role('rot')), newPassword)).toBe(true);
    expect(scramMatches(await verifierOf(role('rot')), oldPassword)).toBe(false);
    expect(await t.app.resources.controller.checkDrift(await t.app.resources.getClaim(system, claim.id))).toEqual([]);
    expect((await t.app.resources.secrets.get(system, `claim.${env}.rot`)).version).toBe(2);
    const [rotated] = await t.app.kernel.ledger.query({ kinds: ['resources.secret.rotated'], subject: `resource:${env}/rot` }, 5);
    expect(rotated?.payload).toMatchObject({ claimId: claim.id, secretRef: `claim.${env}.rot/password`, version: 2 });
    // The runtime finds it by the secret its workloads read, as for a version added by hand.
    expect(await t.app.kernel.ledger.query({ kinds: ['resources.secret.rotated'], subject: `secret:claim.${env}.rot` }, 5)).toHaveLength(1);

    // A session opened after the rotation survives the revocation; the one from before does not.
    const after = new pg.Client({ connectionString: (await t.app.resources.secretSource(`claim.${env}.rot/url`))! });
    await after.connect();
    await until(async () => (await t.app.kernel.ledger.query({ kinds: ['resources.secret.revoked'], subject: `resource:${env}/rot` }, 5)).length === 1, 10_000, 50);
    const [revoked] = await t.app.kernel.ledger.query({ kinds: ['resources.secret.revoked'], subject: `resource:${env}/rot` }, 5);
    expect(revoked!.payload).toMatchObject({ version: 1, closedSessions: 1 });
    await expect(before.query('select 1')).rejects.toThrow();
    expect((await after.query<{ n: number }>('select 1 as n')).rows[0]!.n).toBe(1);
    await after.end();
  });

  it('notices a role password changed outside Plinth, even on a server that trusts loopback logins', async () => {
    const claim = (await t.app.resources.listClaims(system, { environment: env, name: 'rot', limit: 1 }))[0]!;
    await pgQuery(`alter role "${role('rot')}" password 'set-by-hand'`);
    expect(await t.app.resources.controller.checkDrift(claim)).toEqual([`role ${role('rot')}'s password is not the stored one (changed outside Plinth)`]);
    // The postgres module does not repair drift: it stays recorded until the password is put back.
    expect((await t.app.resources.getClaim(system, claim.id)).drift?.problems).toHaveLength(1);
    await pgQuery(`alter role "${role('rot')}" password '${(await t.app.resources.secretSource(`claim.${env}.rot/password`))!}'`);
    expect(await t.app.resources.controller.checkDrift(await t.app.resources.getClaim(system, claim.id))).toEqual([]);
    expect((await t.app.resources.getClaim(system, claim.id)).drift).toBeNull();
  });

  it('refuses bad rotations, backups and restores with the reason', async () => {
    const claim = (await t.app.resources.listClaims(system, { environment: env, name: 'rot', limit: 1 }))[0]!;
    const cases: [url: string, body: unknown, token: string | undefined, status: number, message: RegExp][] = [
      [`/api/resources/claims/${claim.id}/rotate`, { graceSeconds: -1 }, undefined, 400, /graceSeconds/],
      [`/api/resources/claims/${claim.id}/rotate`, { grace: 5 }, undefined, 400, /grace/],
      [`/api/resources/claims/${claim.id}/rotate`, {}, member, 403, /team-a/],
      [`/api/resources/claims/rc-0000000000000000/rotate`, {}, undefined, 404, /no resource claim/],
      [`/api/resources/claims/${claim.id}/restore`, {}, undefined, 404, /no backup of .* is kept; take one with `plinth resource backup rot/],
      [`/api/resources/claims/${claim.id}/restore`, { backupId: 'bk-nope' }, undefined, 404, /no backup bk-nope/],
      [`/api/resources/claims/${claim.id}/restore`, { backupId: '../etc' }, undefined, 400, /backupId/],
      [`/api/resources/claims/${claim.id}/backup`, undefined, member, 403, /team-a/],
    ];
    for (const [url, body, token, status, message] of cases) {
      const res = await call('POST', url, body, token ?? t.adminToken);
      expect(res.statusCode, `${url} ${JSON.stringify(body)} → ${res.body}`).toBe(status);
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(message);
    }
    expect((await call('GET', `/api/resources/claims/${claim.id}/operations/op-nope`)).statusCode).toBe(400);
    expect((await call('GET', `/api/resources/claims/${claim.id}/operations/op-0000000000000000`)).statusCode).toBe(404);
    const secret = await ready('keys', 'secret');
    const res = await call('POST', `/api/resources/claims/${secret.id}/rotate`, {});
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/no server credentials to rotate/);
    expect(await t.app.resources.listOperations(system, claim.id)).toHaveLength(1);
  });

  it('backs up on demand and restores into the database as the claim’s role; a broken backup changes nothing', { timeout: 30_000 }, async () => {
    const claim = await ready('data');
    const url = (await t.app.resources.secretSource(`claim.${env}.data/url`))!;
    await pgQuery('create table orders (id int primary key, item text); insert into orders values (1, $$tea$$), (2, $$cake$$)', [], url);

    const res = await call('POST', `/api/resources/claims/${claim.id}/backup`);
    expect(res.statusCode, res.body).toBe(202);
    const backup = await settled(res.json<Operation>());
    expect(backup.phase, backup.error ?? '').toBe('succeeded');
    const listed = (await call('GET', `/api/resources/claims/${claim.id}/backups`)).json<{ items: { id: string; kind: string; path: string; bytes: number }[] }>().items;
    expect(listed).toEqual([expect.objectContaining({ id: backup.backupId, kind: 'manual' })]);
    expect((await stat(listed[0]!.path)).size).toBe(listed[0]!.bytes);

    await pgQuery('drop table orders', [], url);
    const restored = await settled((await call('POST', `/api/resources/claims/${claim.id}/restore`, {})).json<Operation>());
    expect(restored.phase, restored.error ?? '').toBe('succeeded');
    expect((await pgQuery<{ item: string }>('select item from orders order by id', [], url)).rows.map((r) => r.item)).toEqual(['tea', 'cake']);
    expect((await pgQuery<{ owner: string }>(`select tableowner as owner from pg_tables where tablename = 'orders'`, [], url)).rows[0]!.owner).toBe(role('data'));
    const events = await t.app.kernel.ledger.query({ kinds: ['resources.claim.backed-up', 'resources.claim.restored'], subject: `resource:${env}/data` }, 5);
    expect(events.map((e) => e.kind)).toEqual(['resources.claim.backed-up', 'resources.claim.restored']);

    // A corrupted file: pg_restore fails, the operation says so, and the data is as it was.
    await pgQuery(`insert into orders values (3, 'pie')`, [], url);
    const original = await readFile(listed[0]!.path);
    await writeFile(listed[0]!.path, original.subarray(0, Math.floor(original.length / 2)));
    const broken = await settled(await t.app.resources.restore(system, claim.id, { backupId: backup.backupId! }));
    expect(broken.phase).toBe('failed');
    expect(broken.error).toMatch(new RegExp(`pg_restore into ${role('data')} failed; the database is unchanged`));
    expect(Number((await pgQuery<{ n: string }>('select count(*) as n from orders', [], url)).rows[0]!.n)).toBe(3);
  });

  it('takes scheduled backups once per due time since the claim was ready, and removes them after the module’s retention', { timeout: 30_000 }, async () => {
    const yaml = (await readFile(new URL('../../modules/postgres.yaml', import.meta.url), 'utf8'))
      .replace('name: postgres\n', 'name: postgres-hourly\n')
      .replace('scoreTypes: [postgres, postgresql]', 'scoreTypes: []')
      .replace('backup: { schedule: "0 3 * * *", retentionDays: 7 }', 'backup: { schedule: "0 * * * *", retentionDays: 1 }');
    await t.app.resources.publishModule(system, yaml);
    const claim = await ready('hourly', 'postgres-hourly');
    const readyAt = new Date(claim.readyAt!);
    const due = new Date(readyAt);
    due.setUTCHours(due.getUTCHours() + 1, 0, 0, 0);

    // Before the first due time since ready: nothing; the scheduler sleeps until then at most.
    const early = await t.app.resources.operations.runSchedule(new Date(due.getTime() - 1000));
    expect(early.taken).toBe(0);
    expect(early.nextAt.getTime()).toBeLessThanOrEqual(due.getTime());
    const first = await t.app.resources.operations.runSchedule(new Date(due.getTime() + 30_000));
    expect(first.taken).toBeGreaterThanOrEqual(1);
    const again = await t.app.resources.operations.runSchedule(new Date(due.getTime() + 40_000));
    expect(again.taken).toBe(0);
    const backups = (await t.app.resources.claimBackups(system, claim.id)).filter((b) => b.kind === 'scheduled');
    expect(backups).toHaveLength(1);
    expect(new Date(backups[0]!.expiresAt).getTime() - new Date(backups[0]!.createdAt).getTime()).toBe(86_400_000);

    const removed = await t.app.resources.operations.sweepBackups(new Date(Date.now() + 2 * 86_400_000));
    expect(removed).toBeGreaterThanOrEqual(1);
    await expect(stat(backups[0]!.path)).rejects.toThrow(/ENOENT/);
    expect((await t.app.resources.claimBackups(system, claim.id)).filter((b) => b.kind === 'scheduled')).toEqual([]);
  });
});
