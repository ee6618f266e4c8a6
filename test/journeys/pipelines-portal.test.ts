import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openBrowser } from '../helpers/browser.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';
import { appendLogLine, emptyRunLog, formatBytes, formatMs, hostedRepositoryOf, linesOfStep, parseLogLine, runArtifacts, runDurationMs, stageDurationMs, testSummary } from '../../web/src/pipelines/run-view.js';

// The pipeline pages of the portal (issue #5) in a real Chromium against a real Plinth server serving
// the built web/dist: a push to a hosted repository (real git), the run's stage graph with statuses
// (skipped and not-installed steps never shown as passed), log lines arriving live over SSE while a step runs,
// the per-step log filter, test results and the build artifact, then Re-run (attempt 2) and Cancel,
// a component's CI/CD tab in the catalog, and a viewer who sees no buttons. Needs web/dist (`npm run build:web`). Screenshots: /tmp/runs-*.png.

describe('run page helpers', () => {
  const line = (seq: number, step = 'build') => ({ seq, time: '2026-01-01T00:00:00.000Z', step, stream: 'stdout' as const, text: `line ${seq}` });

  it('keeps log lines once, in order, whatever a reconnect replays', () => {
    let log = emptyRunLog;
    for (const l of [line(1), line(2, 'lint'), line(2), line(1), line(3)]) log = appendLogLine(log, l);
    expect(log.lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(linesOfStep(log, 'lint').map((l) => l.seq)).toEqual([2]);
    expect(linesOfStep(log, undefined)).toHaveLength(3);
  });

  it('reads only well-formed log events', () => {
    expect(parseLogLine(JSON.stringify(line(4)))).toMatchObject({ seq: 4, step: 'build' });
    expect(parseLogLine('{}')).toBeUndefined();
    expect(parseLogLine('not json')).toBeUndefined();
    expect(parseLogLine(JSON.stringify({ ...line(1), stream: 'tty' }))).toBeUndefined();
  });

  it('formats durations and sizes, and measures a running run against now', () => {
    expect([formatMs(420), formatMs(12_400), formatMs(185_000), formatMs(120_000), formatMs(null)]).toEqual(['420 ms', '12.4 s', '3 min 5 s', '2 min', '—']);
    expect([formatBytes(512), formatBytes(1536), formatBytes(null)]).toEqual(['512 B', '1.5 KiB', '—']);
    const startedAt = '2026-01-01T00:00:00.000Z';
    expect(runDurationMs({ startedAt, finishedAt: null }, Date.parse(startedAt) + 5000)).toBe(5000);
    expect(runDurationMs({ startedAt, finishedAt: '2026-01-01T00:00:02.000Z' }, 0)).toBe(2000);
    expect(runDurationMs({ startedAt: null, finishedAt: null }, 0)).toBeNull();
    expect(stageDurationMs([{ startedAt, finishedAt: '2026-01-01T00:00:01.000Z' }, { startedAt: '2026-01-01T00:00:00.500Z', finishedAt: '2026-01-01T00:00:03.000Z' }])).toBe(3000);
    expect(stageDurationMs([{ startedAt: null, finishedAt: null }])).toBeNull();
  });

  it('finds the artifacts a run handed on, once per digest, and counts test outcomes', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const step = (name: string, outputs: Record<string, unknown> | null) => ({ name, outputs });
    const stages = [{ steps: [step('build-artifact', { digest, name: 'svc-1.0.0.tgz', sizeBytes: 10 }), step('sign', { digest }), step('sbom', { digest: 'not a digest' }), step('lint', null)] }];
    expect(runArtifacts({ stages } as never)).toEqual([{ step: 'build-artifact', digest, name: 'svc-1.0.0.tgz', sizeBytes: 10 }]);
    expect(testSummary([{ outcome: 'passed', flaky: true }, { outcome: 'failed', flaky: false }, { outcome: 'skipped', flaky: false }])).toEqual({ passed: 1, failed: 1, skipped: 1, flaky: 1 });
  });

  it('finds the hosted repository an entity was read from', () => {
    expect(hostedRepositoryOf({ 'backstage.io/source-location': 'url:http://127.0.0.1:7007/api/git/repos/team-a/svc/contents/main/' })).toBe('team-a/svc');
    expect(hostedRepositoryOf({ 'backstage.io/managed-by-location': 'url:http://plinth.example/git/Team-A/svc.git' })).toBe('team-a/svc');
    expect(hostedRepositoryOf({ 'backstage.io/source-location': 'url:https://github.com/acme/svc/tree/main/' })).toBeUndefined();
    expect(hostedRepositoryOf({ 'backstage.io/source-location': 'file:/srv/catalog/' })).toBeUndefined();
    expect(hostedRepositoryOf(undefined)).toBeUndefined();
  });
});

