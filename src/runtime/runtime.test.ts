import { request, Agent } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKernel, until } from '../../test/helpers/kernel.js';
import { testDialects } from '../../test/helpers/dialects.js';
import type { Kernel, Principal } from '../kernel/index.js';
import { createGateway, createLocalDriver, createRuntime, digestDirectory, runtimeMigrations, type Runtime, type WorkloadSpecInput } from './index.js';

const fixtureDir = new URL('../../test/fixtures/runtime/', import.meta.url).pathname;
const admin: Principal = { kind: 'system', name: 'test' };
const agent = new Agent({ keepAlive: true });

interface Reply {
  status: number;
  body: string;
  release: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

function call(port: number, path: string, options: { host?: string; headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent, headers: { host: options.host ?? 'payments.staging.localhost', ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, release: res.headers['x-plinth-release'] as string | undefined, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

for (const dialect of await testDialects()) {
  describe(`local runtime and gateway (${dialect})`, () => {
    let kernel: Kernel & { close(): Promise<void> };
    let runtime: Runtime;
    let port: number;
    let digest: string;
    const spec = (over: Partial<WorkloadSpecInput> = {}): WorkloadSpecInput => ({
      service: 'payments', environment: 'staging', version: '1.0.0',
      artifact: { kind: 'directory', path: fixtureDir, digest }, command: [process.execPath, 'server.mjs'],
      replicas: 2, readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 10_000 }, terminationGraceMs: 3000,
      secrets: [{ env: 'API_KEY', ref: 'payments/api-key' }], ...over,
    });

    beforeAll(async () => {
      kernel = await createTestKernel(dialect, { migrations: runtimeMigrations });
      digest = await digestDirectory(fixtureDir);
      const driver = createLocalDriver({ dataDir: join(kernel.config.dataDir, 'runtime'), prlimit: '/usr/bin/prlimit', restart: { initialBackoffMs: 100, maxBackoffMs: 1000 } });
      const gateway = createGateway({ host: '127.0.0.1', port: 0, endpoints: driver, registry: kernel.metrics.registry });
      runtime = createRuntime(kernel, { driver, gateway, secrets: async (ref) => (ref === 'payments/api-key' ? 'super-secret-value' : undefined) });
      await runtime.start();
      port = await runtime.listen();
    }, 30_000);
    afterAll(async () => {
      await runtime.stop();
      await kernel.close();
    }, 30_000);

    let stable: string;
    it('starts 2 replicas and the gateway routes to both', { timeout: 20_000 }, async () => {
      const release = await runtime.deploy(admin, { spec: spec() });
      expect(release.phase, release.message ?? '').toBe('ready');
      stable = release.id;
      const replicas = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const r = await call(port, '/');
        expect(r.status).toBe(200);
        expect(r.release).toBe(stable);
        replicas.add((JSON.parse(r.body) as { replica: string }).replica);
      }
      expect(replicas).toEqual(new Set(['0', '1']));
      const events = await kernel.ledger.query({ subject: `release:${stable}` }, 10);
      expect(events.map((e) => e.kind)).toEqual(['runtime.release.started', 'runtime.release.ready']);
    });

    it('forwards headers, sets X-Forwarded-*, streams request bodies, and answers 404/503 clearly', async () => {
      const h = JSON.parse((await call(port, '/headers', { headers: { connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'x-keep': 'yes' } })).body) as Record<string, string>;
      expect(h['x-keep']).toBe('yes');
      expect(h['x-drop-me']).toBeUndefined();
      expect(h['x-forwarded-for']).toBe('127.0.0.1');
      expect(h['x-forwarded-host']).toBe('payments.staging.localhost');
      const body = 'x'.repeat(300_000);
      const echo = await call(port, '/echo', { method: 'POST', body });
      expect(echo.body.length).toBe(body.length);
      expect(await call(port, '/', { host: 'example.com' })).toMatchObject({ status: 404, body: expect.stringContaining('<service>.<environment>.localhost') });
      expect(await call(port, '/', { host: 'orders.staging.localhost' })).toMatchObject({ status: 503, body: expect.stringContaining('no release routed') });
    });

    it('masks secrets in captured logs and finds lines by grep', async () => {
      const lines = await runtime.logs(admin, 'payments', 'staging', { grep: 'listening' });
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines.every((l) => l.text.includes('secret=***') && !l.text.includes('super-secret-value'))).toBe(true);
    });

    it('kill -9 of a replica: out of rotation within 1 s, then restarted', { timeout: 20_000 }, async () => {
      const [victim] = runtime.replicas(admin, stable);
      const killedAt = Date.now();
      process.kill(victim!.pid!, 'SIGKILL');
      let lastToVictim = killedAt;
      let failures = 0;
      while (Date.now() - killedAt < 1500) {
        const r = await call(port, '/');
        if (r.status !== 200) failures++;
        else if ((JSON.parse(r.body) as { pid: number }).pid === victim!.pid) lastToVictim = Date.now();
      }
      expect(lastToVictim - killedAt).toBeLessThan(1000);
      expect(failures).toBe(0);
      await until(() => runtime.replicas(admin, stable)[0]!.phase === 'ready' && runtime.replicas(admin, stable)[0]!.pid !== victim!.pid, 10_000);
      expect(runtime.replicas(admin, stable)[0]!.restarts).toBe(1);
    });

    let canary: string;
    it('splits ~90/10 over 1,000 requests, and x-plinth-canary overrides it', { timeout: 30_000 }, async () => {
      const release = await runtime.deploy(admin, { spec: spec({ version: '1.1.0', replicas: 1 }), traffic: 'none' });
      expect(release.phase).toBe('ready');
      canary = release.id;
      expect((await call(port, '/')).release).toBe(stable);
      await runtime.setTraffic(admin, 'payments', 'staging', { stable, canary, canaryWeightPercent: 10, sticky: false });
      let toCanary = 0;
      for (let i = 0; i < 1000; i++) if ((await call(port, '/')).release === canary) toCanary++;
      expect(toCanary).toBeGreaterThanOrEqual(90);
      expect(toCanary).toBeLessThanOrEqual(110);
      for (let i = 0; i < 10; i++) expect((await call(port, '/', { headers: { 'x-plinth-canary': 'always' } })).release).toBe(canary);
      for (let i = 0; i < 10; i++) expect((await call(port, '/', { headers: { 'x-plinth-canary': 'never' } })).release).toBe(stable);
      const stats = runtime.trafficStats(admin, 'payments', 'staging');
      const c = stats.find((s) => s.releaseId === canary)!;
      expect(c.requests).toBe(toCanary + 10);
      expect(c.statusClasses['2xx']).toBe(c.requests);
      expect(c.latency.counts.reduce((a, b) => a + b, 0)).toBe(c.requests);
      const metrics = await kernel.metrics.registry.metrics();
      expect(metrics).toContain(`plinth_gateway_requests_total{service="payments",environment="staging",release="${canary}",status_class="2xx"} ${toCanary + 10}`);
    });

    it('sticky sessions keep a client on its release', async () => {
      await runtime.setTraffic(admin, 'payments', 'staging', { stable, canary, canaryWeightPercent: 50, sticky: true });
      const first = await call(port, '/');
      const cookie = String((first.headers['set-cookie'] as string[])[0]).split(';')[0]!;
      for (let i = 0; i < 10; i++) expect((await call(port, '/', { headers: { cookie } })).release).toBe(first.release);
    });

    it('a release failing readiness fails, and the stable one keeps serving', { timeout: 20_000 }, async () => {
      const failed = await runtime.deploy(admin, { spec: spec({ version: '2.0.0', replicas: 1, env: { FAIL_READY: '1' }, readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 1500 } }) });
      expect(failed.phase).toBe('failed');
      expect(failed.message).toMatch(/not ready within 1500 ms \(last probe: GET \/healthz → 503\)/);
      expect(runtime.traffic(admin, 'payments', 'staging')?.stable).toBe(stable);
      expect((await call(port, '/', { headers: { 'x-plinth-canary': 'never' } })).status).toBe(200);
      const events = await kernel.ledger.query({ subject: `release:${failed.id}` }, 10);
      expect(events.map((e) => e.kind)).toEqual(['runtime.release.started', 'runtime.release.failed']);
    });

    it('clear errors: missing secret (nothing recorded), command not found, tampered artifact', async () => {
      const before = (await runtime.releases(admin, { service: 'payments' })).length;
      await expect(runtime.deploy(admin, { spec: spec({ version: '3.0.0', secrets: [{ env: 'X', ref: 'nope' }] }) })).rejects.toThrow(/secrets\[0\] \(X\): secret "nope" does not exist/);
      expect((await runtime.releases(admin, { service: 'payments' })).length).toBe(before);
      const missing = await runtime.deploy(admin, { spec: spec({ version: '3.0.1', command: ['no-such-binary-here'] }) });
      expect(missing.message).toMatch(/command not found: "no-such-binary-here"/);
      const tampered = await runtime.deploy(admin, { spec: spec({ version: '3.0.2', artifact: { kind: 'directory', path: fixtureDir, digest: `sha256:${'0'.repeat(64)}` } }) });
      expect(tampered.message).toMatch(/refusing a changed artifact/);
      await expect(runtime.deploy(admin, { spec: { ...spec(), replicas: -1 } })).rejects.toThrow(/spec\.replicas/);
    });

    it('graceful stop drains an in-flight slow request', { timeout: 20_000 }, async () => {
      await runtime.setTraffic(admin, 'payments', 'staging', { stable, canary, canaryWeightPercent: 0, sticky: false });
      const slow = call(port, '/slow?ms=800', { headers: { 'x-plinth-canary': 'always' } });
      await new Promise((r) => setTimeout(r, 200));
      const stopped = await runtime.stopRelease(admin, canary);
      expect(stopped.phase).toBe('stopped');
      expect(await slow).toMatchObject({ status: 200, body: 'slow done by 0' });
      expect(runtime.traffic(admin, 'payments', 'staging')?.canary).toBeUndefined();
      expect((await call(port, '/')).release).toBe(stable);
    });
  });
}
