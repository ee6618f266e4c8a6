import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { connect, createServer } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { until } from '../../test/helpers/kernel.js';
import type { Principal } from '../kernel/index.js';
import type { Claim, Operation } from './index.js';
import { certificateHosts } from './providers/tls.js';
import { requireService } from './testing/services.js';

// TLS certificates from the internal CA (the openssl command signs) and gateway host names.

const opensslUp = await requireService('the openssl command', async () => void (await promisify(execFile)('openssl', ['version'])), process.env);
const system: Principal = { kind: 'system', name: 'test' };
const env = `c${Date.now().toString(36)}`;
const tags = { owner: 'group:default/team-a', 'cost-center': 'cc-1' };

describe.runIf(opensslUp)('TLS certificates and DNS names', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite' });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function ready(module: string, name: string, extra: { preset?: 'small' | 'medium' | 'large'; inputs?: Record<string, unknown> } = {}): Promise<Claim> {
    const { claim } = await t.app.resources.claim(system, { module, name, environment: env, inputs: extra.inputs ?? {}, preset: extra.preset, tags });
    await until(async () => ['ready', 'failed'].includes((await t.app.resources.getClaim(system, claim.id)).phase), 20_000, 25);
    const done = await t.app.resources.getClaim(system, claim.id);
    expect(done.phase, done.lastError ?? '').toBe('ready');
    return done;
  }
  const secret = async (name: string, key: string) => (await t.app.resources.secretSource(`claim.${env}.${name}/${key}`))!;

  it('issues a certificate for the service host that a TLS client trusts through the internal CA', async () => {
    const claim = await ready('tls-certificate', 'web');
    const host = `web.${env}.localhost`;
    expect(claim.outputs).toEqual({ hosts: host, secretRef: `claim.${env}.web`, certRef: `claim.${env}.web/tls.crt`, keyRef: `claim.${env}.web/tls.key`, caRef: `claim.${env}.web/ca.crt` });
    const cert = new X509Certificate(await secret('web', 'tls.crt'));
    const ca = new X509Certificate(await secret('web', 'ca.crt'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(certificateHosts(cert)).toEqual([host]);
    expect(cert.checkPrivateKey(createPrivateKey(await secret('web', 'tls.key')))).toBe(true);
    const days = (new Date(cert.validTo).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);

    // A real handshake: the client checks the chain against ca.crt and the name against the SAN.
    const server = createServer({ cert: await secret('web', 'tls.crt'), key: await secret('web', 'tls.key') }, (socket) => socket.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, servername: host, ca: [ca.toString()] }, () => socket.once('data', (d: Buffer) => resolve(d.toString())));
        socket.once('error', reject);
      });
      expect(answer).toBe('ok');
      const wrongName = await new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port, servername: `other.${env}.localhost`, ca: [ca.toString()] }, () => resolve('connected'));
        socket.once('error', (err) => resolve(err.message));
      });
      expect(wrongName).toMatch(/Hostname\/IP does not match/);
    } finally {
      server.close();
    }
    expect(await t.app.resources.controller.checkDrift(claim)).toEqual([]);
  });

  it('signs every certificate with the one internal CA, whose name nobody can take over', async () => {
    const planted = await t.app.server.inject({ method: 'POST', url: '/api/resources/secrets', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { name: 'plinth.internal-ca', owner: 'group:default/team-a', data: { 'ca.crt': 'x', 'ca.key': 'y' } } });
    expect(planted.statusCode, planted.body).toBe(400);
    expect(planted.json<{ error: { message: string } }>().error.message).toMatch(/"plinth\." secrets belong to the platform/);
    await ready('tls-certificate', 'api', { inputs: { hosts: [`api.${env}.localhost`, `*.api.${env}.localhost`] } });
    expect(await secret('api', 'ca.crt')).toBe(await secret('web', 'ca.crt'));
    expect(certificateHosts(new X509Certificate(await secret('api', 'tls.crt')))).toEqual([`api.${env}.localhost`, `*.api.${env}.localhost`]);
  });

  it('refuses host names outside the claim’s environment or that would inject, and impossible renewal windows', async () => {
    const cases: [inputs: Record<string, unknown>, message: RegExp][] = [
      [{ hosts: [`web.prod.localhost`] }, /"web\.prod\.localhost" is not a host name of environment/],
      [{ hosts: [`a.${env}.localhost,DNS:evil.example`] }, /inputs\.hosts\.0: must match pattern/],
      [{ hosts: [`a.${env}.localhost\nbasicConstraints=CA:TRUE`] }, /must match pattern/],
      [{ validityDays: 10, renewBeforeDays: 10 }, /renewBeforeDays: must be less than validityDays/],
    ];
    for (const [inputs, message] of cases) {
      const res = await t.app.server.inject({ method: 'POST', url: '/api/resources/claims', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { module: 'tls-certificate', name: 'bad', environment: env, inputs, tags } });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(message);
    }
    expect(await t.app.resources.listClaims(system, { environment: env, name: 'bad', limit: 1 })).toEqual([]);
  });

  it('renews a certificate before it expires: a new secret version and a rotated event, once', async () => {
    const claim = await ready('tls-certificate', 'renewed', { preset: 'small' });
    const first = new X509Certificate(await secret('renewed', 'tls.crt'));
    const notYet = await t.app.resources.operations.runSchedule(new Date(Date.now() + 19 * 86_400_000));
    expect(notYet.renewed).toBe(0);
    const due = await t.app.resources.operations.runSchedule(new Date(Date.now() + 21 * 86_400_000));
    expect(due.renewed).toBe(1);
    const [op] = await t.app.resources.listOperations(system, claim.id);
    let current: Operation = op!;
    await until(async () => (current = await t.app.resources.getOperation(system, claim.id, op!.id)).phase !== 'queued', 10_000, 25);
    expect(current).toMatchObject({ kind: 'rotate', phase: 'succeeded', createdBy: 'system:resources' });
    const second = new X509Certificate(await secret('renewed', 'tls.crt'));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect((await t.app.resources.secrets.get(system, `claim.${env}.renewed`)).version).toBe(2);
    const [rotated] = await t.app.kernel.ledger.query({ kinds: ['resources.secret.rotated'], subject: `resource:${env}/renewed` }, 5);
    // What the delivery layer restarts the certificate's readers on (as for a rotated password).
    expect(rotated?.payload).toMatchObject({ claimId: claim.id, name: `claim.${env}.renewed`, secretRef: `claim.${env}.renewed`, version: 2 });
    // The renewed certificate is due only in its own renewal window.
    expect(new Date(second.validTo).getTime()).toBeGreaterThanOrEqual(new Date(first.validTo).getTime());
    expect((await t.app.resources.operations.runSchedule(new Date(Date.now() + 19 * 86_400_000))).renewed).toBe(0);
    expect(await t.app.resources.listOperations(system, claim.id)).toHaveLength(1);
  });

  it('reserves a gateway host name per claim and refuses a second claim of the same host', async () => {
    const claim = await ready('dns', 'shop');
    expect(claim.outputs).toEqual({ host: `shop.${env}.localhost` });
    const res = await t.app.server.inject({ method: 'POST', url: '/api/resources/claims', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { module: 'dns', name: 'shop-alias', environment: env, inputs: { service: 'shop' }, tags } });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json<{ error: { message: string } }>().error.message).toBe(`host shop.${env}.localhost is held by claim ${env}/shop of group:default/team-a`);
  });

  it('issues certificates only for host names of the claiming team', async () => {
    const other = { owner: 'group:default/team-b', 'cost-center': 'cc-2' };
    const taken = await t.app.server.inject({ method: 'POST', url: '/api/resources/claims', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { module: 'tls-certificate', name: 'fake-shop', environment: env, inputs: { hosts: [`shop.${env}.localhost`] }, tags: other } });
    expect(taken.statusCode, taken.body).toBe(409);
    expect(taken.json<{ error: { message: string } }>().error.message).toBe(`host shop.${env}.localhost belongs to group:default/team-a (claim ${env}/shop); name a host of your own`);
    // The team that reserved the name gets its certificate.
    await ready('tls-certificate', 'shop-tls', { inputs: { hosts: [`shop.${env}.localhost`] } });
    const stolen = await t.app.server.inject({ method: 'POST', url: '/api/resources/claims', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { module: 'tls-certificate', name: 'api-copy', environment: env, inputs: { hosts: [`*.api.${env}.localhost`] }, tags: other } });
    expect(stolen.statusCode).toBe(409);
  });
});
