import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../test/helpers/dialects.js';
import { cloneUrl, runGitClient, gitClientEnv, startGitTestApp, type GitTestApp } from '../../test/helpers/git.js';
import { parsePlinthRepoUrl } from './actions/publish.js';

// publish:plinth end to end through the HTTP API (issue #4): the node-service golden path creates a
// repository on the hosted git that a real `git clone` over smart HTTP fetches, and registers its
// Component; a second task with the same name is refused up front; a failed task retries from its
// failed step.

const fixture = mkdtempSync(join(tmpdir(), 'plinth-retry-template-'));
mkdirSync(join(fixture, 'flaky', 'skeleton'), { recursive: true });
writeFileSync(join(fixture, 'flaky', 'skeleton', 'README.md'), '# ${{ values.name }}\n');
writeFileSync(
  join(fixture, 'flaky', 'template.yaml'),
  `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: flaky }
spec:
  type: service
  parameters:
    - required: [name]
      properties: { name: { type: string } }
  steps:
    - id: fetch
      action: fetch:template
      input: { url: ./skeleton, values: { name: '\${{ parameters.name }}' } }
    - id: publish
      action: publish:plinth
      input: { repoUrl: 'plinth?owner=team-a&repo=\${{ parameters.name }}' }
    - id: needs-group
      action: catalog:fetch
      input: { entityRef: 'group:default/\${{ parameters.name }}-owners' }
    - id: show
      action: debug:log
      input: { listWorkspace: true }
  output:
    links:
      - { title: Repository, url: '\${{ steps.publish.output.remoteUrl }}' }
`,
);

describe('parsePlinthRepoUrl', () => {
  it('reads owner and repo of a RepoUrlPicker value on Plinth’s host, and refuses other hosts and incomplete values', () => {
    expect(parsePlinthRepoUrl('plinth?owner=team-a&repo=payments')).toEqual({ owner: 'team-a', name: 'payments' });
    expect(parsePlinthRepoUrl('plinth?repo=payments&owner=team-a')).toEqual({ owner: 'team-a', name: 'payments' });
    expect(() => parsePlinthRepoUrl('github.com?owner=team-a&repo=payments')).toThrow('repoUrl: host "github.com" is not Plinth\'s hosted git');
    expect(() => parsePlinthRepoUrl('plinth?owner=team-a')).toThrow(/needs owner and repo/);
  });
});

interface TaskBody {
  status: string;
  steps: { id: string; status: string }[];
  output: { links?: { title: string; url?: string; entityRef?: string }[] } | null;
  error: string | null;
}

