import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../test/helpers/dialects.js';
import { startGitTestApp, type GitTestApp } from '../../test/helpers/git.js';

const fixture = mkdtempSync(join(tmpdir(), 'plinth-templates-'));
const templateYaml = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: demo, title: Demo service }
spec:
  owner: group:team-a
  type: service
  parameters:
    - title: Basics
      required: [name]
      properties:
        name: { type: string, pattern: '^[a-z][a-z0-9-]*$', ui:autofocus: true }
        tier: { type: string, enum: [gold, silver] }
    - title: Timing
      properties:
        waitMs: { type: integer, minimum: 0 }
        target: { type: string }
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        targetPath: \${{ parameters.target or './' }}
        values: { name: '\${{ parameters.name }}' }
    - id: wait
      if: \${{ parameters.waitMs }}
      action: debug:wait
      input: { milliseconds: '\${{ parameters.waitMs }}' }
    - id: log
      name: Log
      action: debug:log
      input: { message: 'made \${{ parameters.name }}', listWorkspace: true }
  output:
    text:
      - title: Summary
        content: 'Created \${{ parameters.name }}'
      - if: \${{ parameters.tier === 'gold' }}
        title: Gold
        content: shiny
`;
mkdirSync(join(fixture, 'demo', 'skeleton', '${{ values.name }}'), { recursive: true });
writeFileSync(join(fixture, 'demo', 'template.yaml'), templateYaml);
writeFileSync(join(fixture, 'demo', 'skeleton', '${{ values.name }}', 'README.md'), '# ${{ values.name }}\n');
writeFileSync(join(fixture, 'demo', 'skeleton', 'catalog-info.yaml'), 'metadata:\n  name: ${{ values.name | dump }}\n');

// Conditional form parts (issue #4 "dependencies"): the first page shows `expiry` only for experimental
// components (dependencies + oneOf); the second asks for an on-call rotation only when the first page's
// answer was production (if/then/else across pages). The server checks them as the form shows them.
mkdirSync(join(fixture, 'conditional'));
writeFileSync(
  join(fixture, 'conditional', 'template.yaml'),
  `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: conditional }
spec:
  type: service
  parameters:
    - title: Component
      required: [name, lifecycle]
      properties:
        name: { type: string }
        lifecycle: { type: string, enum: [production, experimental] }
      dependencies:
        lifecycle:
          oneOf:
            - properties: { lifecycle: { const: production } }
            - properties: { lifecycle: { const: experimental }, expiry: { type: string, format: date } }
              required: [expiry]
    - title: Operations
      if: { properties: { lifecycle: { const: production } }, required: [lifecycle] }
      then: { properties: { oncall: { type: string, minLength: 3 } }, required: [oncall] }
    - title: Sandbox
      when: \${{ parameters.lifecycle === 'experimental' }}
      required: [sandbox]
      properties: { sandbox: { type: string } }
  steps:
    - id: log
      action: debug:log
      input: { message: 'on call: \${{ parameters.oncall or "nobody" }}' }
