import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// Package-manager caches end to end (issue 5): real git pushes, the embedded runner, real `npm ci`.
// The dependency is a tarball served by a plain HTTP server on 127.0.0.1 (no registry, no network):
// npm downloads it on a cold install, and a warm install must not ask for it again.
// SQLite only: the caches live on the runner's disk and never touch the database.

let t: GitTestApp;
let tarballs: Server;
let base = '';
const requests: string[] = [];
const packed = new Map<string, { bytes: Buffer; integrity: string }>();

function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // No update check (it would reach for the registry) and errors printed, so a failure says why.
    const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH, HOME: cwd, npm_config_update_notifier: 'false', npm_config_loglevel: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}: ${out}`))));
  });
}

/** `npm pack` of a one-file package, served at <base>/<name>-<version>.tgz. */
async function pack(version: string): Promise<void> {
  const dir = join(t.workDir, `dep-${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'plinth-fixture-dep', version, main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), `module.exports = '${version}';\n`);
  const file = (await run('npm', ['pack', '--pack-destination', dir], dir)).trim().split('\n').at(-1)!;
  const bytes = readFileSync(join(dir, file));
  packed.set(`/${file}`, { bytes, integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}` });
}

/** A project depending on the tarball of `version`, with its package-lock.json (lockfile v3). */
function writeProject(dir: string, version: string) {
  const url = `${base}/plinth-fixture-dep-${version}.tgz`;
  const { integrity } = packed.get(`/plinth-fixture-dep-${version}.tgz`)!;
  const deps = { 'plinth-fixture-dep': url };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'svc', version: '1.0.0', private: true, dependencies: deps, scripts: { build: 'node -e "console.log(\'dep \' + require(\'plinth-fixture-dep\'))"' } }, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({
    name: 'svc', version: '1.0.0', lockfileVersion: 3, requires: true,
    packages: { '': { name: 'svc', version: '1.0.0', dependencies: deps }, 'node_modules/plinth-fixture-dep': { version, resolved: url, integrity } },
  }, null, 2));
  // Only the build stage matters here; the security stage cannot be turned off.
  writeFileSync(join(dir, 'plinth.yaml'), 'stages:\n  package: { enabled: false }\n  deploy-staging: { enabled: false }\n  deploy-production: { enabled: false }\n');
}

async function clone(owner: string, token: string): Promise<string> {
  const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${token}` }, payload: { owner, name: 'svc' } });
  expect(created.statusCode).toBe(201);
  const r = await runGitClient(['clone', cloneUrl(t.url, token, `${owner}/svc`), owner], { cwd: t.workDir });
  expect(r.code, r.stderr).toBe(0);
  return join(t.workDir, owner);
}

