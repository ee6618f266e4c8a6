import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startLoad, type Load } from '../../bench/rollout/load.js';
import type { AnalysisRecord, RolloutView } from '../../src/delivery/index.js';
import type { WorkloadSpecInput } from '../../src/runtime/index.js';
import { chartSummary, mergeAnalyses, niceMax, readThresholds, rolloutCharts } from '../../web/src/delivery/charts.js';
import { availableCommands, describeStrategy, readAnalysis, stepLabel } from '../../web/src/delivery/rollout-view.js';
import { startTestServer } from '../helpers/app.js';
import { openBrowser } from '../helpers/browser.js';
import { signFixtureArtifact } from '../helpers/signing.js';

// The delivery pages of the portal (issue #6) in a real Chromium against a real Plinth server serving
// the built web/dist: signed fixture releases rolled out through the API with real child processes
// behind the real gateway and steady load through it, then the live rollout page (weight, step,
// analysis charts), Promote moving the canary to 100%, Abort rolling a canary back, Roll back going to
// the release before, and a viewer who sees no buttons. Needs web/dist (`npm run build:web`).
// Screenshots go to /tmp/delivery-*.png.

const record = (seq: number, second: number, canary: number, stable: number | null, stepIndex = 0, weightPercent = 10): AnalysisRecord => ({
  seq, at: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`, stepIndex, weightPercent, verdict: 'pass', summary: 'ok', checks: [],
  canary: { requests: 100, errorRatePercent: canary, p99Ms: 20 },
  stable: stable === null ? null : { requests: 100, errorRatePercent: stable, p99Ms: 18 },
});
const analysis = (at: string, canary: number, stable: number | null) => ({ ...record(1, 0, canary, stable), at });
const colors = { canary: 'orange', stable: 'blue', threshold: 'red', text: 'grey', grid: 'silver' };

describe('rollout page helpers', () => {
  it('merges newly read analyses once each, oldest first, and stays bounded on a long-open page', () => {
    const known = [record(1, 1, 0, 0), record(2, 2, 0, 0)];
    expect(mergeAnalyses(known, [])).toBe(known);
    expect(mergeAnalyses(known, [record(2, 2, 0, 0), record(3, 3, 1, 0)]).map((a) => a.seq)).toEqual([1, 2, 3]);
    const many = Array.from({ length: 11 }, (_, i) => record(i + 1, i, 0, 0));
    expect(mergeAnalyses(many.slice(0, 10), many.slice(10), 10).map((a) => a.seq)).toEqual([1, 3, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('builds the ECharts options: canary vs stable with the limit line, weight steps with markers', () => {
    const history = [record(1, 1, 1, 0.5), record(2, 2, 2, null), record(3, 3, 0, 0, 1, 25)];
    const view = { strategy: { kind: 'canary', analysis: { maxErrorRatePercent: 5, maxP99Ms: 1000 } }, weightPercent: 100, updatedAt: '2026-01-01T00:00:04.000Z', finishedAt: '2026-01-01T00:00:04.000Z' };
    const charts = rolloutCharts(history, view, colors);
    const t = (s: number) => Date.parse(`2026-01-01T00:00:0${s}.000Z`);
    expect(charts.errorRate.series.map((s) => [s.name, s.data])).toEqual([['canary', [[t(1), 1], [t(2), 2], [t(3), 0]]], ['stable', [[t(1), 0.5], [t(2), null], [t(3), 0]]]]);
    expect(charts.errorRate.series[0]!.markLine!.data).toEqual([expect.objectContaining({ yAxis: 5, label: expect.objectContaining({ formatter: 'max 5 %' }) })]);
    expect(charts.errorRate.series[1]!.markLine).toBeUndefined();
    expect(charts.errorRate.yAxis.max).toBe(10); // the limit stays in view
    expect(charts.p99.series[0]!.markLine!.data.map((m) => ('yAxis' in m ? m.yAxis : null))).toEqual([1000]);
    expect(charts.p99.yAxis.max).toBe(2000);
    expect(charts.weight.series[0]!.data).toEqual([[t(1), 10], [t(2), 10], [t(3), 25], [t(4), 100]]);
    expect(charts.weight.series[0]!.step).toBe('end');
    expect(charts.weight.series[0]!.markLine!.data.map((m) => ['xAxis' in m ? m.xAxis : null, m.label.formatter])).toEqual([[t(1), 'step 1 · 10%'], [t(3), 'step 2 · 25%']]);
    expect(chartSummary('5xx rate', charts.errorRate, ' %')).toBe('5xx rate: 3 points; latest canary 0 %, stable 0 %');
    expect(chartSummary('p99 latency', rolloutCharts([], view, colors).p99, ' ms')).toBe('p99 latency: 0 points; latest canary no data, stable no data');
    expect(readThresholds({ kind: 'direct' })).toEqual({ maxErrorRatePercent: null, maxP99Ms: null });
    expect([niceMax(0.3), niceMax(3), niceMax(7), niceMax(130, 1), niceMax(0, 10)]).toEqual([1, 5, 10, 200, 10]);
  });

  it('describes strategies and steps, reads analyses, and offers only the commands a phase allows', () => {
    expect(describeStrategy({ kind: 'canary', steps: [{ weightPercent: 10 }, { weightPercent: 50 }], bakeMs: 60_000, analysisIntervalMs: 10_000 })).toBe('canary 10% → 50% → 100% (bake 60 s, judged every 10 s)');
    expect(describeStrategy({ kind: 'direct' })).toBe('direct replace once ready and smoke-tested');
    expect(describeStrategy(null)).toBe('unknown strategy');
    expect([stepLabel({ phase: 'progressing', stepIndex: -1, stepCount: 3 }), stepLabel({ phase: 'progressing', stepIndex: 1, stepCount: 3 }), stepLabel({ phase: 'succeeded', stepIndex: 2, stepCount: 3 })]).toEqual(['smoke test', 'step 2 of 3', 'promoted']);
    expect(readAnalysis(analysis('2026-01-01T00:00:00.000Z', 1, 1))?.verdict).toBe('pass');
    expect(readAnalysis({ verdict: 'maybe' })).toBeNull();
    expect(availableCommands('paused')).toEqual({ promote: true, abort: true, pause: false, resume: true, approve: false });
    expect(availableCommands('succeeded')).toEqual({ promote: false, abort: false, pause: false, resume: false, approve: false });
  });
});

const fixtureDir = new URL('../fixtures/runtime/', import.meta.url).pathname;
const spec = (digest: string, version: string): WorkloadSpecInput => ({
  service: 'shop', environment: 'production', version, artifact: { kind: 'directory', path: fixtureDir, digest }, command: [process.execPath, 'server.mjs'],
  readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 10_000 }, liveness: { http: { path: '/healthz' } },
  requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' }, labels: { owner: 'shop', 'cost-center': 'cc-1' }, terminationGraceMs: 1000,
});
// A canary that holds at 10% (long bakes) and is judged every 300 ms on at least 10 requests: the page has
// live analyses to chart, and only a person moves it on.
const holdingCanary = { kind: 'canary', steps: [{ weightPercent: 10, bakeMs: 600_000 }, { weightPercent: 50, bakeMs: 600_000 }], analysisIntervalMs: 300, analysis: { minRequests: 10 } };

describe('delivery portal journeys (Chromium)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  let digest: string;
  let load: Load | undefined;
  const rollouts: Record<string, RolloutView> = {};

  const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${server.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status, `${method} ${path}: ${res.status}`).toBeLessThan(300);
    return (await res.json()) as T;
  };
  const deploy = (version: string, strategy?: unknown) => api<RolloutView>('POST', '/api/delivery/rollouts', { spec: spec(digest, version), ...(strategy ? { strategy } : {}) });
  const waitFor = async (id: string, ok: (r: RolloutView) => boolean) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await api<RolloutView>('GET', `/api/delivery/rollouts/${id}`);
      if (ok(r)) return r;
      if (Date.now() > deadline) throw new Error(`rollout ${id} stayed ${r.phase} at ${r.weightPercent}%: ${r.message ?? ''}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const weight = () => page.getByRole('progressbar', { name: 'Canary weight' });
  const phase = () => page.getByRole('status', { name: 'Rollout phase' });

  beforeAll(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
    await server.testApp.createUser('vi', 'viewer');
    digest = await signFixtureArtifact(server.testApp.app, { kind: 'directory', path: fixtureDir });
    rollouts.first = await waitFor((await deploy('1.0.0')).id, (r) => r.phase === 'succeeded');
    load = startLoad(server.testApp.app.runtime.gatewayPort()!, 'shop.production.localhost', { workers: 2, pauseMs: 10 });
    ({ browser, page, pageErrors } = await openBrowser());
    await page.goto(server.url + '/delivery');
    await page.getByLabel('Username').fill(server.adminUsername);
    await page.getByLabel('Password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }, 60_000);

  afterAll(async () => {
    await load?.stop();
    await browser?.close();
    await server?.close();
  });

  it('lists environments with what runs there, and the rollout in progress', { timeout: 30_000 }, async () => {
    const production = page.getByRole('article', { name: 'Environment production' });
    await production.getByRole('table', { name: 'Running in production' }).getByRole('row').filter({ hasText: '1.0.0' }).waitFor();
    expect(await production.textContent()).toContain('canary 10% → 25% → 50% → 100%');
    rollouts.canary = await deploy('1.1.0', holdingCanary);
    const active = page.getByRole('table', { name: 'Active rollouts' }).getByRole('row').filter({ hasText: 'shop' });
    await active.waitFor({ timeout: 10_000 });
    await active.getByRole('link', { name: '1.1.0' }).click();
    await page.waitForURL(`**/delivery/rollouts/${rollouts.canary.id}`);
  });

  it('follows the canary live: weight, step and analyses of canary vs stable', { timeout: 30_000 }, async () => {
    await page.locator('[role="progressbar"][aria-label="Canary weight"][aria-valuenow="10"]').waitFor({ timeout: 15_000 });
    expect(await page.getByLabel('Current step').textContent()).toBe('step 1 of 2');
    expect(await page.getByRole('list', { name: 'Canary steps' }).textContent()).toBe('10%50%100%');
    // Analyses arrive while the page is open: the chart gains points without a reload.
    const chart = page.getByRole('img', { name: /^5xx rate: / });
    await page.waitForFunction(() => /5xx rate: ([3-9]|\d\d+) points/.test(document.querySelector('[role="img"][aria-label^="5xx rate"]')?.getAttribute('aria-label') ?? ''), undefined, { timeout: 15_000 });
    expect(await chart.getAttribute('aria-label')).toMatch(/latest canary 0 %, stable 0 %/);
    // ECharts drew it: the lines and the max-error-rate limit of the strategy (default 5 %).
    expect(await chart.locator('svg path').count()).toBeGreaterThan(2);
    expect(await chart.locator('svg').textContent()).toContain('max 5 %');
    // The charts read the stored history: after a reload every earlier point is still there.
    const seen = Number(await chart.getAttribute('data-points'));
    await page.reload();
    await chart.waitFor({ timeout: 15_000 });
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(seen);
    expect(await page.getByRole('img', { name: /^Traffic weight: / }).locator('svg').textContent()).toContain('step 1 · 10%');
    await page.getByRole('table', { name: 'Analysis checks' }).getByRole('row').filter({ hasText: 'error-rate-vs-stable' }).waitFor();
    expect(await page.getByRole('table', { name: 'Requests per release' }).textContent()).toContain('1.1.0 (this rollout)');
    await page.screenshot({ path: '/tmp/delivery-canary.png', fullPage: true });
  });

  it('Promote takes the canary to 100% and makes it stable', { timeout: 30_000 }, async () => {
    await page.getByRole('button', { name: 'Promote' }).click();
    // Read through the API first: if the rollout ended otherwise, its message says why.
    expect(await waitFor(rollouts.canary!.id, (r) => r.phase !== 'progressing')).toMatchObject({ phase: 'succeeded' });
    await phase().getByText('succeeded').waitFor({ timeout: 15_000 });
    expect(await weight().getAttribute('aria-valuenow')).toBe('100');
    expect(await page.getByRole('button', { name: 'Promote' }).count()).toBe(0);
    const traffic = await api<{ split: { stable: string } }>('GET', '/api/runtime/services/shop/environments/production/traffic');
    expect(traffic.split.stable).toBe(rollouts.canary!.releaseId);
  });

  it('Abort rolls a canary back to the stable release', { timeout: 30_000 }, async () => {
    rollouts.aborted = await deploy('1.2.0', holdingCanary);
    await page.goto(`${server.url}/delivery/rollouts/${rollouts.aborted.id}`);
    await page.locator('[role="progressbar"][aria-label="Canary weight"][aria-valuenow="10"]').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Abort' }).click();
    const dialog = page.getByRole('dialog', { name: 'Abort shop 1.2.0?' });
    await dialog.getByRole('button', { name: 'Abort rollout' }).click();
    await dialog.waitFor({ state: 'detached' });
    await phase().getByText('rolled-back').waitFor({ timeout: 15_000 });
    expect(await weight().getAttribute('aria-valuenow')).toBe('0');
    const traffic = await api<{ split: { stable: string; canaryWeightPercent: number } }>('GET', '/api/runtime/services/shop/environments/production/traffic');
    expect(traffic.split).toMatchObject({ stable: rollouts.canary!.releaseId, canaryWeightPercent: 0 });
    const history = page.getByRole('table', { name: 'Rollouts of shop in production' });
    expect(await history.getByRole('row').count()).toBe(4);
    await page.screenshot({ path: '/tmp/delivery-aborted.png', fullPage: true });
  });

  it('Roll back on the last promoted rollout deploys the release before it again', { timeout: 30_000 }, async () => {
    await page.goto(`${server.url}/delivery/rollouts/${rollouts.canary!.id}`);
    await page.getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('dialog', { name: 'Roll back shop in production?' }).getByRole('button', { name: 'Roll back' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/delivery/rollouts/') && !url.pathname.endsWith(rollouts.canary!.id));
    await page.getByRole('heading', { name: 'shop 1.0.0 → production' }).waitFor();
    await phase().getByText('succeeded').waitFor({ timeout: 15_000 });
    const traffic = await api<{ split: { stable: string } }>('GET', '/api/runtime/services/shop/environments/production/traffic');
    expect(traffic.split.stable).not.toBe(rollouts.canary!.releaseId);
  });

  it('a viewer follows rollouts but gets no buttons', { timeout: 30_000 }, async () => {
    const context = await browser.newContext();
    const viewer = await context.newPage();
    await viewer.goto(`${server.url}/delivery/rollouts/${rollouts.aborted!.id}`);
    await viewer.getByLabel('Username').fill('vi');
    await viewer.getByLabel('Password').fill('vi-password');
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.getByRole('status', { name: 'Rollout phase' }).getByText('rolled-back').waitFor();
    for (const name of ['Promote', 'Abort', 'Roll back', 'Pause']) expect(await viewer.getByRole('button', { name }).count(), name).toBe(0);
    await context.close();
    expect(pageErrors).toEqual([]);
  });
});