`,
);

interface TaskBody {
  status: string;
  steps: { id: string; status: string; startedAt?: string; endedAt?: string }[];
  output: Record<string, unknown> | null;
  error: string | null;
}

describe.each(await testDialects())('scaffolder API (%s)', (dialect) => {
  let t: GitTestApp;
  const api = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
    t.app.server.inject({ method, url: `/api/scaffolder/v2${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

  async function finished(id: string): Promise<TaskBody> {
    for (let i = 0; i < 300; i++) {
      const task = (await api('GET', `/tasks/${id}`, t.tokens.alice)).json<TaskBody>();
      if (['completed', 'failed', 'cancelled'].includes(task.status)) return task;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`task ${id} did not finish`);
  }

  beforeAll(async () => {
    t = await startGitTestApp({ dialect, listen: true, app: { catalog: { extraFileRoots: [fixture] } } });
    await t.app.catalog.addLocation({ kind: 'system', name: 'test' }, { type: 'file', target: join(fixture, 'demo', 'template.yaml') }, { dryRun: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the parameter schema of a catalog template', async () => {
    const res = await api('GET', '/templates/default/template/demo/parameter-schema', t.tokens.alice);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ title: string; steps: { title: string; schema: { required?: string[] } }[] }>();
    expect(body.title).toBe('Demo service');
    expect(body.steps.map((s) => s.title)).toEqual(['Basics', 'Timing']);
    expect(body.steps[0]!.schema.required).toEqual(['name']);
    expect((await api('GET', '/templates/default/template/nope/parameter-schema', t.tokens.alice)).statusCode).toBe(404);
  });

  it('lists actions with JSON Schema inputs', async () => {
    const actions = (await api('GET', '/actions', t.tokens.vera)).json<{ id: string; supportsDryRun: boolean; schema: { input: { properties?: Record<string, unknown> } } }[]>();
    const ids = actions.map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining(['fetch:template', 'fetch:plain', 'fetch:plain:file', 'fs:delete', 'fs:rename', 'debug:log', 'debug:wait', 'catalog:register', 'catalog:write', 'catalog:fetch', 'publish:plinth']));
    const fetch = actions.find((a) => a.id === 'fetch:template')!;
    expect(Object.keys(fetch.schema.input.properties ?? {})).toEqual(expect.arrayContaining(['url', 'targetPath', 'values', 'copyWithoutTemplating', 'cookiecutterCompat']));
    expect(actions.find((a) => a.id === 'publish:plinth')!.supportsDryRun).toBe(false);
  });

  it('names what keeps a template from running, for a check at registration', () => {
    const template = (steps: unknown[]) => ({ apiVersion: 'scaffolder.backstage.io/v1beta3', kind: 'Template', metadata: { name: 'x' }, spec: { type: 'service', steps } });
    expect(t.app.scaffolder.templateProblems(template([{ action: 'debug:log', input: { message: '${{ parameters.a }}' } }]))).toEqual([]);
    const [problem] = t.app.scaffolder.templateProblems(template([{ action: 'publish:github' }, { action: 'debug:log', input: { message: '${{ parameters.a ' } }]));
    expect(problem).toMatch(/^template:default\/x cannot be used: spec\.steps\[0\]\.action: action "publish:github" is not available in this installation.*; spec\.steps\[1\]\.input\.message: broken expression/);
  });

  it('puts what keeps a template from running on the entity and its location when it is registered', async () => {
    mkdirSync(join(fixture, 'broken'), { recursive: true });
    writeFileSync(
      join(fixture, 'broken', 'template.yaml'),
      `apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: { name: broken-${dialect} }\nspec:\n  type: service\n  steps:\n    - { id: a, action: publish:github }\n    - { id: b, action: debug:log, input: { message: '\${{ parameters.a ' } }\n`,
    );
    const { location } = await t.app.catalog.addLocation({ kind: 'system', name: 'test' }, { type: 'file', target: join(fixture, 'broken', 'template.yaml') }, { dryRun: false });
    const entity = await t.app.catalog.getEntityByRef({ kind: 'system', name: 'test' }, `template:default/broken-${dialect}`);
    const items = (entity as { status?: { items?: { level: string; message: string }[] } } | undefined)?.status?.items ?? [];
    expect(items.filter((i) => i.level === 'error').map((i) => i.message).join('\n')).toMatch(/action "publish:github" is not available in this installation.*broken expression/s);
    const problems = (await t.app.catalog.getLocation({ kind: 'system', name: 'test' }, location.id)).problems.map((p) => p.message);
    expect(problems.join('\n')).toMatch(/publish:github/);
    // The good template registered before carries no such error.
    const demo = await t.app.catalog.getEntityByRef({ kind: 'system', name: 'test' }, 'template:default/demo');
    expect(((demo as { status?: { items?: unknown[] } } | undefined)?.status?.items ?? []).length).toBe(0);
  });

  it('answers values that violate the parameters with 400 and one message per field', async () => {
    const res = await api('POST', '/tasks', t.tokens.alice, { templateRef: 'template:default/demo', values: { name: 'Bad Name', tier: 'bronze', waitMs: 'soon' } });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ error: { name: string; message: string }; response: { statusCode: number } }>();
    expect(body.error.name).toBe('InputError');
    expect(body.error.message).toContain('name: must match pattern');
    expect(body.error.message).toContain('tier: must be one of "gold", "silver"');
    expect(body.error.message).toContain('waitMs: must be integer');
    expect((await api('POST', '/tasks', t.tokens.alice, { templateRef: 'template:default/demo' })).statusCode).toBe(400);
    expect((await api('POST', '/tasks', t.tokens.vera, { templateRef: 'template:default/demo', values: { name: 'x' } })).statusCode).toBe(403);
    expect((await t.app.server.inject({ method: 'GET', url: '/api/scaffolder/v2/tasks' })).statusCode).toBe(401);
  });

  it('checks conditional parameters (dependencies/oneOf, if/then across pages) as the form shows them, one message per field', async () => {
    await t.app.catalog.addLocation({ kind: 'system', name: 'test' }, { type: 'file', target: join(fixture, 'conditional', 'template.yaml') }, { dryRun: false });
    const schema = (await api('GET', '/templates/default/template/conditional/parameter-schema', t.tokens.alice)).json<{ steps: { schema: Record<string, unknown> }[] }>();
    expect(Object.keys(schema.steps[0]!.schema)).toContain('dependencies');
    expect(Object.keys(schema.steps[1]!.schema)).toEqual(expect.arrayContaining(['if', 'then']));

    const refused = async (values: Record<string, unknown>) => {
      const res = await api('POST', '/tasks', t.tokens.alice, { templateRef: 'template:default/conditional', values });
      expect(res.statusCode, res.body).toBe(400);
      return res.json<{ error: { message: string } }>().error.message;
    };
    const prefix = "values do not match the template's parameters: ";
    expect(await refused({ name: 'a', lifecycle: 'experimental' })).toBe(`${prefix}expiry: is required; sandbox: is required`);
    expect(await refused({ name: 'a', lifecycle: 'production' })).toBe(`${prefix}oncall: is required`);
    expect(await refused({ name: 'a', lifecycle: 'production', oncall: 'x' })).toBe(`${prefix}oncall: must NOT have fewer than 3 characters`);
    expect(await refused({ name: 'a', lifecycle: 'retired' })).toBe(`${prefix}lifecycle: must be one of "production", "experimental"`);
    // The dry run checks the same way.
    const dry = await api('POST', '/dry-run', t.tokens.alice, { templateRef: 'template:default/conditional', values: { name: 'a', lifecycle: 'production' } });
    expect(dry.statusCode).toBe(400);
    expect(dry.json<{ error: { message: string } }>().error.message).toBe(`${prefix}oncall: is required`);

    const created = await api('POST', '/tasks', t.tokens.alice, { templateRef: 'template:default/conditional', values: { name: 'a', lifecycle: 'production', oncall: 'sre-primary' } });
    expect(created.statusCode, created.body).toBe(201);
    expect((await finished(created.json<{ id: string }>().id)).status).toBe('completed');
    const experimental = await api('POST', '/tasks', t.tokens.alice, { templateRef: 'template:default/conditional', values: { name: 'b', lifecycle: 'experimental', expiry: '2027-01-31', sandbox: 'lab' } });
    expect(experimental.statusCode, experimental.body).toBe(201);

    // A page's `when` (Backstage's conditional pages): the form asks the server which pages show.
    const shown = async (values: Record<string, unknown>) => (await api('POST', '/templates/default/template/conditional/shown-steps', t.tokens.alice, { values })).json<{ shown: boolean[] }>().shown;
    expect(await shown({ lifecycle: 'production' })).toEqual([true, true, false]);
    expect(await shown({ lifecycle: 'experimental' })).toEqual([true, true, true]);
    expect(await shown({})).toEqual([true, true, false]);
    const bad = await api('POST', '/templates/default/template/conditional/shown-steps', t.tokens.alice, { values: {}, extra: 1 });
    expect(bad.statusCode).toBe(400);
    expect((await api('POST', '/templates/default/template/nope/shown-steps', t.tokens.alice, { values: {} })).statusCode).toBe(404);
  });

  it('runs a task as a job: steps in order, per-step state, output, log and completion over SSE, workspace removed', async () => {
    const created = await api('POST', '/tasks', t.tokens.alice, { templateRef: 'demo', values: { name: 'payments', tier: 'gold' } });
    expect(created.statusCode).toBe(201);
    const { id } = created.json<{ id: string }>();
    const stream = await fetch(`${t.url}/api/scaffolder/v2/tasks/${id}/eventstream`, { headers: { authorization: `Bearer ${t.tokens.alice}` } });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const text = await stream.text(); // the stream ends after the completion event
    const events = text.split('\n\n').filter((b) => b.includes('data: ')).map((b) => ({ type: /event: (\w+)/.exec(b)![1], data: JSON.parse(/data: (.*)/.exec(b)![1]!) as { body: { message: string; stepId?: string; output?: unknown } } }));
    expect(events.at(-1)!.type).toBe('completion');
    expect(events.at(-1)!.data.body.message).toBe('Run completed with status: completed');
    const logLines = events.filter((e) => e.type === 'log').map((e) => e.data.body.message);
    expect(logLines).toContain('made payments');
    expect(logLines.join('\n')).toMatch(/- catalog-info\.yaml\n\s+- payments\/README\.md/);
    const task = await finished(id);
    expect(task.status).toBe('completed');
    expect(task.steps.map((s) => [s.id, s.status])).toEqual([['fetch', 'completed'], ['wait', 'skipped'], ['log', 'completed']]);
    expect(task.steps[0]!.startedAt).toBeDefined();
    expect(task.output).toEqual({ text: [{ title: 'Summary', content: 'Created payments' }, { title: 'Gold', content: 'shiny' }] });
    expect(existsSync(join(t.app.kernel.config.dataDir, 'scaffolder', 'workspaces', id))).toBe(false);
    const list = (await api('GET', '/tasks', t.tokens.alice)).json<{ tasks: { id: string }[]; totalTasks: number }>();
    expect(list.tasks.map((x) => x.id)).toContain(id);
  });

  it('fails a task whose skeleton would write outside the workspace, and says why', async () => {
    const { id } = (await api('POST', '/tasks', t.tokens.alice, { templateRef: 'demo', values: { name: 'evil', target: '../../outside' } })).json<{ id: string }>();
    const task = await finished(id);
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/leaves the workspace/);
    expect(task.steps[0]!.status).toBe('failed');
    expect(task.steps[2]!.status).toBe('open');
  });

  it('cancels a running task', async () => {
    const { id } = (await api('POST', '/tasks', t.tokens.alice, { templateRef: 'demo', values: { name: 'slow', waitMs: 60_000 } })).json<{ id: string }>();
    for (let i = 0; i < 200; i++) {
      const task = (await api('GET', `/tasks/${id}`, t.tokens.alice)).json<TaskBody>();
      if (task.steps[1]!.status === 'processing') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await api('POST', `/tasks/${id}/cancel`, t.tokens.bob)).statusCode).toBe(403);
    expect((await api('POST', `/tasks/${id}/cancel`, t.tokens.alice)).statusCode).toBe(200);
    const task = await finished(id);
    expect(task.status).toBe('cancelled');
    expect(task.steps.map((s) => s.status)).toEqual(['completed', 'cancelled', 'open']);
  });

  it('dry-runs an inline template: rendered files and step plan, no side effects', async () => {
    const { parse } = await import('yaml');
    const res = await api('POST', '/dry-run', t.tokens.alice, {
      template: parse(templateYaml),
      values: { name: 'dry' },
      directoryContents: [{ path: 'skeleton/${{ values.name }}/README.md', base64Content: Buffer.from('# ${{ values.name }}\n').toString('base64') }],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ status: string; directoryContents: { path: string; base64Content: string }[]; steps: { id: string }[]; log: { body: { message: string } }[] }>();
    expect(body.status).toBe('completed');
    expect(body.directoryContents.map((f) => [f.path, Buffer.from(f.base64Content, 'base64').toString()])).toEqual([['dry/README.md', '# dry\n']]);
    expect(body.steps.map((s) => s.id)).toEqual(['fetch', 'wait', 'log']);
    expect(readdirSync(join(t.app.kernel.config.dataDir, 'scaffolder', 'dry-run'))).toEqual([]);
    const escaping = await api('POST', '/dry-run', t.tokens.alice, { template: parse(templateYaml), values: { name: 'dry' }, directoryContents: [{ path: '../x', base64Content: '' }] });
    expect(escaping.statusCode).toBe(400);
  });
});

afterAll(() => rmSync(fixture, { recursive: true, force: true }));