describe.each(await testDialects())('publishing golden paths (%s)', (dialect) => {
  let t: GitTestApp;
  const api = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
    t.app.server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

  async function finished(id: string): Promise<TaskBody> {
    for (let i = 0; i < 600; i++) {
      const task = (await api('GET', `/api/scaffolder/v2/tasks/${id}`, t.tokens.alice)).json<TaskBody>();
      if (['completed', 'failed', 'cancelled'].includes(task.status)) return task;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`task ${id} did not finish`);
  }

  beforeAll(async () => {
    t = await startGitTestApp({ dialect, listen: true, config: { builtinTemplates: true }, app: { catalog: { extraFileRoots: [fixture] } } });
    await t.app.templatesReady();
    await t.app.catalog.addLocation({ kind: 'system', name: 'test' }, { type: 'file', target: join(fixture, 'flaky', 'template.yaml') }, { dryRun: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('node-service: repository pushed and cloneable over smart HTTP, Component registered with its owner', async () => {
    const created = await api('POST', '/api/scaffolder/v2/tasks', t.tokens.alice, { templateRef: 'template:default/node-service', values: { name: 'orders', owner: 'group:default/team-a', description: 'Takes orders' } });
    expect(created.statusCode, created.body).toBe(201);
    const task = await finished(created.json<{ id: string }>().id);
    expect(task.error).toBeNull();
    expect(task.status).toBe('completed');
    expect(task.steps.map((s) => [s.id, s.status])).toEqual([['fetch', 'completed'], ['publish', 'completed'], ['register', 'completed']]);
    const links = task.output!.links!;
    expect(links.find((l) => l.title === 'Repository')!.url).toBe(`${t.url}/git/team-a/orders.git`);
    expect(links.find((l) => l.title === 'Open in catalog')!.entityRef).toBe('component:default/orders');

    const clone = join(t.workDir, `orders-${dialect}`);
    const cloned = await runGitClient(['clone', '--quiet', cloneUrl(t.url, t.tokens.bob, 'team-a/orders'), clone], { cwd: t.workDir, env: gitClientEnv(t.workDir) });
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8'))).toMatchObject({ name: 'orders', description: 'Takes orders' });
    for (const file of ['catalog-info.yaml', 'score.yaml', 'plinth.yaml', 'mkdocs.yml', 'docs/index.md', 'src/server.ts', 'test/server.test.ts']) expect(existsSync(join(clone, file)), file).toBe(true);
    const log = await runGitClient(['log', '--format=%an %s'], { cwd: clone, env: gitClientEnv(t.workDir) });
    expect(log.stdout.trim()).toBe('Plinth Scaffolder Initial commit');
    expect((await runGitClient(['clone', '--quiet', cloneUrl(t.url, undefined, 'team-a/orders'), join(t.workDir, 'anonymous')], { cwd: t.workDir, env: gitClientEnv(t.workDir) })).code).not.toBe(0);

    const entity = await api('GET', '/api/catalog/entities/by-name/component/default/orders', t.tokens.bob);
    expect(entity.statusCode).toBe(200);
    const body = entity.json<{ spec: { owner: string }; relations: { type: string; targetRef: string }[] }>();
    expect(body.spec.owner).toBe('group:default/team-a');
    expect(body.relations).toContainEqual(expect.objectContaining({ type: 'ownedBy', targetRef: 'group:default/team-a' }));
  });

  it('refuses a second task with the same name up front, creating nothing', async () => {
    const count = async () => (await api('GET', '/api/scaffolder/v2/tasks', t.tokens.alice)).json<{ totalTasks: number }>().totalTasks;
    const before = await count();
    const head = () => t.app.git.resolveRef({ kind: 'system', name: 'test' }, { owner: 'team-a', name: 'orders', ref: 'main' });
    const headBefore = await head();
    const again = await api('POST', '/api/scaffolder/v2/tasks', t.tokens.alice, { templateRef: 'template:default/node-service', values: { name: 'orders', owner: 'team-a' } });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ error: { name: string; message: string } }>().error).toEqual({ name: 'ConflictError', message: 'repoUrl: repository team-a/orders already exists and has commits; choose another name' });
    expect(await count()).toBe(before);
    expect(await head()).toBe(headBefore);
  });

  it('reads skeletons from the hosted git: relative to a template registered from there, or by absolute URL', async () => {
    const repo = `golden-paths-${dialect}`;
    const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { owner: 'team-a', name: repo } });
    expect(created.statusCode, created.body).toBe(201);
    const src = join(t.workDir, repo);
    mkdirSync(join(src, 'tpl', 'skeleton', 'bin'), { recursive: true });
    mkdirSync(join(src, 'shared'), { recursive: true });
    const contents = `${t.url}/api/git/repos/team-a/${repo}/contents/main`;
    writeFileSync(
      join(src, 'tpl', 'template.yaml'),
      JSON.stringify({
        apiVersion: 'scaffolder.backstage.io/v1beta3',
        kind: 'Template',
        metadata: { name: `hosted-${dialect}` },
        spec: {
          type: 'service',
          parameters: [{ properties: { name: { type: 'string' } } }],
          steps: [
            { id: 'fetch', action: 'fetch:template', input: { url: './skeleton', values: { name: '${{ parameters.name }}' } } },
            { id: 'license', action: 'fetch:plain:file', input: { url: `${contents}/shared/LICENSE`, targetPath: 'LICENSE' } },
            { id: 'docs', action: 'fetch:plain', input: { url: '../shared', targetPath: 'shared' } },
          ],
        },
      }),
    );
    writeFileSync(join(src, 'tpl', 'skeleton', 'README.md'), '# ${{ values.name }}\n');
    writeFileSync(join(src, 'tpl', 'skeleton', 'bin', 'run.sh'), '#!/bin/sh\necho ${{ values.name }}\n', { mode: 0o755 });
    writeFileSync(join(src, 'shared', 'LICENSE'), 'Apache-2.0\n');
    const env = gitClientEnv(t.workDir);
    for (const args of [['init', '--quiet', '-b', 'main'], ['add', '--all'], ['commit', '--quiet', '-m', 'golden paths'], ['push', '--quiet', cloneUrl(t.url, t.tokens.alice, `team-a/${repo}`), 'main']]) {
      const result = await runGitClient(args, { cwd: src, env });
      expect(result.code, result.stderr).toBe(0);
    }
    const location = await t.app.server.inject({ method: 'POST', url: '/api/catalog/locations', headers: { authorization: `Bearer ${t.tokens.admin}` }, payload: { type: 'url', target: `${contents}/tpl/template.yaml` } });
    expect(location.statusCode, location.body).toBe(201);

    const dry = await api('POST', '/api/scaffolder/v2/dry-run', t.tokens.alice, { templateRef: `template:default/hosted-${dialect}`, values: { name: 'ledger' } });
    expect(dry.statusCode, dry.body).toBe(200);
    const body = dry.json<{ status: string; error?: { message: string }; directoryContents: { path: string; executable: boolean; base64Content: string }[] }>();
    expect(body.status, body.error?.message).toBe('completed');
    const files = Object.fromEntries(body.directoryContents.map((f) => [f.path, { executable: f.executable, text: Buffer.from(f.base64Content, 'base64').toString('utf8') }]));
    expect(files).toEqual({
      'README.md': { executable: false, text: '# ledger\n' },
      'bin/run.sh': { executable: true, text: '#!/bin/sh\necho ledger\n' },
      LICENSE: { executable: false, text: 'Apache-2.0\n' },
      'shared/LICENSE': { executable: false, text: 'Apache-2.0\n' },
    });

    // Elsewhere is refused, saying what to use instead.
    const elsewhere = await api('POST', '/api/scaffolder/v2/dry-run', t.tokens.alice, {
      template: { apiVersion: 'scaffolder.backstage.io/v1beta3', kind: 'Template', metadata: { name: 'elsewhere' }, spec: { type: 'x', steps: [{ id: 'fetch', action: 'fetch:plain', input: { url: 'https://example.com/skeleton' } }] } },
      values: {},
    });
    expect(elsewhere.json<{ status: string; error: { message: string } }>()).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('"https://example.com/skeleton" is not on Plinth\'s hosted git') } });
  });

  it('retries a failed task from its failed step, reusing the workspace and earlier outputs', async () => {
    const name = `flaky-${dialect}`;
    const { id } = (await api('POST', '/api/scaffolder/v2/tasks', t.tokens.alice, { templateRef: 'flaky', values: { name } })).json<{ id: string }>();
    const failed = await finished(id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(`group:default/${name}-owners`);
    expect(failed.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'failed', 'open']);

    const denied = await api('POST', `/api/scaffolder/v2/tasks/${id}/retry`, t.tokens.bob);
    expect(denied.statusCode, denied.body).toBe(403);
    expect((await api('POST', '/api/scaffolder/v2/tasks/no-such-task/retry', t.tokens.alice)).statusCode).toBe(404);

    // Change the world: the group the third step looks up now exists.
    const groupFile = join(fixture, `${name}-owners.yaml`);
    writeFileSync(groupFile, `apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: ${name}-owners }\nspec: { type: team, children: [] }\n`);
    await t.app.catalog.addLocation({ kind: 'system', name: 'test' }, { type: 'file', target: groupFile }, { dryRun: false });

    const retried = await api('POST', `/api/scaffolder/v2/tasks/${id}/retry`, t.tokens.alice);
    expect(retried.statusCode, retried.body).toBe(201);
    const done = await finished(id);
    expect(done.status, done.error ?? '').toBe('completed');
    expect(done.error).toBeNull();
    expect(done.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    // publish did not run again (one commit, no "already exists"), and its output still feeds the links.
    expect(done.output!.links).toEqual([{ title: 'Repository', url: `${t.url}/git/team-a/${name}.git` }]);
    const events = (await api('GET', `/api/scaffolder/v2/tasks/${id}/events`, t.tokens.alice)).json<{ type: string; body: { message: string } }[]>();
    const messages = events.map((e) => e.body.message);
    expect(messages).toContain('Retrying from step needs-group');
    expect(messages.filter((m) => m.startsWith('pushed '))).toHaveLength(1);
    expect(messages.join('\n')).toMatch(/Workspace:\n\s+- README\.md/);
    expect(existsSync(join(t.app.kernel.config.dataDir, 'scaffolder', 'workspaces', id))).toBe(false);

    const again = await api('POST', `/api/scaffolder/v2/tasks/${id}/retry`, t.tokens.alice);
    expect(again.statusCode).toBe(409);
    expect(again.json<{ error: { message: string } }>().error.message).toContain('only a failed task can be retried');
  });
});

afterAll(() => rmSync(fixture, { recursive: true, force: true }));
