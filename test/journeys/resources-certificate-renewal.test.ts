import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/kernel/index.js';
import type { RolloutView } from '../../src/delivery/index.js';
import { requireService } from '../../src/resources/testing/services.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/kernel.js';
import { signFixtureArtifact } from '../helpers/signing.js';

// A certificate from the internal CA renewed before expiry reaches the workload that reads it (issue 8:
// "TLS certificates … renewed before expiry"): the renewal's rotated event restarts the service, and the
// new process holds the new certificate in its environment.

const opensslUp = await requireService('the openssl command', async () => void (await promisify(execFile)('openssl', ['version'])), process.env);
const fixtureDir = new URL('../fixtures/runtime/', import.meta.url).pathname;
const system: Principal = { kind: 'system', name: 'test' };

function gatewayGet(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The certificate a workload process was started with (its TLS_CERT variable, read from /proc). */
async function certificateOf(pid: number): Promise<X509Certificate> {
  const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
  const value = environ.find((e) => e.startsWith('TLS_CERT='))!.slice('TLS_CERT='.length);
  return new X509Certificate(value);
}

describe.runIf(opensslUp)('certificate renewal reaches the workload', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite', listen: true });
  }, 60_000);
  afterAll(async () => t?.close(), 30_000);

  it('restarts the service that reads a renewed certificate, and the new process has the new one', { timeout: 120_000 }, async () => {
    const { claim } = await t.app.resources.claim(system, { module: 'tls-certificate', name: 'web', environment: 'staging', preset: 'small', inputs: {}, tags: { owner: 'group:default/team-a', 'cost-center': 'cc-1' } });
    await until(async () => (await t.app.resources.getClaim(system, claim.id)).phase === 'ready', 20_000, 25);
    const issued = new X509Certificate((await t.app.resources.secretSource('claim.staging.web/tls.crt'))!);

    const digest = await signFixtureArtifact(t.app, { kind: 'directory', path: fixtureDir });
    const spec = {
      service: 'web', environment: 'staging', version: '1.0.0', artifact: { kind: 'directory', path: fixtureDir, digest }, command: [process.execPath, 'server.mjs'],
      readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 10_000 }, requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' },
      labels: { owner: 'team-a', 'cost-center': 'cc-1' }, terminationGraceMs: 1000,
      secrets: [{ env: 'TLS_CERT', ref: 'claim.staging.web/tls.crt' }],
    };
    const started = await t.app.server.inject({ method: 'POST', url: '/api/delivery/rollouts', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { spec } });
    expect(started.statusCode, started.body).toBe(201);
    const port = t.app.runtime.gatewayPort()!;
    const before = JSON.parse((await gatewayGet(port, 'web.staging.localhost')).body) as { release: string; pid: number };
    expect((await certificateOf(before.pid)).serialNumber).toBe(issued.serialNumber);
    expect(started.json<RolloutView>().releaseId).toBe(before.release);

    // Twenty-one days on, the 30-day certificate is inside its 10-day renewal window.
    expect((await t.app.resources.operations.runSchedule(new Date(Date.now() + 21 * 86_400_000))).renewed).toBe(1);
    await until(async () => t.app.runtime.traffic(system, 'web', 'staging')?.stable !== before.release, 30_000, 100);
    const renewed = new X509Certificate((await t.app.resources.secretSource('claim.staging.web/tls.crt'))!);
    expect(renewed.serialNumber).not.toBe(issued.serialNumber);
    let after = before;
    await until(async () => (after = JSON.parse((await gatewayGet(port, 'web.staging.localhost')).body) as typeof before).release !== before.release, 10_000, 50);
    expect(after.pid).not.toBe(before.pid);
    expect((await certificateOf(after.pid)).serialNumber).toBe(renewed.serialNumber);
  });
});
