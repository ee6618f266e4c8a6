import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as plinthRun } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import { testDialects } from '../helpers/dialects.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// Push to a hosted repository with real git; the embedded runner checks out the commit and runs the
// standard pipeline with real npm and node child processes.

const secret = 'plinth-test-secret-9f8e7d6c';
let t: GitTestApp;
let repoDir: string;
const dialects = await testDialects();

const testScript = 'node --test --test-reporter=junit --test-reporter-destination=junit-report.xml --test-reporter=spec --test-reporter-destination=stdout test/';

function writeProject(testBody: string, extra: Record<string, string> = {}) {
  mkdirSync(join(repoDir, 'test'), { recursive: true });
  writeFileSync(join(repoDir, 'package.json'), JSON.stringify({
    name: 'svc', version: '1.0.0', private: true,
    scripts: { build: 'node -e "require(\'fs\').writeFileSync(\'built.txt\', \'ok\')"', test: testScript, lint: 'echo "token $DEPLOY_TOKEN"; printf %s "xx$DEPLOY_TOKEN" | base64' },
  }, null, 2));
  writeFileSync(join(repoDir, 'test', 'math.test.js'), `const { test } = require('node:test');\nconst assert = require('node:assert');\ntest('adds', () => { ${testBody} });\n`);
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(repoDir, file), text);
}