async function commitAndPush(dir: string, message: string): Promise<string> {
  for (const args of [['add', '-A'], ['commit', '-q', '-m', message], ['push', '-q', 'origin', 'HEAD:main']]) {
    const r = await runGitClient(args, { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  }
  return (await runGitClient(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
}

interface RunBody { id: string; status: string; stages: { steps: { name: string; status: string; message: string | null }[] }[] }

async function waitForRun(repository: string, match: (r: { id: string; sha: string }) => boolean): Promise<RunBody & { installLog: string }> {
  const headers = { authorization: `Bearer ${t.tokens.admin}` };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const list = await t.app.server.inject({ url: `/api/pipelines/runs?repository=${repository}`, headers });
    const found = (list.json() as { items: { id: string; sha: string; status: string }[] }).items.find(match);
    if (found && !['queued', 'running'].includes(found.status)) {
      const detail = (await t.app.server.inject({ url: `/api/pipelines/runs/${found.id}`, headers })).json() as RunBody;
      const installLog = (await t.app.server.inject({ url: `/api/pipelines/runs/${found.id}/logs?step=install`, headers: { ...headers, accept: 'text/plain' } })).body;
      return { ...detail, installLog };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no finished run in ${repository}`);
}

const install = (run: RunBody) => run.stages.flatMap((s) => s.steps).find((s) => s.name === 'install');
const keyIn = (log: string, pattern: RegExp) => pattern.exec(log)?.[1];

describe('package-manager caches', () => {
  let cachesRoot: string;
  let teamA: string;
  let first: RunBody & { installLog: string };
  let firstKey: string;

  beforeAll(async () => {
    tarballs = createServer((req, res) => {
      requests.push(req.url ?? '');
      const found = packed.get(req.url ?? '');
      if (!found) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(found.bytes);
    });
    await new Promise<void>((resolve) => tarballs.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(tarballs.address() as AddressInfo).port}`;
    t = await startGitTestApp({ dialect: 'sqlite', listen: true });
    cachesRoot = join(t.app.kernel.config.dataDir, 'pipelines', 'caches');
    await Promise.all([pack('1.0.0'), pack('1.0.1')]);
    teamA = await clone('team-a', t.tokens.alice);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => tarballs?.close(resolve));
  });

  it('downloads on a cold install and saves the cache under the lockfile key', async () => {
    writeProject(teamA, '1.0.0');
    const sha = await commitAndPush(teamA, 'first');
    first = await waitForRun('team-a/svc', (r) => r.sha === sha);
    expect(install(first)?.status, first.installLog).toBe('passed');
    firstKey = keyIn(first.installLog, /cache miss \(key (npm-[0-9a-f]{32})\)/)!;
    expect(firstKey, first.installLog).toBeDefined();
    expect(first.installLog).toMatch(new RegExp(`cache saved \\(key ${firstKey}, \\d+\\.\\d MB\\)`));
    expect(first.installLog).toContain('npm ci --no-audit --no-fund');
    expect(requests).toEqual(['/plinth-fixture-dep-1.0.0.tgz']);
    expect(existsSync(join(cachesRoot, 'team-a', 'svc', firstKey, 'workspace', 'node_modules', 'plinth-fixture-dep', 'index.js'))).toBe(true);
    expect(existsSync(join(cachesRoot, 'team-a', 'svc', firstKey, 'home', '.npm'))).toBe(true);
  }, 120_000);

  it('restores the exact key on the next run, which downloads nothing', async () => {
    const rerun = await t.app.server.inject({ method: 'POST', url: `/api/pipelines/runs/${first.id}/rerun`, headers: { authorization: `Bearer ${t.tokens.alice}` } });
    expect(rerun.statusCode).toBe(201);
    const id = (rerun.json() as { id: string }).id;
    const warm = await waitForRun('team-a/svc', (r) => r.id === id);
    expect(install(warm)?.status, warm.installLog).toBe('passed');
    expect(warm.installLog).toMatch(new RegExp(`cache restored \\(key ${firstKey}, \\d+\\.\\d MB\\)`));
    expect(warm.installLog).not.toContain('cache saved');
    expect(warm.stages.flatMap((s) => s.steps).find((s) => s.name === 'compile')?.status).toBe('passed');
    expect(requests).toHaveLength(1);
  }, 120_000);

  it('changes the key with the lockfile and falls back to the newest download cache', async () => {
    writeProject(teamA, '1.0.1');
    const sha = await commitAndPush(teamA, 'bump the dependency');
    const bumped = await waitForRun('team-a/svc', (r) => r.sha === sha);
    expect(install(bumped)?.status, bumped.installLog).toBe('passed');
    const key = keyIn(bumped.installLog, /cache miss \(key (npm-[0-9a-f]{32})\); restored the newest npm cache of this repository instead/);
    expect(key, bumped.installLog).toBeDefined();
    expect(key).not.toBe(firstKey);
    expect(bumped.installLog).toContain(`(key ${firstKey}, `);
    expect(bumped.installLog).toContain(`cache saved (key ${key}, `);
    expect(requests).toEqual(['/plinth-fixture-dep-1.0.0.tgz', '/plinth-fixture-dep-1.0.1.tgz']);
    expect(readdirSync(join(cachesRoot, 'team-a', 'svc')).sort()).toEqual([firstKey, key].sort());
  }, 120_000);

  it('never restores one repository’s cache in another, even for the same lockfile', async () => {
    const teamB = await clone('team-b', t.tokens.bob);
    writeProject(teamB, '1.0.0');
    const sha = await commitAndPush(teamB, 'same lockfile, other team');
    const other = await waitForRun('team-b/svc', (r) => r.sha === sha);
    expect(install(other)?.status, other.installLog).toBe('passed');
    expect(other.installLog).toContain(`cache miss (key ${firstKey})`);
    expect(other.installLog).not.toContain('cache restored');
    expect(requests.filter((r) => r === '/plinth-fixture-dep-1.0.0.tgz')).toHaveLength(2);
    expect(readdirSync(join(cachesRoot, 'team-b', 'svc'))).toEqual([firstKey]);
  }, 120_000);
});
