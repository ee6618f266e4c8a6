import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { run } from './main.js';
import { memoryIo } from './memory-io.js';
import { parseSet } from './resource.js';

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
    } finally {
      await plinth('resource', 'delete', 'ops', '--env', env);
      // The database goes with the claim (after its final backup) before the server stops.
      for (let i = 0; i < 200 && (await plinth('resource', 'show', 'ops', '--env', env)).code === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    }
  });
});