describe('pipelines portal journeys (Chromium)', () => {
  let t: GitTestApp;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  let repoDir: string;
  let firstRunId: string;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(t.url + path, { headers: { authorization: `Bearer ${t.tokens.alice}` } });
    expect(res.status, `${path}: ${res.status}`).toBe(200);
    return (await res.json()) as T;
  };
  const signIn = async (p: Page, username: string) => {
    await p.getByLabel('Username').fill(username);
    await p.getByLabel('Password').fill(`${username}-password`);
    await p.getByRole('button', { name: 'Sign in' }).click();
  };

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'sqlite', listen: true });
    const created = await fetch(`${t.url}/api/git/repos`, { method: 'POST', headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ owner: 'team-a', name: 'svc' }) });
    expect(created.status).toBe(201);
    repoDir = join(t.workDir, 'svc');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/svc'), 'svc'], { cwd: t.workDir })).code).toBe(0);
    ({ browser, page, pageErrors } = await openBrowser());
    await page.goto(t.url + '/runs');
    await signIn(page, 'alice');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('a push shows up in the list, and its run page shows log lines arriving while a step runs', { timeout: 60_000 }, async () => {
    mkdirSync(join(repoDir, 'test'), { recursive: true });
    writeFileSync(join(repoDir, 'package.json'), JSON.stringify({
      name: 'svc', version: '1.0.0', private: true,
      scripts: { build: 'node -e "1"', test: 'node --test --test-reporter=junit --test-reporter-destination=junit-report.xml test/', lint: 'echo lint ok' },
    }));
    writeFileSync(join(repoDir, 'test', 'math.test.js'), "const { test } = require('node:test');\ntest('adds', () => {});\n");
    writeFileSync(join(repoDir, 'catalog-info.yaml'), 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: svc }\nspec: { type: service, lifecycle: production, owner: team-a }\n');
    // A step that prints a line every 400 ms for 14 s: its first lines must reach the page before it ends
    // (the list looks for new runs every 5 s when nothing runs).
    writeFileSync(join(repoDir, 'plinth.yaml'), 'stages:\n  build:\n    steps:\n      ticker: { command: "for i in $(seq 1 35); do echo tick $i; sleep 0.4; done" }\n');
    for (const args of [['add', '-A'], ['commit', '-q', '-m', 'first'], ['push', '-q', 'origin', 'HEAD:main']]) expect((await runGitClient(args, { cwd: repoDir })).code).toBe(0);
    const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();

    const row = page.getByRole('table', { name: 'Runs' }).getByRole('row').filter({ hasText: sha.slice(0, 7) });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toMatch(/team-a\/svc.*main/);
    await row.getByRole('link').click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    firstRunId = new URL(page.url()).pathname.split('/').pop()!;

    const logLines = page.getByLabel('Log lines');
    await logLines.getByText(/\btick 1$/).first().waitFor({ timeout: 20_000 });
    // Seen while the ticker still runs: the line came over the live stream, not from a finished log.
    const run = await api<{ stages: { steps: { name: string; finishedAt: string | null }[] }[] }>(`/api/pipelines/runs/${firstRunId}`);
    expect(run.stages.flatMap((s) => s.steps).find((s) => s.name === 'ticker')?.finishedAt).toBeNull();
    expect(await page.getByLabel('Following live').count()).toBe(1);
    await page.getByRole('button', { name: 'Step ticker: running' }).waitFor();
    // More lines arrive on the open page, without a reload.
    await logLines.getByText(/\btick 35$/).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: '/tmp/runs-live.png', fullPage: true });
  });

  it('shows the stage graph with the statuses the API reports, skipped and not-installed never as passed, then tests and the artifact', { timeout: 60_000 }, async () => {
    const status = page.getByRole('status', { name: 'Run status' });
    await status.getByText(/^(passed|incomplete|failed)$/).waitFor({ timeout: 45_000 });
    const run = await api<{ status: string; stages: { name: string; status: string; steps: { name: string; status: string }[] }[] }>(`/api/pipelines/runs/${firstRunId}`);
    expect(await status.textContent()).toBe(run.status);
    const graph = page.getByRole('list', { name: 'Stage graph' });
    // Stages left to right in the order they run, each step with its own status.
    expect(await graph.getByRole('group').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).toEqual(run.stages.map((s) => `Stage ${s.name}: ${s.status}`));
    const steps = run.stages.flatMap((s) => s.steps);
    expect(await graph.getByRole('button').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).toEqual(steps.map((s) => `Step ${s.name}: ${s.status}`));
    expect(steps.find((s) => s.name === 'install')?.status).toBe('skipped');
    expect(await graph.getByRole('button', { name: 'Step install: skipped' }).textContent()).toContain('skipped');
    for (const step of steps.filter((s) => s.status === 'skipped' || s.status === 'not-installed')) {
      expect(await graph.getByRole('button', { name: `Step ${step.name}: ${step.status}` }).textContent(), step.name).toContain(step.status);
    }

    const tests = page.getByRole('table', { name: 'Tests' });
    expect(await tests.getByRole('row').filter({ hasText: 'adds' }).textContent()).toContain('passed');
    const artifacts = page.getByRole('table', { name: 'Artifacts of the run' });
    await artifacts.getByRole('link', { name: 'Download svc-1.0.0.tgz' }).waitFor();
    expect(await artifacts.textContent()).toContain('build-artifact');
    // The supply-chain documents download with the session: both SBOMs and the signed provenance.
    for (const [label, check] of [
      ['CycloneDX SBOM of svc-1.0.0.tgz', (doc: Record<string, unknown>) => doc.bomFormat === 'CycloneDX'],
      ['SPDX SBOM of svc-1.0.0.tgz', (doc: Record<string, unknown>) => doc.spdxVersion === 'SPDX-2.3'],
      ['Provenance of svc-1.0.0.tgz', (doc: Record<string, unknown>) => typeof doc.mediaType === 'string' && doc.mediaType.includes('sigstore.bundle')],
    ] as const) {
      const href = await artifacts.getByRole('link', { name: label }).getAttribute('href');
      const answer = await page.request.get(new URL(href!, page.url()).toString());
      expect(answer.status(), label).toBe(200);
      expect(check((await answer.json()) as Record<string, unknown>), label).toBe(true);
    }

    // The per-step filter: the ticker's lines alone, and nothing of the lint step.
    await graph.getByRole('button', { name: 'Step ticker: passed' }).click();
    const logLines = page.getByLabel('Log lines');
    await logLines.getByText(/\btick 35$/).waitFor();
    expect(await logLines.textContent()).not.toContain('lint ok');
    await graph.getByRole('button', { name: 'Step ticker: passed' }).click();
    await logLines.getByText('lint ok', { exact: false }).first().waitFor();
    await page.screenshot({ path: '/tmp/runs-finished.png', fullPage: true });
  });

  it('the log stream resumes after ?after=<seq>, as the portal asks when a hidden tab comes back', async () => {
    const headers = { authorization: `Bearer ${t.tokens.alice}`, accept: 'text/event-stream' };
    const res = await fetch(`${t.url}/api/pipelines/runs/${firstRunId}/logs/stream?after=5`, { headers });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('event: end');
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids[0]).toBe(6);
    expect((await fetch(`${t.url}/api/pipelines/runs/${firstRunId}/logs/stream?after=-1`, { headers })).status).toBe(400);
  });

  it('Re-run opens attempt 2, which Cancel stops', { timeout: 60_000 }, async () => {
    await page.getByRole('button', { name: 'Re-run' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(firstRunId));
    await page.getByText('attempt 2 (rerun)', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('status', { name: 'Run status' }).getByText('cancelled').waitFor({ timeout: 30_000 });
    const second = new URL(page.url()).pathname.split('/').pop()!;
    expect(await api<{ attempt: number; status: string; trigger: string }>(`/api/pipelines/runs/${second}`)).toMatchObject({ attempt: 2, status: 'cancelled', trigger: 'rerun' });

    // The list filtered by status keeps its filter in the URL.
    await page.goto(`${t.url}/runs?repository=team-a/svc&status=cancelled`);
    const rows = page.getByRole('table', { name: 'Runs' }).getByRole('row');
    await rows.filter({ hasText: 'rerun (attempt 2)' }).waitFor();
    expect(await rows.count()).toBe(2);
  });

  it('the catalog page of a component read from the repository has a CI/CD tab with its runs', { timeout: 30_000 }, async () => {
    const registered = await fetch(`${t.url}/api/catalog/locations`, {
      method: 'POST', headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'url', target: `${t.url}/api/git/repos/team-a/svc/contents/main/catalog-info.yaml` }),
    });
    expect(registered.status, await registered.text()).toBe(201);
    await page.goto(`${t.url}/catalog/default/component/svc`);
    await page.getByRole('tab', { name: 'CI/CD' }).click();
    await page.getByRole('table', { name: 'Runs of team-a/svc' }).getByRole('row').filter({ hasText: 'rerun (attempt 2)' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/catalog/default/component/svc/ci');
  });

  it('a viewer reads the run but gets no Re-run or Cancel', { timeout: 30_000 }, async () => {
    const context = await browser.newContext();
    const viewer = await context.newPage();
    await viewer.goto(`${t.url}/runs/${firstRunId}`);
    await signIn(viewer, 'vera');
    await viewer.getByRole('list', { name: 'Stage graph' }).waitFor();
    expect(await viewer.getByRole('button', { name: 'Re-run' }).count()).toBe(0);
    await context.close();
    expect(pageErrors).toEqual([]);
  });
});
