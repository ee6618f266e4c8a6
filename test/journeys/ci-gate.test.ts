import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as plinthRun } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import { testDialects } from '../helpers/dialects.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// The CI gate through real pushes and real pipeline runs (issues #7 and #9): a critical dependency
// advisory fails the run at ci-gate (nothing is signed), a high one passes as a tracked finding owned by
// the team with a due date, and a later push that upgrades the package marks it fixed.

const osvDir = new URL('../fixtures/osv/npm/', import.meta.url).pathname;
const dialects = await testDialects();

interface StepBody { name: string; status: string; message: string | null; outputs: Record<string, unknown> | null }
interface RunBody { id: string; sha: string; status: string; definitionVersion: string; stages: { name: string; status: string; steps: StepBody[] }[] }
interface FindingBody { id: string; rule: string; severity: string; status: string; owner: string; repository: string; dueAt: string | null; fixedAt: string | null; firstSeenAt: string; package: { name: string; version: string; fixVersion: string | null } | null; history?: { runId: string; branch: string }[] }

/** A lockfile with these npm packages installed; package.json declares none, so the runner installs nothing. */
function lockfile(packages: Record<string, string>): string {
  const entries = Object.fromEntries(Object.entries(packages).map(([name, version]) => [`node_modules/${name}`, { version }]));
  return JSON.stringify({ name: 'gated', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'gated', version: '1.0.0', dependencies: Object.fromEntries(Object.entries(packages)) }, ...entries } }, null, 2);
}

