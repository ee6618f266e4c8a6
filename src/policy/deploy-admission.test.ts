import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { digestDirectory, type WorkloadSpecInput } from '../runtime/index.js';

// The deploy enforcement point end to end: the app's runtime asks the guardrails before a release
// starts, with real child processes behind it.

const fixtureDir = new URL('../../test/fixtures/runtime/', import.meta.url).pathname;
const deployer = { kind: 'system', name: 'delivery' } as const;

describe('deploy admission', () => {
  let t: TestApp;
  let digest: string;
  const spec = (over: Partial<WorkloadSpecInput> = {}): WorkloadSpecInput => ({
    service: 'orders',
    environment: 'staging',
    version: '1.0.0',
    artifact: { kind: 'directory', path: fixtureDir, digest },
    command: [process.execPath, 'server.mjs'],
    readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 10_000 },
    liveness: { http: { path: '/healthz' } },
    requests: { cpu: '100m', memory: '64Mi' },
    limits: { memory: '256Mi' },
    labels: { owner: 'shop', 'cost-center': 'cc-1' },
    terminationGraceMs: 1000,
    ...over,
  });

  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite' });
    digest = await digestDirectory(fixtureDir);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a release the guardrails deny before anything starts, naming each rule', async () => {
    const { labels: _labels, limits: _limits, ...bare } = spec();
    await expect(t.app.runtime.deploy(deployer, { spec: bare })).rejects.toThrow(
      /the release of orders to staging was denied by policy: .*require-labels\/check-owner-and-cost-center on Deployment staging\/orders-1-0-0: .*require-resource-limits\/autogen-validate-resources/,
    );
    expect(await t.app.runtime.releases(deployer, { service: 'orders' })).toEqual([]);
    const decisions = await t.app.kernel.ledger.query({ kinds: ['policy.decision.made'], subject: 'service:default/orders' }, 10);
    expect(decisions.map((e) => (e.payload as { allowed: boolean }).allowed)).toContain(false);
  });

  it('admits a compliant release, which then runs', { timeout: 30_000 }, async () => {
    const release = await t.app.runtime.deploy(deployer, { spec: spec() });
    expect(release.phase, release.message ?? '').toBe('ready');
    await t.app.runtime.stopRelease(deployer, release.id);
  });
});
