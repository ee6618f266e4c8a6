import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { signFixtureArtifact } from '../../test/helpers/signing.js';
import { run } from './main.js';
import { memoryIo } from './memory-io.js';

// `plinth deploy|rollout|env|logs` in-process against a real listening server running real processes.
const fixtureDir = new URL('../../test/fixtures/runtime/', import.meta.url).pathname;
let t: TestApp;
let dir: string;

beforeAll(async () => {
  t = await startTestApp({ dialect: 'sqlite', listen: true });
  await signFixtureArtifact(t.app, { kind: 'directory', path: fixtureDir });
  dir = await mkdtemp(join(tmpdir(), 'plinth-deploy-cli-'));
}, 60_000);
afterAll(async () => t?.close(), 30_000);

async function plinth(...argv: string[]) {
  const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: t.adminToken, PLINTH_CONFIG_DIR: dir });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

const workload = `service: kiosk
environment: production
version: 1.0.0
command: ["${process.execPath}", "server.mjs"]
readiness: { http: { path: /healthz }, periodMs: 100 }
liveness: { http: { path: /healthz } }
requests: { cpu: 100m, memory: 64Mi }
limits: { memory: 256Mi }
labels: { owner: shop, cost-center: cc-1 }
terminationGraceMs: 500
`;
const score = `apiVersion: score.dev/v1b1
metadata: { name: kiosk }
containers:
  main:
    image: kiosk:1.1.0
    command: ["${process.execPath}", "server.mjs"]
    resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { memory: 256Mi } }
    readinessProbe: { httpGet: { path: /healthz, port: 8080 } }
    livenessProbe: { httpGet: { path: /healthz, port: 8080 } }
`;

describe('plinth deploy, rollout, env, logs', () => {
  it('env list shows the built-in environments; env create and delete', async () => {
    const listed = await plinth('env', 'list');
    expect(listed.stdout).toMatch(/staging\s+direct replace after readiness and smoke test/);
    expect(listed.stdout).toMatch(/production\s+canary 10% → 25% → 50% → 100%, bake 60s/);
    expect((await plinth('env', 'create', 'qa', '--strategy', 'blueGreen')).stdout).toContain('Created environment qa: blue/green');
    expect((await plinth('env', 'create', 'qa', '--strategy', 'rainbow')).code).toBe(2);
    expect((await plinth('env', 'set', 'qa', 'GREETING=hello', 'URL=http://x/?a=b', 'EMPTY=')).stdout).toContain('Set GREETING, URL, EMPTY in qa (3 variables)');
    expect((await plinth('env', 'unset', 'qa', 'EMPTY')).stdout).toContain('Removed EMPTY from qa (2 variables)');
    expect((await plinth('env', 'vars', 'qa')).stdout).toBe('GREETING=hello\nURL=http://x/?a=b\n');
    const bad = await plinth('env', 'set', 'qa', '9LIVES=x');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/9LIVES.*must be a variable name/);
    expect((await plinth('env', 'set', 'qa', 'novalue')).code).toBe(2);
    expect((await plinth('env', 'delete', 'qa')).stdout).toContain('Deleted environment qa');
  });

  it('deploys a spec and a Score file with --wait, shows status and history, undoes, reads logs', { timeout: 60_000 }, async () => {
    await writeFile(join(dir, 'kiosk.yaml'), workload);
    await writeFile(join(dir, 'score.yaml'), score);
    const first = await plinth('deploy', join(dir, 'kiosk.yaml'), '--env', 'staging', '--artifact', fixtureDir, '--wait');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/kiosk 1\.0\.0 in staging: succeeded/);

    const noArtifact = await plinth('deploy', join(dir, 'score.yaml'), '--env', 'staging', '--release', '1.1.0');
    expect(noArtifact).toMatchObject({ code: 2, stderr: expect.stringContaining('is a Score file: give --env, --release (its version) and --artifact') });
    const second = await plinth('deploy', join(dir, 'score.yaml'), '--env', 'staging', '--release', '1.1.0', '--artifact', fixtureDir, '--label', 'owner=shop', '--label', 'cost-center=cc-1', '--wait');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/kiosk 1\.1\.0 in staging: succeeded/);

    const status = await plinth('rollout', 'status', 'kiosk', '--env', 'staging');
    expect(status.stdout).toMatch(/version\s+1\.1\.0/);
    expect(status.stdout).toMatch(/phase\s+succeeded/);
    const undo = await plinth('rollout', 'undo', 'kiosk', '--env', 'staging', '--wait');
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toMatch(/kiosk 1\.0\.0 in staging: succeeded/);
    const history = await plinth('rollout', 'history', 'kiosk');
    expect(history.stdout.split('\n').filter((l) => /staging\s+1\.\d\.0\s+succeeded/.test(l))).toHaveLength(3);
    expect((await plinth('rollout', 'promote', 'kiosk', '--env', 'staging')).stderr).toMatch(/has already succeeded; nothing to promote/);

    const logs = await plinth('logs', 'kiosk', '--env', 'staging', '--grep', 'listening');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/listening on \d+/);
    const missingEnv = await plinth('deploy', join(dir, 'kiosk.yaml'), '--env', 'moon', '--artifact', fixtureDir);
    expect(missingEnv).toMatchObject({ code: 1, stderr: expect.stringContaining('environment "moon" does not exist') });
  });
});
