import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../../../test/helpers/git.js';

// A real push to a hosted repository: the embedded runner checks the commit out and runs the standard
// pipeline, whose security stage now runs `security.secrets-scan` (registered in src/app.ts).

const ghp = 'ghp_' + 'Zr4Kq8Wm2Xv6Bn1Lp5Tj9Hc3Gd7Fs0Ay2Qex';
let t: GitTestApp;
let repoDir: string;

interface RunBody { id: string; sha: string; status: string; stages: { name: string; steps: { name: string; status: string; message: string | null }[] }[] }

async function pushAndWait(files: Record<string, string>, message: string): Promise<RunBody> {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(repoDir, file, '..'), { recursive: true });
    writeFileSync(join(repoDir, file), text);
  }
  for (const args of [['add', '-A'], ['commit', '-q', '-m', message], ['push', '-q', 'origin', 'HEAD:main']]) {
    const r = await runGitClient(args, { cwd: repoDir });
    expect(r.code, r.stderr).toBe(0);
  }
  const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();
  const auth = { authorization: `Bearer ${t.tokens.alice}` };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const list = await t.app.server.inject({ url: '/api/pipelines/runs?repository=team-a/svc', headers: auth });
    const run = (list.json() as { items: { id: string; sha: string; status: string }[] }).items.find((r) => r.sha === sha);
    if (run && !['queued', 'running'].includes(run.status)) return (await t.app.server.inject({ url: `/api/pipelines/runs/${run.id}`, headers: auth })).json() as RunBody;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no finished run for ${sha}`);
}

const secretsStep = (run: RunBody) => run.stages.flatMap((s) => s.steps).find((s) => s.name === 'secrets-scan');
const gateStep = (run: RunBody) => run.stages.flatMap((s) => s.steps).find((s) => s.name === 'ci-gate');

describe('the security.secrets-scan pipeline step', () => {
  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'sqlite', listen: true });
    const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { owner: 'team-a', name: 'svc' } });
    expect(created.statusCode).toBe(201);
    repoDir = join(t.workDir, 'svc');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/svc'), 'svc'], { cwd: t.workDir })).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const pkg = JSON.stringify({ name: 'svc', version: '1.0.0', private: true, scripts: { build: 'node -e ""', test: 'node -e ""', lint: 'node -e ""' } });

  it('passes on a clean workspace', async () => {
    const run = await pushAndWait({ 'package.json': pkg, 'src/index.js': 'module.exports = process.env.TOKEN;\n' }, 'clean');
    expect(secretsStep(run)).toMatchObject({ status: 'passed' });
  }, 120_000);

  it('hands a committed token to the ci-gate, which fails the run on it (critical), logging it only redacted', async () => {
    const run = await pushAndWait({ 'src/config.js': `module.exports = { token: '${ghp}' };\n` }, 'leak');
    expect(secretsStep(run)).toMatchObject({ status: 'passed', message: expect.stringMatching(/^1 secret\(s\) found \(github-pat\)/) });
    expect(gateStep(run)).toMatchObject({ status: 'failed', message: 'ci-critical-findings-fail-the-run: 1 open critical finding(s): github-pat in src/config.js' });
    expect(run.status).toBe('failed');
    const logs = await t.app.server.inject({ url: `/api/pipelines/runs/${run.id}/logs?step=secrets-scan`, headers: { authorization: `Bearer ${t.tokens.alice}`, accept: 'text/plain' } });
    expect(logs.body).toContain('src/config.js:1:28  critical  github-pat  ghp_Zr…(40 chars)');
    expect(logs.body).not.toContain(ghp);
    const stored = await t.app.server.inject({ url: `/api/pipelines/runs/${run.id}`, headers: { authorization: `Bearer ${t.tokens.alice}` } });
    expect(stored.body).not.toContain(ghp);
  }, 120_000);

  it("passes again once the finding is accepted in the repository's baseline", async () => {
    const fingerprint = await import('./model.js').then((m) => m.contentFingerprint('github-pat', 'src/config.js', ghp));
    const run = await pushAndWait({ '.plinth-secrets-baseline.json': JSON.stringify({ version: 1, findings: [{ fingerprint, reason: 'rotated' }] }) }, 'accept');
    expect(secretsStep(run)).toMatchObject({ status: 'passed', message: 'no secrets found' });
    expect(gateStep(run)).toMatchObject({ status: 'passed', message: expect.stringContaining('1 fixed') });
  }, 120_000);
});