async function commitAndPush(message: string): Promise<string> {
  for (const args of [['add', '-A'], ['commit', '-q', '-m', message], ['push', '-q', 'origin', 'HEAD:main']]) {
    const r = await runGitClient(args, { cwd: repoDir });
    expect(r.code, r.stderr).toBe(0);
  }
  return (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();
}

interface RunBody { id: string; sha: string; status: string; runner: string | null; stages: { name: string; status: string; steps: { name: string; status: string; message: string | null }[] }[]; tests: { name: string; outcome: string; file: string | null }[] }

async function waitForRun(sha: string): Promise<RunBody> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const list = await t.app.server.inject({ url: '/api/pipelines/runs?repository=team-a/svc', headers: { authorization: `Bearer ${t.tokens.vera}` } });
    const run = (list.json() as { items: { id: string; sha: string; status: string }[] }).items.find((r) => r.sha === sha);
    if (run && !['queued', 'running'].includes(run.status)) {
      return (await t.app.server.inject({ url: `/api/pipelines/runs/${run.id}`, headers: { authorization: `Bearer ${t.tokens.vera}` } })).json() as RunBody;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no finished run for ${sha}`);
}

const stepOf = (run: RunBody, name: string) => run.stages.flatMap((s) => s.steps).find((s) => s.name === name);
const stageOf = (run: RunBody, name: string) => run.stages.find((s) => s.name === name)?.status;

describe.each(dialects)('push to pipeline on %s', (dialect) => {
  beforeAll(async () => {
    t = await startGitTestApp({ dialect, listen: true, app: { pipelines: { secretsFor: async () => ({ DEPLOY_TOKEN: secret }) } } });
    const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { owner: 'team-a', name: 'svc' } });
    expect(created.statusCode).toBe(201);
    repoDir = join(t.workDir, 'svc');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/svc'), 'svc'], { cwd: t.workDir })).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  let first: RunBody;

  it('runs the build stage with real npm on a push, and skips the deploy stages of a repository with no score.yaml', async () => {
    writeProject('assert.strictEqual(1 + 1, 2);');
    const sha = await commitAndPush('first');
    first = await waitForRun(sha);
    expect(stepOf(first, 'checkout')?.status).toBe('passed');
    expect(stepOf(first, 'config')?.status).toBe('passed');
    expect(stepOf(first, 'install')).toMatchObject({ status: 'skipped', message: 'package.json declares no dependencies' });
    for (const step of ['compile', 'unit-test', 'lint']) expect(stepOf(first, step)?.status, step).toBe('passed');
    expect(stageOf(first, 'build')).toBe('passed');
    // The security and package stages are the platform's own (scans, SBOM, artifact, signature, provenance).
    for (const stage of ['security', 'package']) expect(stageOf(first, stage), stage).toBe('passed');
    for (const stage of ['deploy-staging', 'deploy-production']) expect(stageOf(first, stage), stage).toBe('skipped');
    expect(stepOf(first, 'deploy')).toMatchObject({ status: 'skipped', message: expect.stringContaining('no score.yaml in the repository') });
    expect(first.status).toBe('passed');
    expect(first.tests).toEqual([expect.objectContaining({ name: 'adds', outcome: 'passed' })]);
    // The server's own runner ran it.
    expect(first.runner).toMatch(/^embedded@/);
  }, 120_000);

  it('masks secrets in stored logs, also base64-encoded', async () => {
    const res = await t.app.server.inject({ url: `/api/pipelines/runs/${first.id}/logs?step=lint`, headers: { authorization: `Bearer ${t.tokens.vera}`, accept: 'text/plain' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('token ***');
    expect(res.body).not.toContain(secret);
    expect(res.body).not.toContain(Buffer.from(`xx${secret}`).toString('base64').slice(4, 30));
  });

  it('records ledger events for the run and its steps', async () => {
    const events = await t.app.server.inject({ url: `/api/events?subject=pipeline-run:${first.id}&limit=100`, headers: { authorization: `Bearer ${t.tokens.admin}` } });
    const kinds = (events.json() as { items: { kind: string }[] }).items.map((e) => e.kind);
    expect(kinds[0]).toBe('pipelines.run.queued');
    expect(kinds).toContain('pipelines.run.started');
    expect(kinds).toContain('pipelines.step.finished');
    expect(kinds[kinds.length - 1]).toBe('pipelines.run.finished');
  });

  it('fails the run when a test fails, with the test result stored', async () => {
    writeProject('assert.strictEqual(1 + 1, 3);');
    const run = await waitForRun(await commitAndPush('break the test'));
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'unit-test')?.status).toBe('failed');
    expect(run.tests).toEqual([expect.objectContaining({ name: 'adds', outcome: 'failed' })]);
    expect(stageOf(run, 'security')).toBe('skipped');
  }, 120_000);

  it('kills a hanging step at its timeout', async () => {
    writeProject('assert.ok(true);', { 'plinth.yaml': 'stages:\n  build:\n    steps:\n      hang:\n        command: sleep 300 & sleep 300\n        timeout: 2\n' });
    const started = Date.now();
    const run = await waitForRun(await commitAndPush('hang'));
    expect(stepOf(run, 'hang')).toMatchObject({ status: 'timed-out', message: 'killed at its time limit of 2s' });
    expect(run.status).toBe('failed');
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);

  it('streams a running step\'s lines over SSE as they are printed, each once and in order, and resumes after Last-Event-ID', async () => {
    const ticks = 'for i in $(seq 1 30); do echo tick $i; sleep 0.05; done';
    writeProject('assert.ok(true);', { 'plinth.yaml': `stages:\n  build:\n    steps:\n      ticks: { command: ${JSON.stringify(ticks)} }\n` });
    const sha = await commitAndPush('ticks');
    let runId: string | undefined;
    for (const deadline = Date.now() + 30_000; !runId && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const list = await t.app.server.inject({ url: '/api/pipelines/runs?repository=team-a/svc', headers: { authorization: `Bearer ${t.tokens.vera}` } });
      runId = (list.json() as { items: { id: string; sha: string }[] }).items.find((r) => r.sha === sha)?.id;
    }
    const follow = async (headers: Record<string, string> = {}) => {
      const res = await fetch(`${t.url}/api/pipelines/runs/${runId}/logs/stream`, { headers: { authorization: `Bearer ${t.tokens.vera}`, accept: 'text/event-stream', ...headers } });
      expect(res.status).toBe(200);
      const events: { id: number; text: string; at: number }[] = [];
      let buffer = '';
      let ended = false;
      const decoder = new TextDecoder();
      const reader = res.body!.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffer += decoder.decode(read.value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: end$/m.test(block)) ended = true;
          const id = /^id: (\d+)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (id && data) events.push({ id: Number(id[1]), text: (JSON.parse(data[1]!) as { text: string }).text, at: Date.now() });
        }
      }
      expect(ended).toBe(true);
      return events;
    };
    const live = await follow();
    expect(live.map((e) => e.id)).toEqual(live.map((_, i) => i + 1));
    const tickEvents = live.filter((e) => /^tick \d+$/.test(e.text));
    expect(tickEvents.map((e) => e.text)).toEqual(Array.from({ length: 30 }, (_, i) => `tick ${i + 1}`));
    // Printed over ~1.5 s and delivered as printed, not all at the end of the run.
    expect(tickEvents.at(-1)!.at - tickEvents[0]!.at).toBeGreaterThan(700);
    const resumed = await follow({ 'last-event-id': String(live[9]!.id) });
    expect(resumed.map((e) => e.id)).toEqual(live.slice(10).map((e) => e.id));
  }, 120_000);

  it('fails an invalid plinth.yaml at the config step with file, line and column', async () => {
    writeProject('assert.ok(true);', { 'plinth.yaml': 'stages:\n  security:\n    enabled: false\n' });
    const run = await waitForRun(await commitAndPush('turn security off'));
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'config')?.message).toBe('plinth.yaml:3:5: stages.security.enabled: the security stage cannot be turned off; only package, deploy-staging, deploy-production are optional');
  }, 120_000);

  it('lets readers read runs but only the owning team rerun them', async () => {
    const bob = await t.app.server.inject({ method: 'POST', url: `/api/pipelines/runs/${first.id}/rerun`, headers: { authorization: `Bearer ${t.tokens.bob}` } });
    expect(bob.statusCode).toBe(403);
    const alice = await t.app.server.inject({ method: 'POST', url: `/api/pipelines/runs/${first.id}/rerun`, headers: { authorization: `Bearer ${t.tokens.alice}` } });
    expect(alice.statusCode).toBe(201);
    expect(alice.json()).toMatchObject({ sha: first.sha, attempt: 2, trigger: 'rerun' });
    const missing = await t.app.server.inject({ url: '/api/pipelines/runs/nope', headers: { authorization: `Bearer ${t.tokens.vera}` } });
    expect(missing.statusCode).toBe(404);
  });

  it('shows runs, stages and logs from the CLI', async () => {
    const plinth = async (...argv: string[]) => {
      const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: t.tokens.vera, PLINTH_CONFIG_DIR: t.workDir });
      const code = await plinthRun(argv, io);
      return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
    };
    const list = await plinth('runs', 'list', '--repo', 'team-a/svc');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(first.id);
    const show = await plinth('runs', 'show', first.id);
    expect(show.stdout).toContain('security: passed');
    expect(show.stdout).toMatch(/unit-test\s+passed/);
    const logs = await plinth('runs', 'logs', '-f', first.id);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('[lint] token ***');
    expect(logs.stdout).not.toContain(secret);
  });
});
