import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../bench/rollout/load.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { createTestKernel, until } from '../../test/helpers/kernel.js';
import type { Kernel, Principal } from '../kernel/index.js';
import { createGateway, createLocalDriver, createRuntime, digestDirectory, runtimeMigrations, type Runtime, type WorkloadSpecInput } from '../runtime/index.js';
import { createDelivery, deliveryMigrations, type Delivery, type RolloutStrategyInput, type RolloutView } from './index.js';

// The controller against real child processes, the real gateway and real traffic; the runtime is
// built directly (no guardrails), the job worker runs in-process. Short intervals keep it quick.
const fixtureDir = new URL('../../test/fixtures/runtime/', import.meta.url).pathname;
const admin: Principal = { kind: 'system', name: 'test' };
const fastCanary = (over: Record<string, unknown> = {}): RolloutStrategyInput => ({
  kind: 'canary', bakeMs: 800, analysisIntervalMs: 200, analysis: { minRequests: 15 }, smokeTest: { path: '/healthz' }, ...over,
});

for (const dialect of await testDialects()) {
  describe(`rollout controller (${dialect})`, () => {
    let kernel: Kernel & { close(): Promise<void> };
    let runtime: Runtime;
    let delivery: Delivery;
    let port: number;
    let digest: string;
    const spec = (service: string, version: string, over: Partial<WorkloadSpecInput> = {}): WorkloadSpecInput => ({
      service, environment: 'production', version, artifact: { kind: 'directory', path: fixtureDir, digest }, command: [process.execPath, 'server.mjs'],
      replicas: 1, readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 10_000 }, terminationGraceMs: 1000, labels: { owner: 'shop', 'cost-center': 'cc-1' }, ...over,
    });
    const deploy = (s: WorkloadSpecInput, strategy?: RolloutStrategyInput) => delivery.startRollout(admin, { spec: s as Record<string, unknown>, ...(strategy ? { strategy: strategy as never } : {}) });
    const settled = async (id: string, timeoutMs = 20_000): Promise<RolloutView> => {
      await until(async () => ['succeeded', 'rolled-back', 'failed'].includes((await delivery.getRollout(admin, id)).phase), timeoutMs, 50);
      return delivery.getRollout(admin, id);
    };
    const events = async (id: string) => (await kernel.ledger.query({ subject: `rollout:${id}` }, 100)).map((e) => e.kind);

    beforeAll(async () => {
      kernel = await createTestKernel(dialect, { migrations: [...runtimeMigrations, ...deliveryMigrations] });
      digest = await digestDirectory(fixtureDir);
      const driver = createLocalDriver({ dataDir: join(kernel.config.dataDir, 'runtime'), prlimit: '/usr/bin/prlimit', restart: { initialBackoffMs: 100, maxBackoffMs: 1000 } });
      const gateway = createGateway({ host: '127.0.0.1', port: 0, endpoints: driver });
      runtime = createRuntime(kernel, { driver, gateway });
      await runtime.start();
      port = await runtime.listen();
      delivery = createDelivery(kernel, { runtime });
      await delivery.start();
      kernel.jobs.startWorker({ concurrency: 4, pollMs: 50, leaseMs: 10_000 });
    }, 30_000);
    afterAll(async () => {
      await kernel.jobs.stop(1000);
      await runtime.stop();
      await kernel.close();
    }, 30_000);

    it('a first release goes straight to 100% once ready and smoke-tested', { timeout: 20_000 }, async () => {
      const started = await deploy(spec('cart', '1.0.0'));
      expect(started).toMatchObject({ phase: 'progressing', previousReleaseId: null, message: 'smoke test pending' });
      const done = await settled(started.id);
      expect(done).toMatchObject({ phase: 'succeeded', weightPercent: 100 });
      expect(runtime.traffic(admin, 'cart', 'production')).toMatchObject({ stable: started.releaseId, canaryWeightPercent: 0 });
      expect(await events(started.id)).toEqual(['delivery.rollout.started', 'delivery.rollout.promoted']);
    });

    it('a healthy canary under steady traffic is promoted through 10 → 25 → 50 → 100; the old stable drains', { timeout: 40_000 }, async () => {
      const first = await settled((await deploy(spec('orders', '1.0.0'))).id);
      const load = startLoad(port, 'orders.production.localhost');
      try {
        const canary = await deploy(spec('orders', '1.1.0'), fastCanary());
        expect(canary.previousReleaseId).toBe(first.releaseId);
        const done = await settled(canary.id, 30_000);
        expect(done.phase, done.message ?? '').toBe('succeeded');
        const stepped = await kernel.ledger.query({ subject: `rollout:${canary.id}`, kinds: ['delivery.rollout.stepped'] }, 10);
        expect(stepped.map((e) => (e.payload as { weightPercent: number }).weightPercent)).toEqual([10, 25, 50]);
        expect((done.lastAnalysis as { verdict: string }).verdict).toBe('pass');
        expect(runtime.traffic(admin, 'orders', 'production')).toMatchObject({ stable: canary.releaseId, canaryWeightPercent: 0 });
        expect((await runtime.release(admin, first.releaseId)).phase).toBe('stopped');
        expect(load.byRelease().get(canary.releaseId)?.total ?? 0).toBeGreaterThan(45);
        // Every analysis is kept, oldest first, with the step and weight it judged; the last one led to the promotion.
        const history = await delivery.listAnalyses(admin, canary.id, { limit: 2000 });
        expect(history.length).toBeGreaterThanOrEqual(3);
        expect(history.map((a) => a.seq)).toEqual(history.map((_, i) => i + 1));
        expect([...new Set(history.map((a) => `${a.stepIndex}:${a.weightPercent}`))]).toEqual(['0:10', '1:25', '2:50']);
        expect(history.map((a) => a.at)).toEqual([...history.map((a) => a.at)].sort());
        expect(history.at(-1)).toMatchObject({ verdict: 'pass', at: (done.lastAnalysis as { at: string }).at, canary: { errorRatePercent: 0 }, stable: { errorRatePercent: 0 } });
        expect(history.at(-1)!.checks.map((c) => c.name)).toContain('error-rate-vs-stable');
        const newer = await delivery.listAnalyses(admin, canary.id, { after: history.length - 1, limit: 2000 });
        expect(newer.map((a) => a.seq)).toEqual([history.length]);
      } finally {
        await load.stop();
      }
    });

    it('a canary answering 5xx on 20% of requests is rolled back automatically: all traffic on stable, canary stopped', { timeout: 40_000 }, async () => {
      const first = await settled((await deploy(spec('payments', '1.0.0'))).id);
      const load = startLoad(port, 'payments.production.localhost');
      try {
        const canary = await deploy(spec('payments', '2.0.0', { env: { FAIL_PERCENT: '20' } }), fastCanary({ bakeMs: 60_000 }));
        const done = await settled(canary.id, 30_000);
        expect(done.phase).toBe('rolled-back');
        expect(done.message).toMatch(/analysis failed: .*canary 5xx/);
        const checks = (done.lastAnalysis as { checks: { name: string; verdict: string }[] }).checks;
        expect(checks.find((c) => c.name === 'error-rate-vs-stable')?.verdict).toBe('fail');
        // The failing analysis is stored in the same transaction as the rollback it caused.
        const history = await delivery.listAnalyses(admin, canary.id, { limit: 2000 });
        expect(history.at(-1)).toMatchObject({ verdict: 'fail', stepIndex: 0, weightPercent: 10, at: (done.lastAnalysis as { at: string }).at });
        expect(history.at(-1)!.canary.errorRatePercent).toBeGreaterThan(5);
        expect(runtime.traffic(admin, 'payments', 'production')).toEqual({ stable: first.releaseId, canaryWeightPercent: 0, sticky: false });
        expect((await runtime.release(admin, canary.releaseId)).phase).toBe('stopped');
        const rolledBack = await kernel.ledger.query({ subject: `rollout:${canary.id}`, kinds: ['delivery.rollout.rolled-back'] }, 10);
        expect(rolledBack[0]?.payload).toMatchObject({ automatic: true, version: '2.0.0', artifactDigest: digest, previousReleaseId: first.releaseId });
        expect(rolledBack[0]?.subjects).toEqual(expect.arrayContaining(['service:default/payments', 'environment:production']));
      } finally {
        await load.stop();
      }
    });

    it('with too little traffic the canary waits and says so, never promoting; abort rolls it back', { timeout: 30_000 }, async () => {
      const first = await settled((await deploy(spec('search', '1.0.0'))).id);
      const canary = await deploy(spec('search', '1.1.0'), fastCanary({ bakeMs: 200 }));
      await until(async () => /too little traffic to judge: the canary served 0 of the 15 requests needed/.test((await delivery.getRollout(admin, canary.id)).message ?? ''), 10_000, 50);
      await new Promise((r) => setTimeout(r, 1000)); // well past the bake time
      const waiting = await delivery.getRollout(admin, canary.id);
      expect(waiting).toMatchObject({ phase: 'progressing', stepIndex: 0, weightPercent: 10 });
      // Each inconclusive look is in the history too: the chart shows the canary waiting.
      const history = await delivery.listAnalyses(admin, canary.id, { limit: 2000 });
      expect(history.length).toBeGreaterThanOrEqual(3);
      expect(new Set(history.map((a) => a.verdict))).toEqual(new Set(['inconclusive']));
      expect(history[0]!.canary.requests).toBe(0);
      await delivery.command(admin, canary.id, 'abort');
      const done = await settled(canary.id);
      expect(done).toMatchObject({ phase: 'rolled-back', message: 'aborted by system:test' });
      expect(runtime.traffic(admin, 'search', 'production')?.stable).toBe(first.releaseId);
      await expect(delivery.command(admin, canary.id, 'promote')).rejects.toThrow(/has already rolled-back; nothing to promote/);
    });

    it('a manual gate waits for approval, records the approver, then continues; pause holds the weight', { timeout: 30_000 }, async () => {
      await settled((await deploy(spec('billing', '1.0.0'))).id);
      const canary = await deploy(spec('billing', '1.1.0'), fastCanary({ steps: [{ weightPercent: 20, analysis: false, bakeMs: 100 }, { weightPercent: 60, analysis: false, approval: true, bakeMs: 100 }] }));
      await until(async () => (await delivery.getRollout(admin, canary.id)).phase === 'awaiting-approval', 10_000, 50);
      expect(runtime.traffic(admin, 'billing', 'production')?.canaryWeightPercent).toBe(20);
      await expect(delivery.command(admin, canary.id, 'resume')).rejects.toThrow(/not paused/);
      const approver: Principal = { kind: 'user', userId: 'u1', username: 'ana', role: 'member', authMethod: 'token', scopes: ['read', 'write'], ownershipRefs: ['user:default/ana', 'group:default/shop'] };
      const outsider: Principal = { ...approver, username: 'bo', ownershipRefs: ['user:default/bo'] };
      await expect(delivery.command(outsider, canary.id, 'approve')).rejects.toThrow(/reserved to its owner group:default\/shop/);
      await delivery.command(approver, canary.id, 'approve');
      const done = await settled(canary.id);
      expect(done.phase).toBe('succeeded');
      expect(done.approvals).toEqual([{ step: 1, by: 'user:default/ana', at: expect.any(String) }]);
      expect(await events(canary.id)).toEqual(['delivery.rollout.started', 'delivery.rollout.stepped', 'delivery.rollout.approved', 'delivery.rollout.stepped', 'delivery.rollout.promoted']);

      const paused = await deploy(spec('billing', '1.2.0'), fastCanary({ steps: [{ weightPercent: 30, analysis: false, bakeMs: 400 }] }));
      await until(async () => (await delivery.getRollout(admin, paused.id)).stepIndex === 0, 10_000, 50);
      await delivery.command(admin, paused.id, 'pause');
      await until(async () => (await delivery.getRollout(admin, paused.id)).phase === 'paused', 5000, 50);
      await new Promise((r) => setTimeout(r, 800));
      expect(await delivery.getRollout(admin, paused.id)).toMatchObject({ phase: 'paused', weightPercent: 30 });
      await delivery.command(admin, paused.id, 'resume');
      expect((await settled(paused.id)).phase).toBe('succeeded');
    });

    it('promote skips to 100%; undo goes back to the previous stable release', { timeout: 30_000 }, async () => {
      const first = await settled((await deploy(spec('inventory', '1.0.0'))).id);
      const canary = await deploy(spec('inventory', '1.1.0'), fastCanary({ bakeMs: 60_000 }));
      await until(async () => (await delivery.getRollout(admin, canary.id)).stepIndex === 0, 10_000, 50);
      await delivery.command(admin, canary.id, 'promote');
      expect(await settled(canary.id)).toMatchObject({ phase: 'succeeded', message: 'promoted by system:test', weightPercent: 100 });
      const undo = await delivery.undo(admin, 'inventory', 'production');
      expect(undo).toMatchObject({ version: '1.0.0', previousReleaseId: canary.releaseId });
      expect((await settled(undo.id)).phase).toBe('succeeded');
      const split = runtime.traffic(admin, 'inventory', 'production')!;
      expect((await runtime.release(admin, split.stable)).version).toBe('1.0.0');
      expect(split.stable).not.toBe(first.releaseId); // a fresh release of the same artifact
    });

    it('a release failing readiness fails the rollout and leaves the stable untouched', { timeout: 30_000 }, async () => {
      const first = await settled((await deploy(spec('ledger', '1.0.0'))).id);
      const failed = await deploy(spec('ledger', '1.1.0', { env: { FAIL_READY: '1' }, readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 1000 } }));
      expect(failed.phase).toBe('failed');
      expect(failed.message).toMatch(/did not become ready: .*not ready within 1000 ms/);
      expect(runtime.traffic(admin, 'ledger', 'production')).toEqual({ stable: first.releaseId, canaryWeightPercent: 0, sticky: false });
      expect(await events(failed.id)).toEqual(['delivery.rollout.started', 'delivery.rollout.failed']);
      // Nothing is left in progress: the next deploy is not blocked.
      expect(await delivery.listRollouts(admin, { service: 'ledger', active: true, limit: 5 })).toEqual([]);
    });

    it('a failing smoke test fails the rollout; webhooks get the events, retried after an error', { timeout: 30_000 }, async () => {
      const received: { kind: string; version: string }[] = [];
      let calls = 0;
      const hookServer: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          calls++;
          if (calls === 1) return res.writeHead(500).end(); // the first delivery fails and is retried
          received.push(JSON.parse(body) as { kind: string; version: string });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
      try {
        const hookPort = (hookServer.address() as { port: number }).port;
        await delivery.addWebhook(admin, 'media', `http://127.0.0.1:${hookPort}/hook`);
        const first = await settled((await deploy(spec('media', '1.0.0'))).id);
        const broken = await deploy(spec('media', '1.1.0'), fastCanary({ smokeTest: { path: '/fail' } }));
        const done = await settled(broken.id);
        expect(done).toMatchObject({ phase: 'failed', message: 'smoke test GET /fail answered 500; expected 2xx' });
        expect(runtime.traffic(admin, 'media', 'production')).toEqual({ stable: first.releaseId, canaryWeightPercent: 0, sticky: false });
        await until(() => received.length >= 4, 15_000, 50);
        expect(received.map((e) => `${e.kind} ${e.version}`).sort()).toEqual(['delivery.rollout.failed 1.1.0', 'delivery.rollout.promoted 1.0.0', 'delivery.rollout.started 1.0.0', 'delivery.rollout.started 1.1.0']);
      } finally {
        hookServer.close();
      }
    });
  });
}
