import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/dialects.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// External runners: the server runs no pipelines itself (embedded runner off); two `plinth runner`
// processes (the compiled CLI, as a user starts it) claim the runs over the API, run the shell steps,
// send the workspace for the platform steps the server runs, and one of them is killed with SIGKILL
// in the middle of a step: its run goes to the other runner and completes once.

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const secret = 'runner-secret-4c3b2a19';
const dialect = (await testDialects()).includes('postgres') ? 'postgres' : 'sqlite';

interface RunnerProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
}

interface RunBody { id: string; sha: string; ref: string; status: string; runner: string | null; stages: { name: string; status: string; steps: { name: string; status: string; message: string | null }[] }[]; tests: { name: string; outcome: string }[] }

let t: GitTestApp;
let repoDir: string;
let scratch: string;
const runners: RunnerProcess[] = [];

function startRunner(name: string, extra: string[] = []): RunnerProcess {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/plinth.js'), 'runner', '--server', t.url, '--token', t.tokens.admin, '--name', name, '--concurrency', '1', '--lease-seconds', '3', '--work-dir', join(scratch, name), ...extra], {
    env: { PATH: process.env.PATH, HOME: join(scratch, `${name}-home`), LANG: 'C.UTF-8', PLINTH_CONFIG_DIR: join(scratch, `${name}-config`) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const runner = { name, child, output: () => output };
  runners.push(runner);
  return runner;
}

function writeProject(testBody: string) {
  mkdirSync(join(repoDir, 'test'), { recursive: true });
  writeFileSync(join(repoDir, 'package.json'), JSON.stringify({
    name: 'svc', version: '1.0.0', private: true,
    scripts: {
      build: 'node -e "require(\'fs\').writeFileSync(\'built.txt\', \'ok\')"',
      test: 'node --test --test-reporter=junit --test-reporter-destination=junit-report.xml --test-reporter=spec --test-reporter-destination=stdout test/',
      lint: 'echo "token $DEPLOY_TOKEN"',
    },
  }, null, 2));
  writeFileSync(join(repoDir, 'test', 'math.test.js'), `const { test } = require('node:test');\nconst assert = require('node:assert');\ntest('adds', async () => { ${testBody} });\n`);
}

async function git(args: string[]) {
  const r = await runGitClient(args, { cwd: repoDir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

async function pushBranch(branch: string, message: string): Promise<string> {
  await git(['checkout', '-q', '-B', branch]);
  await git(['add', '-A']);
  await git(['commit', '-q', '--allow-empty', '-m', message]);
  await git(['push', '-q', 'origin', `HEAD:${branch}`]);
  return git(['rev-parse', 'HEAD']);
}

const api = async <T>(method: 'GET' | 'POST' | 'PUT', url: string, token = t.tokens.admin, payload?: unknown, headers: Record<string, string> = {}) => {
  const res = await t.app.server.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: (String(res.headers['content-type']).startsWith('application/json') ? res.json() : res.body) as T };
};

async function runOf(sha: string): Promise<RunBody | undefined> {
  const list = await api<{ items: { id: string; sha: string }[] }>('GET', '/api/pipelines/runs?repository=team-a/svc');
  const found = list.body.items.find((r) => r.sha === sha);
  return found ? (await api<RunBody>('GET', `/api/pipelines/runs/${found.id}`)).body : undefined;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  const jobs = (await t.app.kernel.jobs.list({ kind: 'pipelines.run', limit: 50 })).items.map((j) => `${j.id} ${j.state} ${j.workerId} attempts=${j.attempts} runAt=${j.runAt} ${j.lastError ?? ''}`);
  throw new Error(`timed out waiting for ${what}; jobs:\n${jobs.join('\n')}\nrunner output:\n${runners.map((r) => `--- ${r.name}\n${r.output()}`).join('\n')}`);
}
const finished = (sha: string) => waitFor(`the run of ${sha}`, async () => {
  const run = await runOf(sha);
  return run && !['queued', 'running'].includes(run.status) ? run : undefined;
});
const stepOf = (run: RunBody, name: string) => run.stages.flatMap((s) => s.steps).find((s) => s.name === name);
/** The queue's record of who ran the run (a runner's jobs carry `runner:<name>`). */
const workerOf = async (run: RunBody, kind = 'pipelines.run') => {
  const { items } = await t.app.kernel.jobs.list({ kind, limit: 200 });
  const job = items.find((j) => (j.payload as { runId?: string }).runId === run.id);
  if (!job) throw new Error(`no job for run ${run.id}`);
  return job;
};

describe(`external runners (plinth runner) on ${dialect}`, () => {
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'plinth-runners-'));
    t = await startGitTestApp({ dialect, listen: true, config: { embeddedRunner: false }, app: { pipelines: { secretsFor: async () => ({ DEPLOY_TOKEN: secret }) } } });
    expect((await api('POST', '/api/git/repos', t.tokens.alice, { owner: 'team-a', name: 'svc' })).status).toBe(201);
    repoDir = join(t.workDir, 'svc');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/svc'), 'svc'], { cwd: t.workDir })).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    for (const r of runners) r.child.kill('SIGKILL');
    await t?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses a runner without the platform-admin role, and a write under a lease it does not hold', async () => {
    const claim = await api<{ error: { message: string } }>('POST', '/api/pipelines/runner/claim', t.tokens.alice, { name: 'sneaky', waitSeconds: 0 });
    expect(claim.status).toBe(403);
    expect(claim.body.error.message).toMatch(/platform-admin/);
    const write = await api<{ error: { message: string } }>('POST', '/api/pipelines/runner/leases/no-such-job/logs', t.tokens.admin, { lines: [] }, { 'x-plinth-lease': 'forged' });
    expect(write.status).toBe(409);
    expect(write.body.error.message).toMatch(/no longer held/);
    const labels = await api<{ error: { message: string } }>('POST', '/api/pipelines/runner/claim', t.tokens.admin, { name: 'r', labels: ['Not A Label'], waitSeconds: 0 });
    expect(labels.status).toBe(400);
  });

  it('leaves runs queued with no runner, then two runners share them: shell steps on the runners, platform steps in the server', { timeout: 180_000 }, async () => {
    writeProject('await new Promise((r) => setTimeout(r, 1500)); assert.strictEqual(1 + 1, 2);');
    const shas = [];
    for (let i = 1; i <= 4; i++) shas.push(await pushBranch(`feature-${i}`, `change ${i}`));
    await new Promise((r) => setTimeout(r, 1500));
    // The embedded runner is off: nothing takes the runs until a runner connects.
    for (const sha of shas) expect((await waitFor('the queued run', () => runOf(sha))).status).toBe('queued');

    startRunner('runner-a');
    startRunner('runner-b');
    const runs = [];
    for (const sha of shas) runs.push(await finished(sha));
    for (const run of runs) {
      expect(run.status, JSON.stringify(run.stages)).toBe('passed');
      for (const step of ['checkout', 'compile', 'unit-test', 'lint']) expect(stepOf(run, step)?.status, step).toBe('passed');
      // Scans, SBOM, the artifact and its signature ran in the server on the runner's workspace.
      for (const step of ['secrets-scan', 'sbom', 'build-artifact', 'sign']) expect(stepOf(run, step)?.status, step).toBe('passed');
      expect(run.tests).toEqual([expect.objectContaining({ name: 'adds', outcome: 'passed' })]);
    }
    const workers = await Promise.all(runs.map((run) => workerOf(run)));
    expect(new Set(workers.map((w) => w.workerId))).toEqual(new Set(['runner:runner-a', 'runner:runner-b']));
    // The run says which runner ran it, by the name the runner was started with (the job's lease is gone by now).
    for (const [i, run] of runs.entries()) expect(`runner:${run.runner}`).toBe(workers[i]!.workerId);
    const logs = await api<string>('GET', `/api/pipelines/runs/${runs[0]!.id}/logs`, t.tokens.admin, undefined, { accept: 'text/plain' });
    expect(logs.body).toContain('[lint] token ***');
    expect(logs.body).not.toContain(secret);
    expect(logs.body).toMatch(/\[unit-test\] .*adds/);
  });

  it('a runner killed with SIGKILL mid-step: its run goes to the other runner and completes once', { timeout: 180_000 }, async () => {
    writeProject('await new Promise((r) => setTimeout(r, 8000)); assert.ok(true);');
    const sha = await pushBranch('slow', 'slow test');
    const running = await waitFor('the unit-test step to run', async () => {
      const run = await runOf(sha);
      return run && stepOf(run, 'unit-test')?.status === 'running' ? run : undefined;
    });
    const holder = (await workerOf(running)).workerId;
    const victim = runners.find((r) => `runner:${r.name}` === holder)!;
    expect(victim).toBeDefined();
    victim.child.kill('SIGKILL');
    const run = await finished(sha);
    expect(run.status).toBe('passed');
    const job = await workerOf(run);
    expect(job.workerId).not.toBe(holder);
    // The runner that took the run over is the one the run names.
    expect(`runner:${run.runner}`).toBe(job.workerId);
    expect(job.attempts).toBe(2);
    const events = await t.app.kernel.ledger.query({ subject: `pipeline-run:${run.id}`, kinds: ['pipelines.run.finished'] }, 10);
    expect(events).toHaveLength(1);
    const logs = await api<string>('GET', `/api/pipelines/runs/${run.id}/logs`, t.tokens.admin, undefined, { accept: 'text/plain' });
    expect(logs.body).toContain('the runner was interrupted; running the pipeline again from the start');
  });

  it('cancels a run on a runner within seconds', { timeout: 90_000 }, async () => {
    writeProject('await new Promise((r) => setTimeout(r, 60000));');
    const sha = await pushBranch('to-cancel', 'hangs');
    const running = await waitFor('the unit-test step to run', async () => {
      const run = await runOf(sha);
      return run && stepOf(run, 'unit-test')?.status === 'running' ? run : undefined;
    });
    const asked = Date.now();
    expect((await api('POST', `/api/pipelines/runs/${running.id}/cancel`)).status).toBe(200);
    const run = await finished(sha);
    expect(run.status).toBe('cancelled');
    expect(Date.now() - asked).toBeLessThan(10_000);
  });

  it('a run whose plinth.yaml asks for runner labels waits for a runner that has them all', { timeout: 120_000 }, async () => {
    writeProject('assert.ok(true);');
    writeFileSync(join(repoDir, 'plinth.yaml'), 'runner:\n  labels: [gpu, node]\n');
    const sha = await pushBranch('needs-gpu', 'needs a gpu runner');
    await new Promise((r) => setTimeout(r, 4000));
    // runner-a and runner-b have node but not gpu.
    expect((await runOf(sha))?.status).toBe('queued');
    startRunner('runner-gpu', ['--labels', 'gpu']);
    const run = await finished(sha);
    expect(run.status).toBe('passed');
    // Its job is of the kind only runners with both labels claim.
    expect((await workerOf(run, 'pipelines.run:gpu+node')).workerId).toBe('runner:runner-gpu');
    rmSync(join(repoDir, 'plinth.yaml'));
  });
});
