import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/dialects.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// The artifact scan's findings tracked with the security stage's (issue #9), through real pushes and
// real pipeline runs: the package stage scans what build-artifact packed — bundled packages, setuid and
// world-writable files the build made — and records its findings under the `artifact` scanner. A bundled
// package advisory the dependency audit already tracks is that one finding, not a second. A critical
// finding still stops the signature (unless a platform admin accepted it); once a push removes a
// finding, it is marked fixed. (A secret the build writes is caught earlier: the security stage's
// secrets scan reads the built workspace.)

const osvDir = new URL('../fixtures/osv/npm/', import.meta.url).pathname;
const dialects = await testDialects();

interface StepBody { name: string; status: string; message: string | null; outputs: Record<string, unknown> | null }
interface RunBody { id: string; sha: string; status: string; stages: { name: string; status: string; steps: StepBody[] }[] }
interface FindingBody { id: string; scanner: string; rule: string; severity: string; status: string; owner: string; file: string; title: string; dueAt: string | null; firstSeenAt: string; fixedAt: string | null; package: { name: string; version: string; fixVersion: string | null } | null }

describe.each(dialects)('artifact-scan findings on %s', (dialect) => {
  let t: GitTestApp;
  let repoDir: string;
  const call = (method: 'GET' | 'POST', url: string, token: string | undefined, payload?: unknown) =>
    t.app.server.inject({ method, url, ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(payload !== undefined ? { payload: payload as object } : {}) });
  const get = (url: string) => call('GET', url, t.tokens.vera);
  const findings = async (query = '') => (await get(`/api/security/findings?service=team-a/bundler${query}`)).json<{ items: FindingBody[] }>().items;
  const stepOf = (run: RunBody, name: string) => run.stages.flatMap((s) => s.steps).find((s) => s.name === name);
  const summary = (items: FindingBody[]) => items.map((f) => `${f.scanner} ${f.severity} ${f.rule} ${f.file} ${f.status}`).sort();

  /** Writes the project: qs 6.2.0 in the lockfile and bundled; optionally left-pad bundled only; a build that may make a setuid and a world-writable file. */
  async function push(options: { leftPad: boolean; setuid: boolean; worldWritable: boolean }, message: string): Promise<RunBody> {
    const bundled = ['qs', ...(options.leftPad ? ['left-pad'] : [])];
    writeFileSync(join(repoDir, 'package.json'), JSON.stringify({ name: 'bundler', version: '1.0.0', private: true, files: ['dist'], bundleDependencies: bundled, scripts: { build: 'node build.js' } }, null, 2));
    writeFileSync(join(repoDir, 'build.js'), [
      "const fs = require('node:fs');",
      "fs.mkdirSync('dist', { recursive: true });",
      "fs.copyFileSync('src/index.js', 'dist/index.js');",
      options.setuid ? "fs.writeFileSync('dist/helper', '#!/bin/sh\\n'); fs.chmodSync('dist/helper', 0o4755);" : '',
      options.worldWritable ? "fs.writeFileSync('dist/shared.txt', 'scratch'); fs.chmodSync('dist/shared.txt', 0o666);" : '',
    ].join('\n'));
    rmSync(join(repoDir, 'node_modules', 'left-pad'), { recursive: true, force: true });
    if (options.leftPad) {
      mkdirSync(join(repoDir, 'node_modules', 'left-pad'), { recursive: true });
      writeFileSync(join(repoDir, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.1.0' }));
    }
    for (const args of [['add', '-A', '-f'], ['commit', '-q', '-m', message], ['push', '-q', 'origin', 'HEAD:main']]) {
      const r = await runGitClient(args, { cwd: repoDir });
      expect(r.code, r.stderr).toBe(0);
    }
    const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const list = await get('/api/pipelines/runs?repository=team-a/bundler');
      const run = list.json<{ items: { id: string; sha: string; status: string }[] }>().items.find((r) => r.sha === sha);
      if (run && !['queued', 'running'].includes(run.status)) return (await get(`/api/pipelines/runs/${run.id}`)).json<RunBody>();
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no finished run for ${sha}`);
  }

  const findingRun = async (id: string) => (await get(`/api/security/findings/${id}`)).json<{ history: { runId: string }[] }>().history[0]!.runId;
  async function waitFor(id: string): Promise<RunBody> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const run = (await get(`/api/pipelines/runs/${id}`)).json<RunBody>();
      if (!['queued', 'running'].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`run ${id} did not finish`);
  }

  beforeAll(async () => {
    t = await startGitTestApp({ dialect, listen: true });
    const records = readdirSync(osvDir).map((f) => JSON.parse(readFileSync(join(osvDir, f), 'utf8')) as unknown);
    records.push({
      id: 'GHSA-test-left-pad', modified: '2026-01-01T00:00:00Z', summary: 'left-pad pads wrongly', database_specific: { severity: 'HIGH' },
      affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }] }],
    });
    expect((await call('POST', '/api/security/advisories', t.tokens.admin, records)).statusCode).toBe(200);
    expect((await call('POST', '/api/git/repos', t.tokens.alice, { owner: 'team-a', name: 'bundler' })).statusCode).toBe(201);
    repoDir = join(t.workDir, 'bundler');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/bundler'), 'bundler'], { cwd: t.workDir })).code).toBe(0);
    mkdirSync(join(repoDir, 'src'), { recursive: true });
    mkdirSync(join(repoDir, 'node_modules', 'qs'), { recursive: true });
    writeFileSync(join(repoDir, 'src', 'index.js'), 'module.exports = 1;\n');
    // qs is in the lockfile (the dependency audit sees it) and bundled (the artifact scan sees it); package.json
    // declares no dependencies, so the runner installs nothing and the committed node_modules is what ships.
    writeFileSync(join(repoDir, 'node_modules', 'qs', 'package.json'), JSON.stringify({ name: 'qs', version: '6.2.0' }));
    writeFileSync(join(repoDir, 'package-lock.json'), JSON.stringify({
      name: 'bundler', version: '1.0.0', lockfileVersion: 3, requires: true,
      packages: { '': { name: 'bundler', version: '1.0.0', dependencies: { qs: '6.2.0' } }, 'node_modules/qs': { version: '6.2.0' } },
    }, null, 2));
    writeFileSync(join(repoDir, 'plinth.yaml'), 'stages:\n  deploy-staging: { enabled: false }\n  deploy-production: { enabled: false }\n');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  let worldWritable: FindingBody;

  it('tracks the artifact’s own findings, and a bundled package advisory the audit already tracks only once', { timeout: 120_000 }, async () => {
    const run = await push({ leftPad: true, setuid: false, worldWritable: true }, 'bundle');
    expect(stepOf(run, 'ci-gate')).toMatchObject({ status: 'passed' });
    const scan = stepOf(run, 'artifact-scan')!;
    expect(scan.status, scan.message ?? '').toBe('passed');
    expect(scan.outputs).toMatchObject({ bundledPackages: 2, high: 3, critical: 0, tracked: 2, sameAsDependency: 1, new: 2, fixed: 0, blocking: 0 });
    expect(stepOf(run, 'sign')).toMatchObject({ status: 'passed' });
    expect(run.status).toBe('passed');

    const tracked = await findings();
    expect(summary(tracked)).toEqual([
      'artifact high GHSA-test-left-pad node_modules/left-pad/package.json open',
      'artifact high world-writable dist/shared.txt open',
      'dependency high GHSA-hrpp-h998-j3pp package-lock.json open',
    ]);
    const leftPad = tracked.find((f) => f.rule === 'GHSA-test-left-pad')!;
    expect(leftPad).toMatchObject({ owner: 'group:default/team-a', package: { name: 'left-pad', version: '1.1.0', fixVersion: '1.3.0' } });
    expect(Date.parse(leftPad.dueAt!) - Date.parse(leftPad.firstSeenAt)).toBe(30 * 86_400_000);
    worldWritable = tracked.find((f) => f.rule === 'world-writable')!;
    const opened = await t.app.kernel.ledger.query({ kinds: ['security.finding.opened'], subject: `pipeline-run:${run.id}` }, 10);
    expect(opened.map((e) => [e.actor, (e.payload as { rule: string }).rule]).sort()).toEqual([
      ['system:artifact-scan', 'GHSA-test-left-pad'], ['system:artifact-scan', 'world-writable'], ['system:ci-gate', 'GHSA-hrpp-h998-j3pp'],
    ]);
    const log = (await get(`/api/pipelines/runs/${run.id}/logs?step=artifact-scan`)).json<{ items: { text: string }[] }>().items.map((l) => l.text).join('\n');
    expect(log).toContain('HIGH tracked by the dependency audit GHSA-hrpp-h998-j3pp node_modules/qs/package.json');
    expect(log).toContain('HIGH open (new) world-writable dist/shared.txt');
  });

  it('tracks a setuid file the build put in the artifact as critical and does not sign it', { timeout: 120_000 }, async () => {
    const run = await push({ leftPad: true, setuid: true, worldWritable: true }, 'helper');
    expect(stepOf(run, 'ci-gate')).toMatchObject({ status: 'passed' });
    const scan = stepOf(run, 'artifact-scan')!;
    expect(scan.status).toBe('failed');
    expect(scan.message).toBe('1 open critical finding(s) in the artifact (setuid); it will not be signed');
    expect(scan.outputs).toMatchObject({ critical: 1, new: 1, blocking: 1 });
    expect(stepOf(run, 'sign')).toMatchObject({ status: 'skipped' });
    expect(run.status).toBe('failed');
    const [setuid, ...more] = await findings('&severity=critical');
    expect(more).toEqual([]);
    expect(setuid).toMatchObject({ scanner: 'artifact', rule: 'setuid', file: 'dist/helper', status: 'open', title: 'dist/helper is setuid (mode 4755)' });
    expect(Date.parse(setuid!.dueAt!) - Date.parse(setuid!.firstSeenAt)).toBe(7 * 86_400_000);
    // Seen again, not opened twice.
    const again = (await findings()).filter((f) => f.rule === 'world-writable');
    expect(again).toEqual([expect.objectContaining({ id: worldWritable.id, status: 'open', firstSeenAt: worldWritable.firstSeenAt })]);
    const detail = (await get(`/api/security/findings/${worldWritable.id}`)).json<{ history: { runId: string }[] }>();
    expect(detail.history.map((h) => h.runId)[0]).toBe(run.id);
    expect(detail.history).toHaveLength(2);
  });

  it('signs once a platform admin accepts the critical finding until a date', { timeout: 120_000 }, async () => {
    const [setuid] = await findings('&severity=critical');
    const expiresAt = new Date(Date.now() + 7 * 86_400_000).toISOString();
    expect((await call('POST', `/api/security/findings/${setuid!.id}/accept`, t.tokens.alice, { reason: 'the helper drops privileges', expiresAt })).statusCode).toBe(403);
    expect((await call('POST', `/api/security/findings/${setuid!.id}/accept`, t.tokens.admin, { reason: 'the helper drops privileges', expiresAt })).statusCode).toBe(200);
    const rerun = await call('POST', `/api/pipelines/runs/${(await findingRun(setuid!.id))}/rerun`, t.tokens.alice);
    expect(rerun.statusCode).toBe(201);
    const run = await waitFor(rerun.json<{ id: string }>().id);
    const scan = stepOf(run, 'artifact-scan')!;
    expect(scan.status, scan.message ?? '').toBe('passed');
    expect(scan.message).toBe('1 critical (accepted), 3 high, 0 medium, 0 low');
    expect(stepOf(run, 'sign')).toMatchObject({ status: 'passed' });
  });

  it('marks the artifact’s findings fixed once a push removes them, and keeps the dependency finding', { timeout: 120_000 }, async () => {
    const run = await push({ leftPad: false, setuid: false, worldWritable: false }, 'clean up');
    expect(stepOf(run, 'ci-gate')).toMatchObject({ status: 'passed' });
    const scan = stepOf(run, 'artifact-scan')!;
    expect(scan.status, scan.message ?? '').toBe('passed');
    expect(scan.outputs).toMatchObject({ bundledPackages: 1, tracked: 0, sameAsDependency: 1 });
    expect(stepOf(run, 'sign')).toMatchObject({ status: 'passed' });
    const all = await findings();
    expect(all.filter((f) => f.scanner === 'artifact').every((f) => f.status === 'fixed' && f.fixedAt !== null)).toBe(true);
    expect(all.filter((f) => f.scanner === 'artifact').length).toBeGreaterThanOrEqual(3);
    expect(summary(await findings('&status=open'))).toEqual(['dependency high GHSA-hrpp-h998-j3pp package-lock.json open']);
    const fixed = await t.app.kernel.ledger.query({ kinds: ['security.finding.fixed'], subject: `pipeline-run:${run.id}` }, 10);
    expect(fixed.map((e) => (e.payload as { rule: string }).rule)).toEqual(expect.arrayContaining(['GHSA-test-left-pad', 'world-writable']));
  });
});
