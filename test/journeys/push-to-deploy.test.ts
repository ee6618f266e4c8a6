import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/dialects.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// Push to deploy, end to end: a push to the default branch builds, scans, packs and signs the service,
// deploys it to staging, load-tests it there, and rolls it out to production as a canary judged on live
// traffic through the gateway. A version that serves errors is rolled back and its run fails, with the
// stable version untouched. Real git, npm, node processes, gateway and HTTP throughout.
//
// One dialect: the pipeline and delivery stores are exercised on both by their own suites; this journey
// is about the wiring between the layers, and each run takes real seconds.

const dialects = await testDialects();
const [dialect] = dialects;
/** The PostgreSQL provider's server is the one the postgres dialect runs on. */
const withPostgres = dialects.includes('postgres');
const ledgerService = `ledger-${Date.now().toString(36)}`;

interface StepBody { name: string; status: string; message: string | null; outputs: Record<string, unknown> | null }
interface RunBody { id: string; sha: string; status: string; definitionVersion: string; stages: { name: string; status: string; steps: StepBody[] }[] }

/**
 * A small HTTP service answering its version. With `failPercent`, a bad release: in production, after
 * its first few requests (the pre-traffic smoke test passes), that share of requests answers 500.
 */
const serverSource = (version: string, failPercent: number) => `
const http = require('node:http');
let n = 0;
const failing = ${failPercent} > 0 && process.env.PLINTH_ENVIRONMENT === 'production';
http.createServer((req, res) => {
  if (req.url === '/healthz') { res.end('ok'); return; }
  n++;
  if (failing && n > 3 && n % 100 < ${failPercent}) { res.statusCode = 500; res.end('broken'); return; }
  res.end('${version}');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const score = `apiVersion: score.dev/v1b1
metadata:
  name: greeter
  annotations:
    plinth.dev/cost-center: cc-42
service:
  ports:
    http: { port: 80, targetPort: 8080 }
containers:
  main:
    image: .
    command: ["node", "src/main.js"]
    resources:
      limits: { cpu: 500m, memory: 256Mi }
      requests: { cpu: 100m, memory: 64Mi }
    readinessProbe:
      httpGet: { port: 8080, path: /healthz }
    livenessProbe:
      httpGet: { port: 8080, path: /healthz }
