import { readFile } from 'node:fs/promises';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { until } from '../../test/helpers/kernel.js';
import type { Principal } from '../kernel/index.js';
import type { Claim, Operation } from './index.js';
import { rabbitPasswordMatches } from './providers/rabbitmq.js';
import { requireService } from './testing/services.js';

// The RabbitMQ provider on the real server (127.0.0.1:5672, management API on 15672, guest/guest).

const management = 'http://127.0.0.1:15672';
const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const rabbitUp = await requireService('the RabbitMQ management API at 127.0.0.1:15672 (rabbitmq-plugins enable rabbitmq_management)', async () => {
  const res = await fetch(`${management}/api/overview`, { headers: { authorization: auth }, signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`answered ${res.status}`);
}, process.env);

const system: Principal = { kind: 'system', name: 'test' };
const env = `r${Date.now().toString(36)}`;
const vhost = (name: string) => `pl_${env}__${name.replaceAll('-', '_')}`;

async function rabbit<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${management}/api/${path}`, { method, headers: { authorization: auth, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Publishes one message to a fresh queue and reads it back, as the claim's user would. */
async function roundTrip(url: string): Promise<string> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    channel.sendToQueue(queue, Buffer.from('hello'));
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const message = await channel.get(queue, { noAck: true });
      if (message) return message.content.toString();
      await new Promise((r) => setTimeout(r, 20));
    }
    return '';
  } finally {
    await connection.close();
  }
}

async function refusal(url: string): Promise<string> {
  try {
    const connection = await amqp.connect(url);
    await connection.close();
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

describe.runIf(rabbitUp)('RabbitMQ vhost claims', () => {
  let t: TestApp;
  const claims: Claim[] = [];
  const tags = { owner: 'group:default/team-a', 'cost-center': 'cc-1' };

  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite' });
  });
  afterAll(async () => {
    for (const name of ['orders', 'rotated', 'kept']) {
      await rabbit('DELETE', `vhosts/${vhost(name)}`);
      await rabbit('DELETE', `users/${vhost(name)}`);
    }
    await t?.close();
  });

  async function ready(name: string, inputs: Record<string, unknown> = {}): Promise<Claim> {
    const { claim } = await t.app.resources.claim(system, { module: 'rabbitmq-vhost', name, environment: env, inputs, tags });
    await until(async () => ['ready', 'failed'].includes((await t.app.resources.getClaim(system, claim.id)).phase), 20_000, 25);
    const done = await t.app.resources.getClaim(system, claim.id);
    expect(done.phase, done.lastError ?? '').toBe('ready');
    claims.push(done);
    return done;
  }
  async function settled(op: Operation): Promise<Operation> {
    let current = op;
    await until(async () => (current = await t.app.resources.getOperation(system, op.claimId, op.id)).phase !== 'queued', 20_000, 25);
    return current;
  }

  it('creates a vhost, a user with permissions on it only, and limits; the credentials publish and consume there and nowhere else', async () => {
    const claim = await ready('orders');
    const name = vhost('orders');
    expect(claim.outputs).toEqual({ host: '127.0.0.1', port: '5672', vhost: name, username: name, passwordRef: `claim.${env}.orders/password`, urlRef: `claim.${env}.orders/url`, url: `amqp://${name}@127.0.0.1:5672/${name}` });
    const url = (await t.app.resources.secretSource(`claim.${env}.orders/url`))!;
    expect(url).toMatch(new RegExp(`^amqp://${name}:[^@]+@127\\.0\\.0\\.1:5672/${name}$`));
    expect(await roundTrip(url)).toBe('hello');
    // The same user cannot open the default vhost.
    const other = new URL(url);
    other.pathname = '/%2f';
    expect(await refusal(other.toString())).toMatch(/ACCESS_REFUSED|ConnectionClose/);
    expect((await rabbit<{ value: Record<string, number> }[]>('GET', `vhost-limits/${name}`)).body[0]!.value).toEqual({ 'max-connections': 20, 'max-queues': 50 });
    const user = (await rabbit<{ tags: string[] }>('GET', `users/${name}`)).body;
    expect(user.tags).toEqual([]);
    expect((await t.app.kernel.ledger.query({ kinds: ['resources.claim.provisioned'], subject: `resource:${env}/orders` }, 5))[0]?.payload).toMatchObject({ module: 'rabbitmq-vhost' });
  });

  it('repairs a deleted vhost, a password changed outside Plinth and widened permissions, and records the drift', async () => {
    const claim = claims.find((c) => c.name === 'orders')!;
    const name = vhost('orders');
    await rabbit('DELETE', `vhosts/${name}`);
    await rabbit('PUT', `users/${name}`, { password: 'changed-by-hand', tags: 'administrator' });
    await rabbit('PUT', `permissions/%2f/${name}`, { configure: '.*', write: '.*', read: '.*' });

    const problems = await t.app.resources.controller.checkDrift(await t.app.resources.getClaim(system, claim.id));
    expect(problems).toEqual(
      expect.arrayContaining([`vhost ${name} does not exist`, `user ${name} has the tags administrator, not none`, `user ${name}'s password is not the stored one (changed outside Plinth)`, `user ${name} has permissions on vhost /`]),
    );
    const events = await t.app.kernel.ledger.query({ kinds: ['resources.drift.detected', 'resources.drift.repaired'], subject: `resource:${env}/orders` }, 10);
    expect(events.map((e) => e.kind)).toEqual(['resources.drift.detected', 'resources.drift.repaired']);
    expect(events[1]!.payload).toMatchObject({ remaining: [] });
    expect((await t.app.resources.getClaim(system, claim.id)).drift).toBeNull();
    // Back as declared: the stored credentials work, the extra permission and tag are gone.
    expect(await roundTrip((await t.app.resources.secretSource(`claim.${env}.orders/url`))!)).toBe('hello');
    expect((await rabbit<{ vhost: string }[]>('GET', `users/${name}/permissions`)).body.map((p) => p.vhost)).toEqual([name]);
    expect((await rabbit<{ tags: string[] }>('GET', `users/${name}`)).body.tags).toEqual([]);
    expect(await t.app.resources.controller.checkDrift(await t.app.resources.getClaim(system, claim.id))).toEqual([]);
  });

  it('refuses names that would reach another vhost or inject, and creates nothing', async () => {
    for (const name of ['a/b', '%2f', 'x"', '..', 'A']) {
      const res = await t.app.server.inject({ method: 'POST', url: '/api/resources/claims', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { module: 'rabbitmq-vhost', name, environment: env, tags } });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(/name/);
    }
    const vhosts = (await rabbit<{ name: string }[]>('GET', 'vhosts')).body.map((v) => v.name).filter((n) => n.startsWith(`pl_${env}`));
    expect(vhosts).toEqual([vhost('orders')]);
  });

  it('rotates the password: the new one works at once, the old one is refused, and its connections close after the grace period', { timeout: 30_000 }, async () => {
    const claim = await ready('rotated');
    const oldUrl = (await t.app.resources.secretSource(`claim.${env}.rotated/url`))!;
    const old = await amqp.connect(oldUrl);
    let closed = false;
    old.on('close', () => (closed = true));
    old.on('error', () => undefined);
    // The management API lists a connection once its statistics are collected (every 5 s by default);
    // with a real grace period (an hour) that has long happened, here the test waits for it.
    await until(async () => (await rabbit<unknown[]>('GET', `vhosts/${vhost('rotated')}/connections`)).body.length === 1, 10_000, 100);

    const res = await t.app.server.inject({ method: 'POST', url: `/api/resources/claims/${claim.id}/rotate`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: { graceSeconds: 1 } });
    expect(res.statusCode, res.body).toBe(202);
    const op = await settled(res.json<Operation>());
    expect(op.phase, op.error ?? '').toBe('succeeded');
    expect(op.detail).toMatch(/password version 2 is active; the old one is revoked at/);
    const newUrl = (await t.app.resources.secretSource(`claim.${env}.rotated/url`))!;
    expect(newUrl).not.toBe(oldUrl);
    expect(await roundTrip(newUrl)).toBe('hello');
    expect(await refusal(oldUrl)).toMatch(/ACCESS_REFUSED|authentication|refused/i);
    const rotated = await t.app.kernel.ledger.query({ kinds: ['resources.secret.rotated'], subject: `resource:${env}/rotated` }, 5);
    expect(rotated[0]?.payload).toMatchObject({ claimId: claim.id, secretRef: `claim.${env}.rotated/password`, version: 2 });
    expect(closed).toBe(false);

    // The connection opened with the old password is closed by the revoke job once the grace period ends.
    await until(() => closed, 15_000, 50);
    await until(async () => (await t.app.kernel.ledger.query({ kinds: ['resources.secret.revoked'], subject: `resource:${env}/rotated` }, 5)).length === 1, 5_000, 50);
    const revoked = await t.app.kernel.ledger.query({ kinds: ['resources.secret.revoked'], subject: `resource:${env}/rotated` }, 5);
    expect(revoked[0]!.payload).toMatchObject({ version: 1, closedSessions: 1 });
  });

  it('backs up the vhost definitions, restores them after a queue is lost, and keeps a final backup on delete', { timeout: 30_000 }, async () => {
    const claim = await ready('kept');
    const name = vhost('kept');
    const url = (await t.app.resources.secretSource(`claim.${env}.kept/url`))!;
    const connection = await amqp.connect(url);
    const channel = await connection.createChannel();
    await channel.assertQueue('orders.created', { durable: true });
    await connection.close();

    const backup = await settled(await t.app.resources.backup(system, claim.id));
    expect(backup.phase, backup.error ?? '').toBe('succeeded');
    const [kept] = await t.app.resources.claimBackups(system, claim.id);
    expect(kept).toMatchObject({ id: backup.backupId, kind: 'manual' });
    expect(JSON.parse(await readFile(kept!.path, 'utf8'))).toMatchObject({ queues: [expect.objectContaining({ name: 'orders.created' })] });

    expect((await rabbit('DELETE', `queues/${name}/orders.created`)).status).toBe(204);
    const restored = await settled(await t.app.resources.restore(system, claim.id, {}));
    expect(restored.phase, restored.error ?? '').toBe('succeeded');
    expect(restored.backupId).toBe(backup.backupId);
    expect((await rabbit('GET', `queues/${name}/orders.created`)).status).toBe(200);

    await t.app.resources.deleteClaim(system, claim.id);
    await until(async () => (await t.app.resources.listClaims(system, { environment: env, name: 'kept', limit: 5 })).length === 0, 20_000, 50);
    expect((await rabbit('GET', `vhosts/${name}`)).status).toBe(404);
    expect((await rabbit('GET', `users/${name}`)).status).toBe(404);
    const final = (await t.app.resources.backups(system)).find((b) => b.claimId === claim.id && b.kind === 'final');
    expect(JSON.parse(await readFile(final!.path, 'utf8'))).toMatchObject({ queues: [expect.objectContaining({ name: 'orders.created' })] });
  });

  it('lists the providers with whether their servers can be used', async () => {
    const res = await t.app.server.inject({ method: 'GET', url: '/api/resources/providers', headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<{ items: unknown[] }>().items).toEqual(expect.arrayContaining([{ name: 'rabbitmq', available: true, reason: null }, { name: 'secret', available: true, reason: null }]));
    expect((await t.app.server.inject({ method: 'GET', url: '/api/resources/providers' })).statusCode).toBe(401);
  });

  it('satisfies Score resources of type amqp', async () => {
    const { claims: made, unsupported } = await t.app.resources.claimsFromScore({ metadata: { name: 'shop' }, resources: { bus: { type: 'amqp' } } }, { environment: env, owner: 'group:default/team-a', costCenter: 'cc-1' });
    expect(unsupported).toEqual([]);
    expect(made[0]?.claim).toMatchObject({ module: 'rabbitmq-vhost', name: 'shop-bus' });
  });
});

describe('RabbitMQ password hashes', () => {
  it('matches a management API password_hash only with its password', () => {
    // Made by RabbitMQ 3.10 for the password "abc".
    const hash = '+L4GmQKtqfUYUxj2CoIy/zipO4TEGEZE2NRYZZfq+Ep+Y1Xd';
    expect(rabbitPasswordMatches(hash, 'rabbit_password_hashing_sha256', 'abc')).toBe(true);
    expect(rabbitPasswordMatches(hash, 'rabbit_password_hashing_sha256', 'abd')).toBe(false);
    expect(rabbitPasswordMatches(hash, 'rabbit_password_hashing_unknown', 'abc')).toBe(false);
  });
});
