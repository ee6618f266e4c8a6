import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { signFixtureArtifact } from '../../test/helpers/signing.js';
import { type WorkloadSpecInput } from '../runtime/index.js';

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
    // The app's runtime runs only signed artifacts: sign the fixture as the package stage would.
    digest = await signFixtureArtifact(t.app, { kind: 'directory', path: fixtureDir });
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

describe('background scan', () => {
  let t: TestApp;
  let digest: string;

  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite' });
    // The app's runtime runs only signed artifacts: sign the fixture as the package stage would.
    digest = await signFixtureArtifact(t.app, { kind: 'directory', path: fixtureDir });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reports what runs, records a ledger event only when an object’s failing rules change, and forgets what stopped', { timeout: 30_000 }, async () => {
    const release = await t.app.runtime.deploy(deployer, {
      spec: {
        service: 'cart', environment: 'staging', version: '2.0.0', artifact: { kind: 'directory', path: fixtureDir, digest }, command: [process.execPath, 'server.mjs'],
        readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 10_000 }, requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' },
        labels: { owner: 'shop', 'cost-center': 'cc-1' }, terminationGraceMs: 1000,
      },
    });
    expect(release.phase, release.message ?? '').toBe('ready');
    const admin = { kind: 'system', name: 'test' } as const;
    // Deployment, Service and HTTPRoute. Admitted (every Enforce rule passes), but two Audit rules fail
    // on the Deployment: no liveness probe, and no runAsNonRoot.
    expect(await t.app.policy.scan(admin)).toEqual({ objects: 3, violating: 1, changed: 1 });
    const violations = await t.app.policy.violations(admin, { owner: 'shop', limit: 100 });
    expect(violations.map((v) => `${v.policy}/${v.rule}`).sort()).toEqual(['require-probes/autogen-validate-probes', 'require-run-as-non-root/autogen-run-as-non-root']);
    expect(violations.every((v) => v.point === 'scan' && v.failureAction === 'Audit')).toBe(true);
    expect(await t.app.policy.scan(admin)).toEqual({ objects: 3, violating: 1, changed: 0 });
    const events = await t.app.kernel.ledger.query({ kinds: ['policy.scan.changed'], subject: 'service:default/cart' }, 10);
    expect(events).toHaveLength(1);

    await t.app.runtime.stopRelease(deployer, release.id);
    expect(await t.app.policy.scan(admin)).toEqual({ objects: 0, violating: 0, changed: 0 });
    expect(await t.app.policy.violations(admin, { owner: 'shop', limit: 100 })).toEqual([]);
  });
});