`;

function gatewayGet(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.runIf(dialect !== undefined)(`push to deploy on ${dialect ?? 'no dialect'}`, () => {
  let t: GitTestApp;
  let repoDir: string;
  let gatewayPort: number;
  const get = (url: string, token = t.tokens.alice) => t.app.server.inject({ url, headers: { authorization: `Bearer ${token}` } });
  const stepOf = (run: RunBody, name: string) => run.stages.flatMap((s) => s.steps).find((s) => s.name === name);

  async function waitForRun(sha: string): Promise<RunBody> {
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      const list = await get('/api/pipelines/runs?repository=team-a/greeter');
      const run = (list.json() as { items: { id: string; sha: string; status: string }[] }).items.find((r) => r.sha === sha);
      if (run && !['queued', 'running'].includes(run.status)) return (await get(`/api/pipelines/runs/${run.id}`)).json() as RunBody;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no finished run for ${sha}`);
  }

  async function pushVersion(version: string, failPercent: number, extra: Record<string, string> = {}): Promise<string> {
    mkdirSync(join(repoDir, 'src'), { recursive: true });
    writeFileSync(join(repoDir, 'package.json'), JSON.stringify({
      name: 'greeter', version, private: true, files: ['src'],
      scripts: { test: 'node -e "process.exit(0)"', 'test:integration': 'node test-integration.js' },
    }, null, 2));
    writeFileSync(join(repoDir, 'src', 'main.js'), serverSource(version, failPercent));
    writeFileSync(join(repoDir, 'score.yaml'), score);
    // The integration test reads the staging URL the deploy step hands on, and calls the service there.
    writeFileSync(join(repoDir, 'test-integration.js'), `
const http = require('node:http');
const url = new URL(process.env.PLINTH_OUTPUT_DEPLOY_URL);
http.get({ host: '127.0.0.1', port: url.port, path: '/', headers: { host: url.hostname } }, (res) => {
  let body = ''; res.on('data', (c) => (body += c));
  res.on('end', () => { console.log('staging answered', res.statusCode, body); process.exit(res.statusCode === 200 || res.statusCode === 500 ? 0 : 1); });
}).on('error', (e) => { console.error(e.message); process.exit(1); });
`);
    for (const [file, text] of Object.entries(extra)) writeFileSync(join(repoDir, file), text);
    for (const args of [['add', '-A'], ['commit', '-q', '-m', `greeter ${version}`], ['push', '-q', 'origin', 'HEAD:main']]) expect((await runGitClient(args, { cwd: repoDir })).code).toBe(0);
    return (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();
  }

  /** Live traffic on production while a canary is judged (what users would send). */
  function trafficWhile(done: () => boolean): Promise<void> {
    return (async () => {
      while (!done()) {
        await Promise.all(Array.from({ length: 4 }, () => gatewayGet(gatewayPort, 'greeter.production.localhost').catch(() => undefined)));
      }
    })();
  }

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: dialect!, listen: true });
    gatewayPort = t.app.runtime.gatewayPort()!;
    // A quick production canary for the test: one 50% step judged on at least 30 canary requests.
    const patched = await t.app.server.inject({
      method: 'PATCH', url: '/api/delivery/environments/production', headers: { authorization: `Bearer ${t.tokens.admin}` },
      payload: { strategy: { kind: 'canary', steps: [{ weightPercent: 50, bakeMs: 1500 }], analysisIntervalMs: 500, analysis: { minRequests: 30 } } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { owner: 'team-a', name: 'greeter' } });
    expect(created.statusCode).toBe(201);
    repoDir = join(t.workDir, 'greeter');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/greeter'), 'greeter'], { cwd: t.workDir })).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    if (withPostgres) {
      // The claims' databases and roles on the shared server go with the run.
      const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await client.connect();
      try {
        const like = `pl\\_%\\_\\_${ledgerService.replaceAll('-', '\\_')}\\_db`;
        for (const { datname } of (await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [like])).rows) await client.query(`drop database if exists "${datname}" with (force)`);
        for (const { rolname } of (await client.query<{ rolname: string }>('select rolname from pg_roles where rolname like $1', [like])).rows) await client.query(`drop role if exists "${rolname}"`);
      } finally {
        await client.end();
      }
    }
  });

  let first: RunBody;

  it('deploys the first version of a service to staging and production on push', { timeout: 180_000 }, async () => {
    const sha = await pushVersion('1.0.0', 0);
    first = await waitForRun(sha);
    expect(first.definitionVersion).toBe('standard@3');
    expect(first.status, JSON.stringify(first.stages.map((s) => [s.name, s.steps.map((x) => [x.name, x.status, x.message])]))).toBe('passed');
    expect(stepOf(first, 'deploy')).toMatchObject({ status: 'passed', outputs: { service: 'greeter', environment: 'staging', version: sha.slice(0, 12) } });
    expect(stepOf(first, 'integration-test')?.status).toBe('passed');
    expect(stepOf(first, 'performance-test')).toMatchObject({ status: 'passed', outputs: { requests: 200, errors: 0 } });
    for (const step of ['canary', 'analysis', 'progressive-rollout', 'smoke-test']) expect(stepOf(first, step)?.status, step).toBe('passed');
    expect(await gatewayGet(gatewayPort, 'greeter.staging.localhost')).toEqual({ status: 200, body: '1.0.0' });
    expect(await gatewayGet(gatewayPort, 'greeter.production.localhost')).toEqual({ status: 200, body: '1.0.0' });
    // The rollouts carry the commit and the signed artifact: what DORA's deployment frequency and lead time read.
    const rollouts = (await get('/api/delivery/rollouts?service=greeter')).json() as { items: { environment: string; commit: string; artifactDigest: string; ownerRef: string }[] };
    expect(rollouts.items.map((r) => r.environment).sort()).toEqual(['production', 'staging']);
    for (const r of rollouts.items) expect(r).toMatchObject({ commit: sha, artifactDigest: stepOf(first, 'build-artifact')!.outputs!.digest, ownerRef: 'group:default/team-a' });
  });

  it('rolls the next version out to production as a canary judged on live traffic', { timeout: 180_000 }, async () => {
    const sha = await pushVersion('1.1.0', 0);
    let finished = false;
    const traffic = trafficWhile(() => finished);
    const run = await waitForRun(sha).finally(() => (finished = true));
    await traffic;
    expect(run.status, JSON.stringify(run.stages.map((s) => [s.name, s.steps.map((x) => [x.name, x.status, x.message])]))).toBe('passed');
    expect(stepOf(run, 'canary')?.message).toContain('takes 50% of production traffic');
    expect(stepOf(run, 'analysis')?.status).toBe('passed');
    expect(await gatewayGet(gatewayPort, 'greeter.production.localhost')).toEqual({ status: 200, body: '1.1.0' });
  });

  it('rolls back a version that serves errors and fails its run, leaving production on the stable version', { timeout: 180_000 }, async () => {
    const sha = await pushVersion('1.2.0', 40);
    let finished = false;
    const traffic = trafficWhile(() => finished);
    const run = await waitForRun(sha).finally(() => (finished = true));
    await traffic;
    expect(run.status).toBe('failed');
    // Healthy in staging; in production the canary's errors fail its analysis and the rollout goes back.
    expect(stepOf(run, 'performance-test')?.status).toBe('passed');
    expect(stepOf(run, 'canary')?.status).toBe('passed');
    expect(stepOf(run, 'analysis')).toMatchObject({ status: 'failed', message: expect.stringContaining('was rolled back') });
    expect(stepOf(run, 'progressive-rollout')?.status).toBe('skipped');
    expect(await gatewayGet(gatewayPort, 'greeter.production.localhost')).toEqual({ status: 200, body: '1.1.0' });
    expect(await gatewayGet(gatewayPort, 'greeter.staging.localhost')).toEqual({ status: 200, body: '1.2.0' });
  });

  it('deploys a branch to its own preview environment, removed when the branch is deleted', { timeout: 120_000 }, async () => {
    expect((await runGitClient(['checkout', '-q', '-b', 'feature/greet-loudly'], { cwd: repoDir })).code).toBe(0);
    mkdirSync(join(repoDir, 'src'), { recursive: true });
    writeFileSync(join(repoDir, 'src', 'main.js'), serverSource('1.3.0-preview', 0));
    for (const args of [['add', '-A'], ['commit', '-q', '-m', 'louder'], ['push', '-q', 'origin', 'HEAD:feature/greet-loudly']]) expect((await runGitClient(args, { cwd: repoDir })).code).toBe(0);
    const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();
    const run = await waitForRun(sha);
    expect(run.status, JSON.stringify(run.stages.map((s) => [s.name, s.steps.map((x) => [x.name, x.status, x.message])]))).toBe('passed');
    const environment = stepOf(run, 'deploy')!.outputs!.environment as string;
    expect(environment).toMatch(/^pv-feature-gr-[0-9a-f]{6}$/);
    for (const step of ['canary', 'analysis', 'progressive-rollout', 'smoke-test']) expect(stepOf(run, step)?.status, step).toBe('skipped');
    expect(await gatewayGet(gatewayPort, `greeter.${environment}.localhost`)).toEqual({ status: 200, body: '1.3.0-preview' });
    expect(await gatewayGet(gatewayPort, 'greeter.production.localhost')).toEqual({ status: 200, body: '1.1.0' });
    const env = (await get(`/api/delivery/environments/${environment}`)).json() as { preview: { repository: string; branch: string; expiresAt: string } };
    expect(env.preview).toMatchObject({ repository: 'team-a/greeter', branch: 'feature/greet-loudly' });
    expect(Date.parse(env.preview.expiresAt)).toBeGreaterThan(Date.now() + 70 * 3_600_000);

    expect((await runGitClient(['push', '-q', 'origin', '--delete', 'feature/greet-loudly'], { cwd: repoDir })).code).toBe(0);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await get(`/api/delivery/environments/${environment}`)).statusCode !== 404) await new Promise((r) => setTimeout(r, 200));
    expect((await get(`/api/delivery/environments/${environment}`)).statusCode).toBe(404);
    expect((await gatewayGet(gatewayPort, `greeter.${environment}.localhost`)).status).toBe(503);
    expect((await runGitClient(['checkout', '-q', 'main'], { cwd: repoDir })).code).toBe(0);
  });

  it.runIf(withPostgres)('claims the resources score.yaml declares and injects their credentials as secrets', { timeout: 150_000 }, async () => {
    const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { owner: 'team-a', name: 'ledger' } });
    expect(created.statusCode).toBe(201);
    const dir = join(t.workDir, 'ledger');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/ledger'), 'ledger'], { cwd: t.workDir })).code).toBe(0);
    // The service (and so its claims' databases on the shared server) is named apart per test run.
    const service = ledgerService;
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ledger', version: '1.0.0', private: true, files: ['src'] }));
    // The service asks its database who it is, with the connection string the platform injected.
    writeFileSync(join(dir, 'src', 'main.js'), `
const http = require('node:http');
const { execFile } = require('node:child_process');
http.createServer((req, res) => {
  if (req.url !== '/db') { res.end('ok'); return; }
  execFile('psql', [process.env.DATABASE_URL, '-tAc', 'select current_user || \\' on \\' || current_database()'], (err, stdout, stderr) => {
    res.statusCode = err ? 500 : 200;
    res.end(err ? String(stderr).replace(process.env.DATABASE_URL, '<url>') : stdout.trim());
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
`);
    writeFileSync(join(dir, 'score.yaml'), score.replace('name: greeter', `name: ${service}`).replace(`    livenessProbe:`, `    variables:
      DATABASE_URL: "postgres://\${resources.db.username}:\${resources.db.password}@\${resources.db.host}:\${resources.db.port}/\${resources.db.name}"
    livenessProbe:`) + 'resources:\n  db:\n    type: postgres\n');
    for (const args of [['add', '-A'], ['commit', '-q', '-m', 'ledger with a database'], ['push', '-q', 'origin', 'HEAD:main']]) expect((await runGitClient(args, { cwd: dir })).code).toBe(0);
    const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
    const deadline = Date.now() + 120_000;
    let run: RunBody | undefined;
    while (Date.now() < deadline && !run) {
      const list = (await get('/api/pipelines/runs?repository=team-a/ledger')).json() as { items: { id: string; sha: string; status: string }[] };
      const found = list.items.find((r) => r.sha === sha && !['queued', 'running'].includes(r.status));
      if (found) run = (await get(`/api/pipelines/runs/${found.id}`)).json() as RunBody;
      else await new Promise((r) => setTimeout(r, 250));
    }
    expect(run?.status, JSON.stringify(run?.stages.map((s) => [s.name, s.steps.map((x) => [x.name, x.status, x.message])]))).toBe('passed');
    // One claim per environment, each its own database; the credential reached the process, not the spec.
    for (const environment of ['staging', 'production']) {
      const answer = await gatewayGet(gatewayPort, `${service}.${environment}.localhost`, '/db');
      expect(answer, environment).toEqual({ status: 200, body: expect.stringMatching(/^(\w+) on \1$/) });
      const claims = (await get(`/api/resources/claims?environment=${environment}&name=${service}-db`)).json() as { items: { phase: string; owner: string; tags: Record<string, string> }[] };
      expect(claims.items[0]).toMatchObject({ phase: 'ready', owner: 'group:default/team-a', tags: expect.objectContaining({ 'cost-center': 'cc-42' }) });
    }
    const [rollout] = ((await get(`/api/delivery/rollouts?service=${service}&environment=staging`)).json() as { items: { releaseId: string }[] }).items;
    const release = await t.app.runtime.release({ kind: 'system', name: 'test' }, rollout!.releaseId);
    expect(release.spec.env.DATABASE_URL).toBeUndefined();
    expect(release.spec.secrets).toEqual([{ env: 'DATABASE_URL', ref: `claim.staging.${service}-db/password`, template: expect.stringMatching(/^postgres:\/\/\w+:\$\{secret\}@/) }]);

    // Rotating the credential restarts the service with the new one; the old release goes.
    const [claim] = ((await get(`/api/resources/claims?environment=staging&name=${service}-db`)).json() as { items: { id: string }[] }).items;
    const rotated = await t.app.server.inject({ method: 'POST', url: `/api/resources/claims/${claim!.id}/rotate`, headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { graceSeconds: 60 } });
    expect(rotated.statusCode, rotated.body).toBeLessThan(300);
    const stableNow = () => t.app.runtime.traffic({ kind: 'system', name: 'test' }, service, 'staging')?.stable;
    const restartDeadline = Date.now() + 30_000;
    while (Date.now() < restartDeadline && stableNow() === rollout!.releaseId) await new Promise((r) => setTimeout(r, 200));
    expect(stableNow()).not.toBe(rollout!.releaseId);
    expect(await gatewayGet(gatewayPort, `${service}.staging.localhost`, '/db')).toEqual({ status: 200, body: expect.stringMatching(/^(\w+) on \1$/) });
  });

  it('refuses to deploy a service another team owns', { timeout: 120_000 }, async () => {
    const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.bob}` }, payload: { owner: 'team-b', name: 'impostor' } });
    expect(created.statusCode).toBe(201);
    const dir = join(t.workDir, 'impostor');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.bob, 'team-b/impostor'), 'impostor'], { cwd: t.workDir })).code).toBe(0);
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'impostor', version: '1.0.0', private: true, files: ['src'] }));
    writeFileSync(join(dir, 'src', 'main.js'), serverSource('impostor', 0));
    writeFileSync(join(dir, 'score.yaml'), score);
    for (const args of [['add', '-A'], ['commit', '-q', '-m', 'take over greeter'], ['push', '-q', 'origin', 'HEAD:main']]) expect((await runGitClient(args, { cwd: dir })).code).toBe(0);
    const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
    const deadline = Date.now() + 120_000;
    let run: RunBody | undefined;
    while (Date.now() < deadline && !run) {
      const list = (await get('/api/pipelines/runs?repository=team-b/impostor', t.tokens.bob)).json() as { items: { id: string; sha: string; status: string }[] };
      const found = list.items.find((r) => r.sha === sha && !['queued', 'running'].includes(r.status));
      if (found) run = (await get(`/api/pipelines/runs/${found.id}`, t.tokens.bob)).json() as RunBody;
      else await new Promise((r) => setTimeout(r, 250));
    }
    expect(run?.status).toBe('failed');
    expect(stepOf(run!, 'deploy')).toMatchObject({ status: 'failed', message: expect.stringContaining('is owned by group:default/team-a') });
    expect(await gatewayGet(gatewayPort, 'greeter.production.localhost')).toEqual({ status: 200, body: '1.1.0' });
  });
});
