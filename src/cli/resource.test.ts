import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../app.js';
import { ADMIN_PASSWORD, startTestApp, testConfig, type TestApp } from '../../test/helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/dialects.js';
import { createLogger, type Config, type Principal } from '../kernel/index.js';
import { masterKeyFromBase64 } from '../resources/secrets/crypto.js';
import { createCli } from './context.js';
import { run } from './main.js';
import { memoryIo } from './memory-io.js';
import { parseSet } from './resource.js';
import { registerSecretsCommands } from './secrets.js';

// `plinth resource …` in-process against a real listening server (the secret module needs no external server).

let t: TestApp;
let dir: string;
const env = `cli${Date.now().toString(36)}`;

beforeAll(async () => {
  t = await startTestApp({ dialect: 'sqlite', listen: true });
  dir = await mkdtemp(join(tmpdir(), 'plinth-resource-cli-'));
});
afterAll(async () => {
  await t?.close();
});

async function plinth(...argv: string[]) {
  const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: t.adminToken, PLINTH_CONFIG_DIR: dir });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('plinth resource', () => {
  it('reads --set values as JSON when they parse, else as text', () => {
    expect(parseSet('connectionLimit=20')).toEqual({ connectionLimit: 20 });
    expect(parseSet('extensions=["citext"]', { a: 1 })).toEqual({ a: 1, extensions: ['citext'] });
    expect(parseSet('region=eu-west')).toEqual({ region: 'eu-west' });
    expect(() => parseSet('novalue')).toThrow(/key=value/);
  });

  it('lists the menu with prices', async () => {
    const listed = await plinth('resource', 'modules');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/postgres\s+1\.0\.0\s+postgres\s+small 15 \/ medium 60 \/ large 240 EUR/);
  });

  it('plans, claims with --wait, lists, shows and deletes a claim', async () => {
    const common = ['--name', 'signing', '--env', env, '--owner', 'group:default/team-a', '--cost-center', 'cc-9', '--set', 'keys=["hmac"]'];
    const plan = await plinth('resource', 'plan', 'secret', ...common);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`+ secret claim.${env}.signing with generated keys hmac`);
    expect(plan.stdout).toContain('guardrails: allowed');

    const claimed = await plinth('resource', 'claim', 'secret', ...common, '--wait', '--json');
    expect(claimed.code, claimed.stderr).toBe(0);
    expect(JSON.parse(claimed.stdout)).toMatchObject({ phase: 'ready', outputs: { hmacRef: `claim.${env}.signing/hmac` } });

    const listed = await plinth('resource', 'list', '--env', env);
    expect(listed.stdout).toMatch(new RegExp(`${env}\\s+signing\\s+secret@1\\.0\\.0\\s+ready\\s+group:default/team-a`));
    const shown = await plinth('resource', 'show', 'signing', '--env', env);
    expect(shown.stdout).toContain(`claim.${env}.signing/hmac`);

    const bad = await plinth('resource', 'claim', 'secret', '--name', 'x', '--env', env, '--set', 'bytes=2');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cost-center|bytes/);

    const deleted = await plinth('resource', 'delete', 'signing', '--env', env);
    expect(deleted.code, deleted.stderr).toBe(0);
    const missing = await plinth('resource', 'show', 'nope', '--env', env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no claim nope in environment ${env}`);
  });

  it('backs up, lists backups, restores and rotates a database claim, waiting for each', { timeout: 60_000 }, async () => {
    const claimed = await plinth('resource', 'claim', 'postgres', '--name', 'ops', '--env', env, '--owner', 'group:default/team-a', '--cost-center', 'cc-9', '--wait', '--json');
    expect(claimed.code, claimed.stderr).toBe(0);
    try {
      const backup = await plinth('resource', 'backup', 'ops', '--env', env);
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toMatch(new RegExp(`backup ${env}/ops: succeeded \\(backup (bk-[a-z0-9-]+)\\): \\d+ bytes, kept until`));
      const id = /\(backup (bk-[a-z0-9-]+)\)/.exec(backup.stdout)![1]!;
      const listed = await plinth('resource', 'backups', 'ops', '--env', env);
      expect(listed.stdout).toMatch(new RegExp(`${id}\\s+manual\\s+`));
      const restored = await plinth('resource', 'restore', 'ops', '--env', env, '--backup', id);
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout).toContain(`restore ${env}/ops: succeeded (backup ${id}): restored backup ${id}`);
      const rotated = await plinth('resource', 'rotate', 'ops', '--env', env, '--grace', '60', '--json');
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(JSON.parse(rotated.stdout)).toMatchObject({ kind: 'rotate', phase: 'succeeded', detail: expect.stringMatching(/^password version 2 is active/) });
      const bad = await plinth('resource', 'rotate', 'ops', '--env', env, '--grace', 'soon');
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/a number of seconds/);

      const planned = await plinth('resource', 'upgrade', 'ops', '--env', env, '--preset', 'medium', '--dry-run');
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toMatch(/postgres@1\.\d+\.\d+ \(medium\)/);
      expect(planned.stdout).toContain('guardrails: allowed');
      expect(JSON.parse((await plinth('resource', 'show', 'ops', '--env', env, '--json')).stdout)).toMatchObject({ preset: 'small' });
      const upgraded = await plinth('resource', 'upgrade', 'ops', '--env', env, '--preset', 'medium', '--wait', '--json');
      expect(upgraded.code, upgraded.stderr).toBe(0);
      expect(JSON.parse(upgraded.stdout)).toMatchObject({ phase: 'ready', preset: 'medium' });

      // The shared server may hold other test runs' objects: the exit code follows what is listed.
      const orphans = await plinth('resource', 'orphans', '--json');
      const report = JSON.parse(orphans.stdout) as { items: { name: string }[] };
      expect(orphans.code).toBe(report.items.length > 0 ? 1 : 0);
      expect(report.items.map((o) => o.name)).not.toContain(`pl_${env}__ops`);
    } finally {
      await plinth('resource', 'delete', 'ops', '--env', env);
      // The database goes with the claim (after its final backup) before the server stops.
      for (let i = 0; i < 200 && (await plinth('resource', 'show', 'ops', '--env', env)).code === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    }
  });
});

// `plinth secrets …` against a real server whose store was sealed with key A and restarted on B (A previous).
describe('plinth secrets', () => {
  let db: TestDatabase;
  const apps: App[] = [];
  const [keyA, keyB] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
  const system: Principal = { kind: 'system', name: 'cli-test' };
  let url = '';
  let adminToken = '';
  let memberToken = '';

  const startOn = async (keys: { current: string; previous: string[] }) => {
    const base = testConfig(db);
    const app = await buildApp({ ...base, resources: Object.assign({}, base.resources, { secretsKey: keys.current, secretsPreviousKeys: keys.previous }) } satisfies Config, { logger: createLogger({ level: 'silent', pretty: false }) });
    apps.push(app);
    await app.start();
    return app;
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const onA = await startOn({ current: keyA, previous: [] });
    for (const name of ['cli-one', 'cli-two']) await onA.resources.secrets.create(system, { name, owner: 'group:default/team-a', value: `${name}-value` });
    await onA.stop();
    const onB = await startOn({ current: keyB, previous: [keyA] });
    url = (await onB.listen()).replace('localhost', '127.0.0.1');
    const tokenOf = async (username: string, password: string) => {
      const login = await onB.server.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
      const headers = { cookie: `plinth_session=${login.cookies.find((c) => c.name === 'plinth_session')!.value}`, 'x-csrf-token': (login.json() as { csrfToken: string }).csrfToken };
      return ((await onB.server.inject({ method: 'POST', url: '/api/auth/tokens', headers, payload: { name: 'cli' } })).json() as { secret: string }).secret;
    };
    adminToken = await tokenOf('admin', ADMIN_PASSWORD);
    await onB.server.inject({ method: 'POST', url: '/api/users', headers: { authorization: `Bearer ${adminToken}` }, payload: { username: 'dev', role: 'member', password: 'dev-password' } });
    memberToken = await tokenOf('dev', 'dev-password');
  });
  afterAll(async () => {
    for (const app of apps) await app.stop().catch(() => undefined);
    await db?.drop();
  });

  // The command is registered the way main.ts registers every command group.
  async function secrets(token: string, ...argv: string[]) {
    const io = memoryIo({ PLINTH_URL: url, PLINTH_TOKEN: token, PLINTH_CONFIG_DIR: dir });
    const cli = createCli(io);
    const program = new Command('plinth').option('--server <url>').exitOverride().configureOutput({ writeOut: (t) => void io.stdout.write(t), writeErr: (t) => void io.stderr.write(t) });
    registerSecretsCommands(program, cli);
    let thrown: Error | undefined;
    await program.parseAsync(['secrets', ...argv], { from: 'user' }).catch((err: Error) => (thrown = err));
    return { code: thrown ? 1 : cli.exitCode, thrown, stdout: io.stdoutText(), stderr: io.stderrText() };
  }

  it('shows the keyring, re-wraps with --wait, and then reports that the previous key may go', async () => {
    const [idA, idB] = [masterKeyFromBase64(keyA).id, masterKeyFromBase64(keyB).id];
    const before = await secrets(adminToken, 'keys');
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toMatch(new RegExp(`current key\\s+${idB}`));
    expect(before.stdout).toMatch(new RegExp(`previous keys\\s+${idA}`));
    expect(before.stdout).toMatch(new RegExp(`${idA}\\s+previous\\s+2`));
    expect(before.stdout).not.toContain(keyA);

    const rewrapped = await secrets(adminToken, 'rewrap', '--wait', '--batch-size', '1');
    expect(rewrapped.code, rewrapped.stderr).toBe(0);
    expect(rewrapped.stdout).toMatch(/re-wrap \S+: succeeded/);
    expect(rewrapped.stdout).toMatch(new RegExp(`${idB}\\s+current\\s+2`));
    expect(rewrapped.stdout).toContain(`re-wrapped 2 from ${idA}`);
    expect(rewrapped.stdout).toContain(`every version is on ${idB}: previous keys may now leave the keyring`);

    const json = await secrets(adminToken, 'keys', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ currentKeyId: idB, versions: [{ keyId: idB, state: 'current', count: 2 }], lastRewrap: { phase: 'done', rewrapped: { [idA]: 2 } } });
  });

  it('refuses members and bad batch sizes', async () => {
    const refused = await secrets(memberToken, 'rewrap');
    expect(refused.thrown?.message).toMatch(/platform-admin/);
    const bad = await secrets(adminToken, 'rewrap', '--batch-size', 'lots');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/a number of versions from 1 to 5000/);
  });
});