describe.each(dialects)('the CI gate on %s', (dialect) => {
  let t: GitTestApp;
  let repoDir: string;
  const call = (method: 'GET' | 'POST', url: string, token: string | undefined, payload?: unknown) =>
    t.app.server.inject({ method, url, ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(payload !== undefined ? { payload: payload as object } : {}) });
  const get = (url: string, token = t.tokens.vera) => call('GET', url, token);
  const findings = async (query = '') => (await get(`/api/security/findings?service=team-a/gated${query}`)).json<{ items: FindingBody[] }>().items;
  const stepOf = (run: RunBody, name: string) => run.stages.flatMap((s) => s.steps).find((s) => s.name === name);

  async function push(packages: Record<string, string>, message: string): Promise<RunBody> {
    writeFileSync(join(repoDir, 'package-lock.json'), lockfile(packages));
    for (const args of [['add', '-A'], ['commit', '-q', '-m', message], ['push', '-q', 'origin', 'HEAD:main']]) {
      const r = await runGitClient(args, { cwd: repoDir });
      expect(r.code, r.stderr).toBe(0);
    }
    const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const list = await get('/api/pipelines/runs?repository=team-a/gated');
      const run = list.json<{ items: { id: string; sha: string; status: string }[] }>().items.find((r) => r.sha === sha);
      if (run && !['queued', 'running'].includes(run.status)) return (await get(`/api/pipelines/runs/${run.id}`)).json<RunBody>();
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no finished run for ${sha}`);
  }

  beforeAll(async () => {
    t = await startGitTestApp({ dialect, listen: true });
    const records = readdirSync(osvDir).map((f) => JSON.parse(readFileSync(join(osvDir, f), 'utf8')) as unknown);
    expect((await call('POST', '/api/security/advisories', t.tokens.admin, records)).statusCode).toBe(200);
    expect((await call('POST', '/api/git/repos', t.tokens.alice, { owner: 'team-a', name: 'gated' })).statusCode).toBe(201);
    repoDir = join(t.workDir, 'gated');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/gated'), 'gated'], { cwd: t.workDir })).code).toBe(0);
    mkdirSync(join(repoDir, 'src'), { recursive: true });
    writeFileSync(join(repoDir, 'package.json'), JSON.stringify({ name: 'gated', version: '1.0.0', private: true }));
    writeFileSync(join(repoDir, 'src', 'index.js'), 'module.exports = 1;\n');
    // Deploying is not what this journey is about.
    writeFileSync(join(repoDir, 'plinth.yaml'), 'stages:\n  deploy-staging: { enabled: false }\n  deploy-production: { enabled: false }\n');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  let high: FindingBody;

  it('fails the run at ci-gate on a critical advisory, signs nothing, and tracks every finding', { timeout: 120_000 }, async () => {
    const run = await push({ minimist: '0.2.0', qs: '6.2.0' }, 'vulnerable');
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'dependency-audit')).toMatchObject({ status: 'passed' });
    const gate = stepOf(run, 'ci-gate')!;
    expect(gate.status).toBe('failed');
    expect(gate.message).toBe('ci-critical-findings-fail-the-run: 1 open critical finding(s): GHSA-xvch-5gv4-984h in package-lock.json (minimist, fixed in 0.2.4)');
    expect(stepOf(run, 'sign')).toMatchObject({ status: 'skipped' });

    const tracked = await findings();
    expect(tracked.map((f) => `${f.severity} ${f.rule} ${f.status}`).sort()).toEqual(['critical GHSA-xvch-5gv4-984h open', 'high GHSA-hrpp-h998-j3pp open', 'medium GHSA-vh95-rmgr-6w4m open']);
    high = tracked.find((f) => f.severity === 'high')!;
    expect(high).toMatchObject({ owner: 'group:default/team-a', repository: 'team-a/gated', package: { name: 'qs', version: '6.2.0', fixVersion: '6.2.4' }, fixedAt: null });
    expect(Date.parse(high.dueAt!) - Date.parse(high.firstSeenAt)).toBe(30 * 86_400_000);
    expect(tracked.find((f) => f.severity === 'medium')!.dueAt).toBeNull();

    // Most severe first, a page at a time.
    const page1 = (await get('/api/security/findings?service=team-a/gated&limit=2')).json<{ items: FindingBody[]; nextCursor: string | null }>();
    expect(page1.items.map((f) => f.severity)).toEqual(['critical', 'high']);
    const page2 = (await get(`/api/security/findings?service=team-a/gated&limit=2&after=${page1.nextCursor!}`)).json<{ items: FindingBody[]; nextCursor: string | null }>();
    expect(page2).toMatchObject({ items: [{ severity: 'medium' }], nextCursor: null });
    const decisions = await t.app.kernel.ledger.query({ kinds: ['policy.decision.made'], subject: `pipeline-run:${run.id}` }, 10);
    expect(decisions.map((e) => e.payload)).toEqual([expect.objectContaining({ point: 'ci', object: 'PipelineResult team-a/gated', allowed: false })]);
    const opened = await t.app.kernel.ledger.query({ kinds: ['security.finding.opened'], subject: `pipeline-run:${run.id}` }, 10);
    expect(opened).toHaveLength(3);
  });

  it('passes a run whose only remaining finding is high, keeping one tracked finding and fixing the others', { timeout: 120_000 }, async () => {
    const run = await push({ minimist: '0.2.4', qs: '6.2.0' }, 'upgrade minimist');
    expect(stepOf(run, 'ci-gate')).toMatchObject({ status: 'passed', message: '0 critical, 1 high, 0 medium, 0 low open; 0 accepted; 0 new; 2 fixed' });
    expect(stepOf(run, 'sign')).toMatchObject({ status: 'passed' });
    expect(run.status).toBe('passed');
    const detail = (await get(`/api/security/findings/${high.id}`)).json<FindingBody>();
    expect(detail).toMatchObject({ id: high.id, status: 'open', dueAt: high.dueAt, firstSeenAt: high.firstSeenAt });
    expect(detail.history!.map((h) => h.runId)).toEqual([run.id, expect.any(String)]);
    const fixed = await findings('&status=fixed');
    expect(fixed.map((f) => f.severity).sort()).toEqual(['critical', 'medium']);
    expect(fixed.every((f) => f.fixedAt !== null)).toBe(true);
    expect((await get('/api/security/findings/overview')).json()).toMatchObject({ open: { critical: 0, high: 1, medium: 0, low: 0 }, fixedLast30Days: 2, teams: [{ owner: 'group:default/team-a', open: { high: 1 } }] });
  });

  it('lets the owning team accept a high finding until a date, and nobody else', async () => {
    const expiresAt = new Date(Date.now() + 14 * 86_400_000).toISOString();
    const accept = (token: string | undefined, body: unknown) => call('POST', `/api/security/findings/${high.id}/accept`, token, body);
    expect((await accept(t.tokens.bob, { reason: 'not reachable', expiresAt })).json()).toMatchObject({ error: { name: 'NotAllowedError', message: expect.stringContaining('reserved to its owner group:default/team-a') } });
    expect((await accept(t.tokens.vera, { reason: 'not reachable', expiresAt })).statusCode).toBe(403);
    expect((await accept(undefined, { reason: 'not reachable', expiresAt })).statusCode).toBe(401);
    expect((await accept(t.tokens.alice, { reason: 'not reachable', expiresAt: '2020-01-01T00:00:00Z' })).json()).toMatchObject({ error: { name: 'InputError', message: 'expiresAt: 2020-01-01T00:00:00Z is in the past' } });
    expect((await accept(t.tokens.alice, { reason: 'not reachable', expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() })).statusCode).toBe(400);
    expect((await accept(t.tokens.alice, { reason: 'not reachable', expiresAt, extra: 1 })).statusCode).toBe(400);
    expect((await accept(t.tokens.alice, { expiresAt })).statusCode).toBe(400);
    const ok = await accept(t.tokens.alice, { reason: 'qs is only used at build time', expiresAt });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'accepted', acceptance: { by: 'user:default/alice', reason: 'qs is only used at build time' } });
    expect((await findings('&status=accepted')).map((f) => f.id)).toEqual([high.id]);
  });

  it('answers bad queries and unknown findings with the right 4xx', async () => {
    expect((await get('/api/security/findings?severity=severe')).statusCode).toBe(400);
    expect((await get('/api/security/findings?colour=red')).statusCode).toBe(400);
    expect((await get('/api/security/findings?service=not-a-repo')).json()).toMatchObject({ error: { name: 'InputError' } });
    expect((await get('/api/security/findings?limit=0')).statusCode).toBe(400);
    expect((await get('/api/security/findings/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await get('/api/security/findings/not-a-uuid')).statusCode).toBe(400);
    expect((await call('GET', '/api/security/findings', undefined)).statusCode).toBe(401);
    expect((await get('/api/security/findings?after=00000000-0000-4000-8000-000000000000')).json()).toMatchObject({ error: { name: 'InputError', message: expect.stringContaining('after: no finding') } });
  });

  it('marks the high finding fixed once a push upgrades the package past the fix', { timeout: 120_000 }, async () => {
    const run = await push({ minimist: '0.2.4', qs: '6.2.4' }, 'upgrade qs');
    expect(run.status).toBe('passed');
    expect(stepOf(run, 'ci-gate')).toMatchObject({ status: 'passed', outputs: expect.objectContaining({ fixed: 1, judged: 0 }) });
    const detail = (await get(`/api/security/findings/${high.id}`)).json<FindingBody>();
    expect(detail).toMatchObject({ status: 'fixed', fixedAt: expect.any(String) });
    expect((await findings('&status=open'))).toEqual([]);
    const fixedEvents = await t.app.kernel.ledger.query({ kinds: ['security.finding.fixed'], subject: `pipeline-run:${run.id}` }, 10);
    expect(fixedEvents.map((e) => e.payload)).toEqual([expect.objectContaining({ id: high.id, rule: 'GHSA-hrpp-h998-j3pp', severity: 'high' })]);
  });

  it('lists and shows findings with plinth findings', async () => {
    const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: t.tokens.vera, PLINTH_CONFIG_DIR: t.workDir });
    expect(await plinthRun(['findings', 'list', '--service', 'team-a/gated', '--status', 'fixed'], io)).toBe(0);
    const listed = io.stdoutText();
    expect(listed).toMatch(/SEVERITY\s+STATUS\s+RULE/);
    expect(listed).toContain('GHSA-hrpp-h998-j3pp');
    expect(listed).toContain('qs@6.2.0');
    const show = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: t.tokens.vera, PLINTH_CONFIG_DIR: t.workDir });
    expect(await plinthRun(['findings', 'show', high.id], show)).toBe(0);
    expect(show.stdoutText()).toContain('high GHSA-hrpp-h998-j3pp (dependency): fixed');
    expect(show.stdoutText()).toMatch(/seen in 2 run\(s\)/);
    const bad = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: t.tokens.vera, PLINTH_CONFIG_DIR: t.workDir });
    expect(await plinthRun(['findings', 'list', '--severity', 'severe'], bad)).toBe(2);
  });
});
