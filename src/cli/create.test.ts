import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitTestApp, type GitTestApp } from '../../test/helpers/git.js';
import { run } from './main.js';
import { memoryIo } from './memory-io.js';

// `plinth create` in-process against a real listening server with the built-in golden paths.

let t: GitTestApp;

beforeAll(async () => {
  t = await startGitTestApp({ dialect: 'sqlite', listen: true, config: { builtinTemplates: true } });
  await t.app.templatesReady();
});
afterAll(async () => {
  await t?.close();
});

async function plinth(token: string, ...argv: string[]) {
  const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: token, PLINTH_CONFIG_DIR: t.workDir });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('plinth create', () => {
  it('creates a service from a golden path, showing each step, and prints the output links', async () => {
    const created = await plinth(t.tokens.alice, 'create', 'node-service', '--set', 'name=cli-svc', '--set', 'owner=team-a', '--set', 'database=true', '--set', 'port=9000');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const lines = created.stdout.split('\n');
    expect(lines[0]).toMatch(/^Task \S+ created from template:default\/node-service$/);
    expect(lines).toEqual(expect.arrayContaining(['[fetch] Render the skeleton: processing', '[fetch] Render the skeleton: completed', "[publish] Publish to Plinth's hosted git: completed", '[register] Register in the catalog: completed']));
    expect(lines).toContain(`Repository: ${t.url}/git/team-a/cli-svc.git`);
    expect(lines).toContain('Open in catalog: component:default/cli-svc');
    const score = await t.app.git.readFile({ kind: 'system', name: 'test' }, { owner: 'team-a', name: 'cli-svc', ref: 'main', path: 'score.yaml' });
    expect(score.content.toString()).toContain('type: postgres');
    expect(score.content.toString()).toContain('targetPort: 9000');
  });

  it('refuses a name that is taken before anything runs', async () => {
    const again = await plinth(t.tokens.alice, 'create', 'template:default/node-service', '--set', 'name=cli-svc', '--set', 'owner=team-a');
    expect(again).toEqual({ code: 1, stdout: '', stderr: 'error: repoUrl: repository team-a/cli-svc already exists and has commits; choose another name (ConflictError)\n' });
  });

  it('prints one line per field that violates the parameters', async () => {
    const bad = await plinth(t.tokens.alice, 'create', 'node-service', '--set', 'name=Bad Name', '--set', 'port=80');
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')).toEqual(expect.arrayContaining(["error: the values do not fit the template's parameters:", '  name: must match pattern "^[a-z][a-z0-9-]{1,61}[a-z0-9]$"', '  owner: is required', '  port: must be >= 1024']));
    const usage = await plinth(t.tokens.alice, 'create', 'node-service', '--set', 'no-equals-sign');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('"no-equals-sign" is not key=value');
  });

  it('exits non-zero naming the failing step and its message', async () => {
    const failed = await plinth(t.tokens.alice, 'create', 'static-site', '--set', 'name=not-mine', '--set', 'owner=team-b');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("[publish] Publish to Plinth's hosted git: failed");
    expect(failed.stderr).toMatch(/^error: step publish \(Publish to Plinth's hosted git\) failed: repositories under team-b belong to group:default\/team-b/);
    expect(failed.stderr).toContain('/retry');
  });

  it('dry-runs a template: the steps and files, nothing created', async () => {
    const dry = await plinth(t.tokens.alice, 'create', 'library', '--set', 'name=dry-lib', '--set', 'owner=team-a', '--dry-run');
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run of template:default/library: completed');
    expect(dry.stdout).toMatch(/publish\s+publish:plinth\s+Publish to Plinth's hosted git/);
    expect(dry.stdout).toContain('  src/index.ts\n');
    await expect(t.app.git.getRepository({ kind: 'system', name: 'test' }, 'team-a', 'dry-lib')).rejects.toMatchObject({ name: 'NotFoundError' });
    const json = await plinth(t.tokens.alice, 'create', 'library', '--set', 'name=dry-lib', '--set', 'owner=team-a', '--dry-run', '--json');
    expect((JSON.parse(json.stdout) as { directoryContents: { path: string }[] }).directoryContents.map((f) => f.path)).toContain('package.json');
  });
});
