import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { connect as connectNats } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../test/helpers/dialects.js';
import { startGitTestApp, type GitTestApp } from '../../test/helpers/git.js';
import { until } from '../../test/helpers/kernel.js';
import type { ClaimView, PlanView } from './index.js';
import { pgQuery, requireService } from './testing/services.js';

const dialects = await testDialects();
const redisUrl = 'redis://127.0.0.1:6379';
const redisUp = await requireService('Redis at 127.0.0.1:6379', async () => {
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await probe.connect();
    await probe.ping();
  } finally {
    probe.disconnect();
  }
}, process.env);

const natsUp = await requireService('NATS JetStream at 127.0.0.1:4222', async () => {
  const nc = await connectNats({ servers: '127.0.0.1:4222', timeout: 2000, reconnect: false });
  try {
    await (await nc.jetstreamManager()).getAccountInfo();
  } finally {
    await nc.close();
  }
}, process.env);

describe.each(dialects)('/api/resources (%s)', (dialect) => {
  // The organisation of the git tests: alice in team-a, bob in team-b.
  let t: GitTestApp;
  let ana: string;
  let bob: string;
  // A fresh environment per run keeps the shared servers' names apart between dialects and reruns.
  const env = `t${Date.now().toString(36)}${dialect[0]}`;

  beforeAll(async () => {
    t = await startGitTestApp({ dialect });
    ana = t.tokens.alice;
    bob = t.tokens.bob;
  });
  afterAll(async () => {
    // Whatever a failed test left on the shared servers goes with the run.
    const leftovers = await pgQuery<{ datname: string }>('select datname from pg_database where datname like $1', [`pl\\_${env}\\_\\_%`]);
    for (const { datname } of leftovers.rows) await pgQuery(`drop database if exists "${datname}" with (force)`);
    const roles = await pgQuery<{ rolname: string }>('select rolname from pg_roles where rolname like $1', [`pl\\_${env}\\_\\_%`]);
    for (const { rolname } of roles.rows) await pgQuery(`drop role if exists "${rolname}"`);
    await t?.close();
  });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string | undefined, payload?: unknown) =>
    t.app.server.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const claimBody = (name: string, extra: Record<string, unknown> = {}) => ({ module: 'postgres', name, environment: env, tags: { owner: 'group:default/team-a', 'cost-center': 'cc-7' }, ...extra });
  async function settle(id: string, token = ana): Promise<ClaimView | undefined> {
    let claim: ClaimView | undefined;
    await until(async () => {
      const res = await call('GET', `/api/resources/claims/${id}`, token);
      if (res.statusCode === 404) return ((claim = undefined), true);
      claim = res.json<ClaimView>();
      return claim.phase === 'ready' || claim.phase === 'failed';
    }, 20_000, 50);
    return claim;
  }

  it('serves the module menu with presets, inputs and prices', async () => {
    const res = await call('GET', '/api/resources/modules', bob);
    expect(res.statusCode, res.body).toBe(200);
    const names = res.json<{ items: { name: string }[] }>().items.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['postgres', 'redis', 'nats-stream', 'secret']));
    const postgres = await call('GET', '/api/resources/modules/postgres', bob);
    expect(postgres.json()).toMatchObject({ version: '1.0.0', cost: { currency: 'EUR', monthly: { small: 15, medium: 60, large: 240 } }, presets: { medium: { connectionLimit: 40 } } });
  });

  it('plans a claim without creating or recording anything', async () => {
    const res = await call('POST', '/api/resources/plans', ana, claimBody('planned', { preset: 'medium' }));
    expect(res.statusCode, res.body).toBe(200);
    const plan = res.json<PlanView>();
    expect(plan).toMatchObject({ module: 'postgres', version: '1.0.0', preset: 'medium', inputs: { connectionLimit: 40 }, cost: { monthly: 60, currency: 'EUR' }, decision: { allowed: true, denials: [] } });
    expect(plan.creates[1]).toContain(`pl_${env}__planned`);
    expect((await call('GET', `/api/resources/claims?environment=${env}`, ana)).json<{ items: unknown[] }>().items).toEqual([]);
    expect((await pgQuery('select 1 from pg_database where datname = $1', [`pl_${env}__planned`])).rowCount).toBe(0);
  });

  it('refuses bad claims with the reason and creates nothing', async () => {
    const cases: [token: string | undefined, body: unknown, status: number, message: RegExp][] = [
      [undefined, claimBody('x1'), 401, /./],
      [ana, claimBody('x2', { module: 'oracle' }), 404, /no module named oracle; modules: .*postgres/],
      [ana, claimBody('x3', { version: '9' }), 404, /no version matching 9; versions: 1\.0\.0/],
      [ana, claimBody('x4', { inputs: { connectionLimit: 10_000 } }), 400, /inputs\.connectionLimit: must be <= 200/],
      [ana, claimBody('x5', { inputs: { superuser: true } }), 400, /unknown input "superuser"/],
      [ana, claimBody('x"; drop database postgres; --'), 400, /name/],
      [ana, claimBody('x6', { tags: { owner: 'group:default/team-a' } }), 400, /requires the tag\(s\) cost-center/],
      [ana, claimBody('x7', { tags: { owner: 'group:default/team-z', 'cost-center': 'cc-1' } }), 403, /reserved to its owner group:default\/team-z/],
      [bob, claimBody('x8'), 403, /reserved to its owner group:default\/team-a/],
      [ana, { ...claimBody('x9'), colour: 'blue' }, 400, /colour/],
    ];
    for (const [token, body, status, message] of cases) {
      const res = await call('POST', '/api/resources/claims', token, body);
      expect(res.statusCode, `${JSON.stringify(body)} → ${res.body}`).toBe(status);
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(message);
    }
    expect((await call('GET', `/api/resources/claims?environment=${env}`, ana)).json<{ items: unknown[] }>().items).toEqual([]);
    expect((await pgQuery('select datname from pg_database where datname like $1', [`pl\\_${env}\\_\\_x%`])).rowCount).toBe(0);
  });

  it('provisions a postgres database whose output credentials connect and create a table; the password never appears in responses', async () => {
    const created = await call('POST', '/api/resources/claims', ana, claimBody('orders-db', { inputs: { extensions: ['citext'] } }));
    expect(created.statusCode, created.body).toBe(201);
    const claim = await settle(created.json<{ claim: ClaimView }>().claim.id);
    expect(claim?.phase, claim?.lastError ?? '').toBe('ready');
    expect(claim!.outputs).toMatchObject({ host: '127.0.0.1', port: '5432', database: `pl_${env}__orders_db`, username: `pl_${env}__orders_db`, passwordRef: `claim.${env}.orders-db/password` });
    expect(claim!.provisionMs).toBeGreaterThanOrEqual(0);

    const revealed = await call('POST', `/api/resources/secrets/claim.${env}.orders-db/reveal`, ana);
    expect(revealed.statusCode, revealed.body).toBe(200);
    const { password, url } = revealed.json<{ data: { password: string; url: string } }>().data;
    expect(password.length).toBeGreaterThanOrEqual(24);
    await pgQuery('create table orders (id serial primary key, email citext not null)', [], url);
    await pgQuery(`insert into orders (email) values ('A@b.c')`, [], url);
    expect((await pgQuery<{ n: number }>(`select count(*)::int as n from orders where email = 'a@b.c'`, [], url)).rows[0]!.n).toBe(1);
    // PUBLIC may not connect: another claim's role (or any other role) is refused.
    expect((await pgQuery<{ ok: boolean }>(`select has_database_privilege('public', $1, 'CONNECT') as ok`, [claim!.outputs.database])).rows[0]!.ok).toBe(false);

    // Everything the API says about the claim and the secret, except the owner's explicit reveal, is free of the password.
    for (const path of [`/api/resources/claims/${claim!.id}`, `/api/resources/claims?environment=${env}`, '/api/resources/secrets', `/api/resources/secrets/claim.${env}.orders-db`, '/api/events?limit=1000', '/api/jobs?limit=500', '/api/audit?limit=500']) {
      const res = await call('GET', path, t.adminToken);
      expect(res.body, path).not.toContain(password);
    }
    expect((await call('POST', `/api/resources/secrets/claim.${env}.orders-db/reveal`, bob)).statusCode).toBe(403);
    expect((await call('GET', `/api/resources/secrets/claim.${env}.orders-db`, bob)).statusCode).toBe(404);
    const events = await t.app.kernel.ledger.query({ kinds: ['resources.claim.provisioned'], subject: `resource:${env}/orders-db` }, 10);
    expect(events[0]?.payload).toMatchObject({ claimId: claim!.id, provisionMs: claim!.provisionMs });
  });

  it('counts the team’s committed spend against its budget and refuses a claim over it, with the numbers, creating nothing', async () => {
    expect((await call('PUT', '/api/policy/budgets/team/team-a', t.adminToken, { monthlyLimit: 50, currency: 'EUR' })).statusCode).toBe(200);
    const refused = await call('POST', '/api/resources/claims', ana, claimBody('too-big', { preset: 'medium' }));
    expect(refused.statusCode, refused.body).toBe(403);
    const message = refused.json<{ error: { message: string } }>().error.message;
    expect(message).toContain('team-budget');
    expect(message).toMatch(/budget of 50 EUR\/month; 15 is committed and this claim adds 60, which would make 75 \(over by 25\)/);
    expect((await call('GET', `/api/resources/claims?environment=${env}&name=too-big`, ana)).json<{ items: unknown[] }>().items).toEqual([]);
    expect((await pgQuery('select 1 from pg_database where datname = $1', [`pl_${env}__too_big`])).rowCount).toBe(0);
    const costs = await call('GET', '/api/resources/costs?by=team', ana);
    expect(costs.json<{ items: unknown[] }>().items).toContainEqual({ key: 'group:default/team-a', monthly: 15, currency: 'EUR', claims: 1 });
    await call('DELETE', '/api/policy/budgets/team/team-a', t.adminToken);
  });

  it('a name already claimed in the environment is a conflict', async () => {
    const res = await call('POST', '/api/resources/claims', ana, claimBody('orders-db'));
    expect(res.statusCode, res.body).toBe(409);
  });

  it('detects drift when the database is dropped outside Plinth', async () => {
    const [claim] = (await call('GET', `/api/resources/claims?environment=${env}&name=orders-db`, ana)).json<{ items: ClaimView[] }>().items;
    expect((await call('POST', '/api/resources/drift/check', t.adminToken)).json()).toMatchObject({ drifted: 0 });
    await pgQuery(`revoke all on database "${claim!.outputs.database}" from public`);
    await pgQuery(`grant connect on database "${claim!.outputs.database}" to public`);
    const check = await call('POST', '/api/resources/drift/check', t.adminToken);
    expect(check.json()).toMatchObject({ drifted: 1 });
    const drifted = (await call('GET', `/api/resources/claims/${claim!.id}`, ana)).json<ClaimView>();
    expect(drifted.drift?.problems).toEqual([`database ${claim!.outputs.database} grants CONNECT to PUBLIC`]);
    expect(await t.app.kernel.ledger.query({ kinds: ['resources.drift.detected'] }, 10)).toHaveLength(1);
    await pgQuery(`revoke all on database "${claim!.outputs.database}" from public`);
  });

  it('deprovisions with a final pg_dump kept for the retention period, and the database, role and secret are gone', async () => {
    const [claim] = (await call('GET', `/api/resources/claims?environment=${env}&name=orders-db`, ana)).json<{ items: ClaimView[] }>().items;
    expect((await call('DELETE', `/api/resources/claims/${claim!.id}`, bob)).statusCode).toBe(403);
    const deleting = await call('DELETE', `/api/resources/claims/${claim!.id}`, ana);
    expect(deleting.statusCode, deleting.body).toBe(202);
    expect(deleting.json<ClaimView>().phase).toBe('deleting');
    expect(await settle(claim!.id)).toBeUndefined();
    const backups = (await call('GET', '/api/resources/backups', ana)).json<{ items: { claimId: string; path: string; bytes: number; expiresAt: string; createdAt: string }[] }>().items;
    const backup = backups.find((b) => b.claimId === claim!.id);
    expect(backup && existsSync(backup.path)).toBe(true);
    expect(backup!.bytes).toBeGreaterThan(0);
    expect(Date.parse(backup!.expiresAt) - Date.parse(backup!.createdAt)).toBe(7 * 86_400_000);
    expect((await pgQuery('select 1 from pg_database where datname = $1', [claim!.outputs.database])).rowCount).toBe(0);
    expect((await pgQuery('select 1 from pg_roles where rolname = $1', [claim!.outputs.username])).rowCount).toBe(0);
    expect(await t.app.resources.secretSource(`claim.${env}.orders-db/password`)).toBeUndefined();
  });

  it.skipIf(!redisUp)('provisions a Redis ACL user that can only touch its own key prefix', async () => {
    const created = await call('POST', '/api/resources/claims', ana, claimBody('sessions', { module: 'redis' }));
    expect(created.statusCode, created.body).toBe(201);
    const claim = await settle(created.json<{ claim: ClaimView }>().claim.id);
    expect(claim?.phase, claim?.lastError ?? '').toBe('ready');
    const password = await t.app.resources.secretSource(`claim.${env}.sessions/password`);
    const user = new Redis({ host: '127.0.0.1', port: 6379, username: claim!.outputs.username, password, maxRetriesPerRequest: 0 });
    try {
      const prefix = claim!.outputs.keyPrefix!;
      expect(prefix).toBe(`${env}:sessions:`);
      expect(await user.set(`${prefix}k`, 'v')).toBe('OK');
      expect(await user.get(`${prefix}k`)).toBe('v');
      await expect(user.set('someone-else:k', 'v')).rejects.toThrow(/NOPERM/);
      await expect(user.get(`${env}:other:k`)).rejects.toThrow(/NOPERM/);
      await expect(user.flushall()).rejects.toThrow(/NOPERM/);
      await expect(user.keys('*')).rejects.toThrow(/NOPERM/);
    } finally {
      user.disconnect();
    }
    // Drift: grants widened and a password set outside Plinth are seen (asked of the server, not read from its rule text).
    const username = claim!.outputs.username!;
    expect(await t.app.resources.controller.checkDrift(claim!)).toEqual([]);
    const operator = new Redis(redisUrl);
    try {
      await operator.call('ACL', 'SETUSER', username, '+@all', 'allchannels');
      expect(await t.app.resources.controller.checkDrift(claim!)).toEqual([
        `ACL user ${username} may run FLUSHALL (widened outside Plinth)`,
        `ACL user ${username} may run CONFIG (widened outside Plinth)`,
        `ACL user ${username} may run KEYS (widened outside Plinth)`,
        `ACL user ${username} may run ACL (widened outside Plinth)`,
        `ACL user ${username} may run SHUTDOWN (widened outside Plinth)`,
        `ACL user ${username} may run PUBLISH to ${env}:sessions-outside:x (widened outside Plinth)`,
        `ACL user ${username} may run PUBLISH to ${env}:sessions:x (widened outside Plinth)`,
      ]);
      await operator.call('ACL', 'SETUSER', username, 'resetpass', '>set-by-hand');
      expect(await t.app.resources.controller.checkDrift(claim!)).toContain(`ACL user ${username}'s password is not the stored one (changed outside Plinth)`);
    } finally {
      operator.disconnect();
    }
    expect((await call('DELETE', `/api/resources/claims/${claim!.id}`, ana)).statusCode).toBe(202);
    expect(await settle(claim!.id)).toBeUndefined();
    const admin = new Redis(redisUrl);
    try {
      expect(await admin.call('ACL', 'GETUSER', claim!.outputs.username!)).toBeNull();
      expect(await admin.exists(`${env}:sessions:k`)).toBe(0);
    } finally {
      admin.disconnect();
    }
  });

  it.skipIf(!natsUp)('provisions a JetStream stream on the claim’s subjects with the preset’s limits', async () => {
    const created = await call('POST', '/api/resources/claims', ana, claimBody('events', { module: 'nats-stream', preset: 'medium' }));
    expect(created.statusCode, created.body).toBe(201);
    const claim = await settle(created.json<{ claim: ClaimView }>().claim.id);
    expect(claim?.phase, claim?.lastError ?? '').toBe('ready');
    expect(claim!.outputs).toMatchObject({ stream: `PL_${env.toUpperCase()}__EVENTS`, subjects: `${env}.events.>` });
    const nc = await connectNats({ servers: '127.0.0.1:4222' });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(claim!.outputs.stream!);
      expect(info.config).toMatchObject({ subjects: [`${env}.events.>`], max_bytes: 1073741824, max_msgs: 1000000 });
      await nc.jetstream().publish(`${env}.events.order-placed`, new TextEncoder().encode('{}'));
      expect((await jsm.streams.info(claim!.outputs.stream!)).state.messages).toBe(1);
      expect((await call('DELETE', `/api/resources/claims/${claim!.id}`, ana)).statusCode).toBe(202);
      expect(await settle(claim!.id)).toBeUndefined();
      await expect(jsm.streams.info(claim!.outputs.stream!)).rejects.toThrow(/not found/);
    } finally {
      await nc.close();
    }
  });

  it('keeps team secrets write-only: metadata for the team, the value only to an owner’s reveal and the runtime', async () => {
    const created = await call('POST', '/api/resources/secrets', ana, { name: `${env}-api-key`, owner: 'group:default/team-a', value: 'sk-live-0123456789' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.body).not.toContain('sk-live');
    expect(created.json()).toMatchObject({ owner: 'group:default/team-a', keys: ['value'], version: 1 });
    expect((await call('POST', '/api/resources/secrets', bob, { name: `${env}-bobs`, owner: 'group:default/team-a', value: 'x' })).statusCode).toBe(403);
    expect((await call('POST', '/api/resources/secrets', ana, { name: `claim.${env}.fake`, owner: 'group:default/team-a', value: 'x' })).statusCode).toBe(400);
    expect((await call('POST', '/api/resources/secrets', ana, { name: `${env}-api-key`, owner: 'group:default/team-a', value: 'x' })).statusCode).toBe(409);
    const rotated = await call('PUT', `/api/resources/secrets/${env}-api-key`, ana, { value: 'sk-live-rotated' });
    expect(rotated.json()).toMatchObject({ version: 2 });
    expect(await t.app.resources.secretSource(`${env}-api-key`)).toBe('sk-live-rotated');
    expect((await call('GET', '/api/resources/secrets', bob)).json<{ items: unknown[] }>().items).toEqual([]);
    const revealed = await call('POST', `/api/resources/secrets/${env}-api-key/reveal`, ana);
    expect(revealed.json()).toEqual({ name: `${env}-api-key`, version: 2, data: { value: 'sk-live-rotated' } });
    expect(await t.app.kernel.ledger.query({ kinds: ['resources.secret.revealed'], subject: `secret:${env}-api-key` }, 10)).toHaveLength(1);
    const events = await call('GET', '/api/events?limit=1000', t.adminToken);
    expect(events.body).not.toContain('sk-live');
    expect((await call('DELETE', `/api/resources/secrets/${env}-api-key`, ana)).statusCode).toBe(204);
  });
  it('lists claims a page at a time by environment and name, filtered by provider, and refuses a malformed cursor', async () => {
    const pages = `${env}p`;
    const tags = { owner: 'group:default/team-a', 'cost-center': 'cc-7' };
    for (const name of ['key-c', 'key-a', 'key-b']) {
      const res = await call('POST', '/api/resources/claims', ana, { module: 'secret', name, environment: pages, tags });
      expect(res.statusCode, res.body).toBe(201);
    }
    const first = (await call('GET', `/api/resources/claims?environment=${pages}&provider=secret&limit=2`, ana)).json<{ items: ClaimView[]; next?: string }>();
    expect(first.items.map((c) => c.name)).toEqual(['key-a', 'key-b']);
    expect(first.next).toBe(`${pages}/key-b`);
    const second = (await call('GET', `/api/resources/claims?environment=${pages}&provider=secret&limit=2&after=${encodeURIComponent(first.next!)}`, ana)).json<{ items: ClaimView[]; next?: string }>();
    expect(second.items.map((c) => c.name)).toEqual(['key-c']);
    expect(second.next).toBeUndefined();
    expect((await call('GET', `/api/resources/claims?environment=${pages}&provider=postgres`, ana)).json<{ items: unknown[] }>().items).toEqual([]);
    const bad = await call('GET', `/api/resources/claims?after=${encodeURIComponent('../x')}`, ana);
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { message: string } }>().error.message).toContain('after is <environment>/<claim name>');
    for (const c of [...first.items, ...second.items]) expect((await call('DELETE', `/api/resources/claims/${c.id}`, ana)).statusCode).toBe(202);
  });
});
