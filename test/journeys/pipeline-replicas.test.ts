import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/kernel/index.js';
import { testDialects } from '../helpers/dialects.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// Issue #5 "with PostgreSQL, several server replicas … share the work": two servers on one PostgreSQL
// database and one data directory, each with its embedded runner and two job slots. Pushes to one of
// them queue runs that both take; every run completes once, and either replica serves every run.

const dialects = await testDialects();
const withPostgres = dialects.includes('postgres');
if (!withPostgres) console.warn('pipeline replicas journey skipped: PostgreSQL is not available (it must run under CI)');

interface RunBody { id: string; sha: string; status: string; runner: string | null; attempt: number; stages: { name: string; steps: { name: string; status: string }[] }[] }

describe.runIf(withPostgres)('two server replicas on one PostgreSQL database share the pipeline runs', () => {
  let t: GitTestApp;
  let second: App;
  let repoDir: string;

  const git = async (args: string[]) => {
    const r = await runGitClient(args, { cwd: repoDir });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  const get = async <T>(app: App, url: string): Promise<T> => {
    const res = await app.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.tokens.admin}` } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'postgres', listen: true, config: { jobs: { workerEnabled: true, concurrency: 2, leaseMs: 30_000, drainMs: 2000 } } });
    // The second replica: the same configuration (database, data directory), its own process state.
    second = await buildApp({ ...t.app.kernel.config, port: 0 }, { logger: createLogger({ level: 'silent', pretty: false }) });
    await second.start();
    await second.listen();
    expect((await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { owner: 'team-a', name: 'shared' } })).statusCode).toBe(201);
    repoDir = join(t.workDir, 'shared');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/shared'), 'shared'], { cwd: t.workDir })).code).toBe(0);
    mkdirSync(join(repoDir, 'test'), { recursive: true });
    writeFileSync(join(repoDir, 'package.json'), JSON.stringify({ name: 'shared', version: '1.0.0', private: true, scripts: { build: 'node -e "1"', test: 'node --test test/', lint: 'node -e "1"' } }));
    writeFileSync(join(repoDir, 'test', 'slow.test.js'), `const { test } = require('node:test');\ntest('takes a while', async () => { await new Promise((r) => setTimeout(r, 1500)); });\n`);
  }, 60_000);
  afterAll(async () => {
    await second?.stop();
    await t?.close();
  });

  it('runs every push once, on both replicas, and either replica serves every run', { timeout: 180_000 }, async () => {
    const shas: string[] = [];
    for (let i = 1; i <= 6; i++) {
      await git(['checkout', '-q', '-B', `change-${i}`]);
      await git(['add', '-A']);
      await git(['commit', '-q', '--allow-empty', '-m', `change ${i}`]);
      await git(['push', '-q', 'origin', `HEAD:change-${i}`]);
      shas.push(await git(['rev-parse', 'HEAD']));
    }
    const deadline = Date.now() + 150_000;
    let runs: RunBody[] = [];
    for (;;) {
      const { items } = await get<{ items: { id: string; sha: string; status: string }[] }>(second, '/api/pipelines/runs?repository=team-a/shared');
      const done = items.filter((r) => shas.includes(r.sha) && !['queued', 'running'].includes(r.status));
      if (done.length === shas.length || Date.now() > deadline) {
        runs = await Promise.all(done.map((r) => get<RunBody>(t.app, `/api/pipelines/runs/${r.id}`)));
        expect(items.filter((r) => shas.includes(r.sha)), 'one run per pushed commit').toHaveLength(shas.length);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(runs.map((r) => r.sha).sort()).toEqual([...shas].sort());
    for (const run of runs) {
      expect(run.status, JSON.stringify(run.stages.map((s) => [s.name, s.steps.map((x) => `${x.name}:${x.status}`)]))).toBe('passed');
      expect(run.attempt).toBe(1);
    }
    // Each replica's embedded runner (one worker per server) ran some of them: two slots each, six runs of 1.5 s or more.
    const runners = new Set(runs.map((r) => r.runner));
    expect(runners.size, [...runners].join(', ')).toBe(2);
    // Every job ran to completion exactly once. A run is recorded as passed before its job settles
    // (the handler returns, then the worker commits the completion), so wait for the jobs to settle.
    const jobsOfRuns = async () => {
      const { items: jobs } = await t.app.kernel.jobs.list({ kind: 'pipelines.run', limit: 50 });
      return jobs.filter((j) => runs.some((r) => (j.payload as { runId?: string }).runId === r.id));
    };
    let mine = await jobsOfRuns();
    for (const settleBy = Date.now() + 10_000; mine.some((j) => j.state === 'running' || j.state === 'queued') && Date.now() < settleBy; mine = await jobsOfRuns()) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(mine.map((j) => [j.state, j.attempts])).toEqual(runs.map(() => ['succeeded', 1]));
  });
});
