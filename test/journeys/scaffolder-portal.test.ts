import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openBrowser } from '../helpers/browser.js';
import { startGitTestApp, type GitTestApp } from '../helpers/git.js';
import { pageOfField, parseFieldErrors, toErrorSchema, toFormPages } from '../../web/src/scaffolder/form-schema.js';

// The scaffolder in the portal (issue #4) in a real Chromium against a real Plinth server serving the
// built web/dist, with the golden-path templates and a small organisation (team-a with alice) in the
// catalog: the gallery, a bad name refused on the form, then a service created from node-service
// whose task runs every step (real hosted git, real catalog registration) and links to its catalog
// page. The journeys share one page and run in order. Screenshots go to /tmp/scaffolder-*.png.

interface TaskBody {
  id: string;
  status: string;
  steps: { id: string; name: string; status: string }[];
  output: { links?: { title: string; entityRef?: string; url?: string }[] } | null;
}

describe('scaffolder portal journeys (Chromium)', () => {
  let t: GitTestApp;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  let templateFiles: HttpServer | undefined;
  const serviceName = `orders-${randomBytes(3).toString('hex')}`;

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(t.url + path, { headers: { authorization: `Bearer ${t.tokens.alice}` } });
    expect(res.status, `${path}: ${res.status}`).toBe(200);
    return (await res.json()) as T;
  }

  const templateCards = () => page.getByRole('list', { name: 'Templates' }).getByRole('article');

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'sqlite', listen: true, config: { builtinTemplates: true } });
    await t.app.templatesReady();
    ({ browser, page, pageErrors } = await openBrowser());
    await page.goto(t.url + '/create');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (templateFiles ? templateFiles.close(resolve) : resolve(undefined)));
    await t?.close();
  });

  it('the gallery shows every template of the catalog, searchable and filtered by tag', async () => {
    const templates = await api<{ items: { metadata: { title: string; tags?: string[] } }[] }>('/api/catalog/entities/by-query?filter=kind=template&limit=100');
    const titles = templates.items.map((e) => e.metadata.title).sort();
    expect(titles.length).toBe(3);
    await templateCards().first().waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create' }).getAttribute('aria-current')).toBe('page');
    expect((await templateCards().evaluateAll((cards) => cards.map((c) => c.getAttribute('aria-label')))).sort()).toEqual(titles);

    await page.getByLabel('Search templates').fill('website');
    await expect.poll(() => templateCards().count()).toBe(1);
    expect(await templateCards().first().getAttribute('aria-label')).toBe('Static website (HTML and CSS)');
    await page.getByLabel('Search templates').fill('');

    // Tag filter: the cards are exactly the templates the catalog tags "typescript".
    await page.getByRole('combobox', { name: 'Tag' }).click();
    await page.getByRole('option', { name: 'typescript' }).click();
    const tagged = templates.items.filter((e) => e.metadata.tags?.includes('typescript')).map((e) => e.metadata.title).sort();
    await expect.poll(async () => (await templateCards().evaluateAll((cards) => cards.map((c) => c.getAttribute('aria-label')))).sort()).toEqual(tagged);
    expect(new URL(page.url()).searchParams.get('tag')).toBe('typescript');
    await page.screenshot({ path: '/tmp/scaffolder-gallery.png', fullPage: true });
  });

  it('a name that violates the pattern is shown on the field and nothing is submitted', async () => {
    await page.getByRole('link', { name: 'Choose Node.js service (TypeScript)' }).click();
    const name = page.getByRole('textbox', { name: 'Name' });
    await name.waitFor();
    // ui:autofocus and ui:help from the template.
    expect(await name.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.getByText('3-63 lowercase letters, digits and "-", starting with a letter').waitFor();
    await name.fill('Orders_API');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('must match pattern', { exact: false }).waitFor();
    await page.getByText('must have required property', { exact: false }).first().waitFor();
    expect(await page.getByRole('region', { name: 'Service' }).count()).toBe(1);
    const tasks = await api<{ totalTasks: number }>('/api/scaffolder/v2/tasks');
    expect(tasks.totalTasks).toBe(0);
    await page.screenshot({ path: '/tmp/scaffolder-bad-name.png', fullPage: true });
  });

  it('creates a service from node-service: form, owner picker, review, live task, catalog page', async () => {
    await page.getByRole('textbox', { name: 'Name' }).fill(serviceName);
    await page.getByRole('textbox', { name: 'Description' }).fill('Takes orders');
    const owner = page.getByRole('combobox', { name: 'Owner' });
    await owner.click();
    await owner.pressSequentially('team');
    // The suggestions come from the catalog's groups and users.
    await page.getByRole('option', { name: 'group:default/team-b' }).waitFor();
    await page.getByRole('option', { name: 'group:default/team-a' }).click();
    expect(await owner.inputValue()).toBe('group:default/team-a');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('region', { name: 'Options' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();

    const review = page.getByRole('table', { name: 'Values to create with' });
    await review.waitFor();
    const rows = Object.fromEntries(
      await review.getByRole('row').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelectorAll('td')[0]?.textContent ?? ''])),
    ) as Record<string, string>;
    expect(rows).toEqual({ Name: serviceName, Description: 'Takes orders', Owner: 'group:default/team-a', 'PostgreSQL database': 'No', 'Cost center': 'unallocated', Port: '8080' });
    await page.screenshot({ path: '/tmp/scaffolder-review.png', fullPage: true });
    await page.getByRole('button', { name: 'Create' }).click();

    await page.waitForURL(/\/create\/tasks\/[^/]+$/);
    const taskId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const status = page.getByRole('status', { name: 'Task status' });
    await status.getByText('completed').waitFor({ timeout: 30_000 });
    const task = await api<TaskBody>(`/api/scaffolder/v2/tasks/${taskId}`);
    expect(task.status).toBe('completed');
    expect(task.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed']);
    for (const step of task.steps) {
      await page.getByLabel(`Step ${step.name}: completed`).waitFor();
    }
    // Logs per step, from the event stream.
    await page.getByRole('button', { name: /Publish to Plinth's hosted git/ }).click();
    await expect.poll(() => page.getByLabel("Log of Publish to Plinth's hosted git").textContent()).toContain('completed');
    await page.getByRole('region', { name: 'Output' }).getByText('Next steps').waitFor();
    await page.screenshot({ path: '/tmp/scaffolder-task.png', fullPage: true });

    // A reload reads the task and replays its events: the same state and logs.
    await page.reload();
    await page.getByRole('status', { name: 'Task status' }).getByText('completed').waitFor();
    await page.getByRole('button', { name: /Register in the catalog/ }).click();
    await expect.poll(() => page.getByLabel('Log of Register in the catalog').textContent()).toContain('completed');

    const catalogLink = task.output?.links?.find((l) => l.entityRef !== undefined);
    expect(catalogLink?.entityRef).toBe(`component:default/${serviceName}`);
    expect(task.output?.links?.find((l) => l.title === 'Repository')?.url).toContain(`/git/team-a/${serviceName}`);
    await page.getByRole('link', { name: 'Open in catalog' }).click();
    await page.waitForURL(`**/catalog/default/component/${serviceName}`);
    await page.getByRole('heading', { name: serviceName }).waitFor();
    await page.screenshot({ path: '/tmp/scaffolder-catalog.png', fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('the form reads the server’s 400 on task creation as one error per field, on the page that asks for it', async () => {
    // The server stays the authority (STYLE §9): the portal maps its message back onto the fields.
    const res = await fetch(`${t.url}/api/scaffolder/v2/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ templateRef: 'template:default/node-service', values: { name: 'Bad_Name', port: 80 } }),
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { name: string; message: string } };
    expect(error.name).toBe('InputError');
    const fields = parseFieldErrors(error.message);
    expect(fields.map((f) => f.field).sort()).toEqual(['name', 'owner', 'port']);
    expect(fields.find((f) => f.field === 'name')?.message).toContain('must match pattern');
    expect(toErrorSchema(fields)).toMatchObject({ owner: { __errors: ['is required'] } });
    const schema = await api<{ steps: { title: string; schema: Record<string, unknown> }[] }>('/api/scaffolder/v2/templates/default/template/node-service/parameter-schema');
    const pages = toFormPages(schema.steps);
    expect(fields.map((f) => [f.field, pageOfField(pages, f.field)]).sort()).toEqual([['name', 0], ['owner', 0], ['port', 1]]);
    expect(pages[0]!.uiSchema).toMatchObject({ name: { 'ui:autofocus': true }, owner: { 'ui:field': 'OwnerPicker', 'ui:options': { catalogFilter: { kind: ['Group', 'User'] } } } });
    expect(JSON.stringify(pages[0]!.schema)).not.toContain('ui:');
  });

  it('creates a component with the OwnedEntityPicker, conditional fields and the RepoUrlPicker, and lands on its catalog page', async () => {
    // A template of the kind platform teams bring (served over HTTP like any url location), with three
    // systems: two that alice owns (through team-a and herself) and one of team-b she must not be offered.
    const componentName = `ledger-${randomBytes(3).toString('hex')}`;
    const repoName = `${componentName}-repo`;
    const docs = [
      ...[['payments', 'group:default/team-a'], ['alice-lab', 'user:default/alice'], ['billing', 'group:default/team-b']].map(([name, owner]) => ({ apiVersion: 'backstage.io/v1alpha1', kind: 'System', metadata: { name }, spec: { owner } })),
      {
        apiVersion: 'scaffolder.backstage.io/v1beta3',
        kind: 'Template',
        metadata: { name: 'repo-component', title: 'Component in a repository of your choice', tags: ['test'] },
        spec: {
          owner: 'group:default/team-a',
          type: 'service',
          parameters: [
            {
              title: 'Component',
              required: ['name', 'system', 'lifecycle'],
              properties: {
                name: { title: 'Name', type: 'string', 'ui:field': 'EntityNamePicker' },
                system: { title: 'System', type: 'string', 'ui:field': 'OwnedEntityPicker', 'ui:options': { catalogFilter: { kind: 'System' }, allowArbitraryValues: false } },
                lifecycle: { title: 'Lifecycle', type: 'string', enum: ['production', 'experimental'], default: 'production' },
              },
              dependencies: {
                lifecycle: {
                  oneOf: [
                    { properties: { lifecycle: { const: 'production' } } },
                    { properties: { lifecycle: { const: 'experimental' }, reviewBy: { title: 'Review by', type: 'string' } }, required: ['reviewBy'] },
                  ],
                },
              },
            },
            {
              title: 'Repository',
              required: ['repoUrl'],
              properties: { repoUrl: { title: 'Repository location', type: 'string', 'ui:field': 'RepoUrlPicker' } },
              if: { properties: { lifecycle: { const: 'production' } }, required: ['lifecycle'] },
              then: { properties: { oncall: { title: 'On-call rotation', type: 'string', minLength: 3 } }, required: ['oncall'] },
            },
            // A page's `when` (Backstage's conditional pages): asked only of experimental components.
            { title: 'Sandbox', when: "${{ parameters.lifecycle === 'experimental' }}", required: ['sandbox'], properties: { sandbox: { title: 'Sandbox', type: 'string' } } },
          ],
          steps: [
            {
              id: 'write',
              name: 'Write catalog-info.yaml',
              action: 'catalog:write',
              input: {
                entity: {
                  apiVersion: 'backstage.io/v1alpha1',
                  kind: 'Component',
                  metadata: { name: '${{ parameters.name }}', description: "on call: ${{ parameters.oncall or 'none' }}" },
                  spec: {
                    type: 'service',
                    lifecycle: '${{ parameters.lifecycle }}',
                    owner: "group:default/${{ parameters.repoUrl | parseRepoUrl | pick('owner') }}",
                    system: "${{ parameters.system | parseEntityRef | pick('name') }}",
                  },
                },
              },
            },
            { id: 'publish', name: 'Publish', action: 'publish:plinth', input: { repoUrl: '${{ parameters.repoUrl }}' } },
            { id: 'register', name: 'Register', action: 'catalog:register', input: { repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}', catalogInfoPath: '/catalog-info.yaml' } },
          ],
          output: { links: [{ title: 'Repository', url: '${{ steps.publish.output.remoteUrl }}' }, { title: 'Open in catalog', icon: 'catalog', entityRef: '${{ steps.register.output.entityRef }}' }] },
        },
      },
    ];
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/yaml' }).end(docs.map((d) => JSON.stringify(d)).join('\n---\n')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const registered = await fetch(`${t.url}/api/catalog/locations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.tokens.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'url', target: `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo-component.yaml` }),
      });
      expect(registered.status).toBe(201);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }

    await page.goto(`${t.url}/create/templates/default/repo-component`);
    const sandboxStep = () => page.getByLabel('Form steps').getByText('Sandbox', { exact: true }).count();
    await page.getByRole('textbox', { name: 'Name' }).fill(componentName);
    expect(await sandboxStep()).toBe(1);
    // OwnedEntityPicker: the systems owned by alice or team-a, not team-b's.
    const system = page.getByRole('combobox', { name: 'System' });
    await system.click();
    await page.getByRole('option', { name: 'system:default/payments' }).waitFor();
    await expect.poll(async () => (await page.getByRole('option').allTextContents()).sort()).toEqual(['system:default/alice-lab', 'system:default/payments']);
    await page.getByRole('option', { name: 'system:default/payments' }).click();
    expect(await system.inputValue()).toBe('system:default/payments');

    // dependencies/oneOf: "Review by" shows only for experimental components; a value typed there and
    // left behind by switching back is neither reviewed nor sent.
    expect(await page.getByRole('textbox', { name: 'Review by' }).count()).toBe(0);
    await page.getByRole('combobox', { name: 'Lifecycle' }).click();
    await page.getByRole('option', { name: 'experimental' }).click();
    await page.getByRole('textbox', { name: 'Review by' }).fill('next quarter');
    await page.getByRole('combobox', { name: 'Lifecycle' }).click();
    await page.getByRole('option', { name: 'production' }).click();
    await expect.poll(() => page.getByRole('textbox', { name: 'Review by' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Next' }).click();

    // RepoUrlPicker on Plinth's hosted git: the owners alice can push to; an existing repository is refused on the form.
    const location = page.getByRole('group', { name: 'Repository location' });
    await location.waitFor();
    // The Sandbox page's `when` is false for a production component: the stepper drops it.
    expect(await sandboxStep()).toBe(0);
    expect(await location.getByRole('combobox', { name: 'Host' }).textContent()).toContain("Plinth's hosted git");
    await location.getByRole('combobox', { name: 'Owner' }).click();
    expect((await page.getByRole('option').allTextContents()).sort()).toEqual(['alice', 'team-a']);
    await page.getByRole('option', { name: 'team-a' }).click();
    const repository = location.getByRole('textbox', { name: 'Repository' });
    await repository.fill(serviceName);
    await location.getByText(`team-a/${serviceName} already exists on Plinth's hosted git; choose another name`).waitFor();
    // if/then on the first page's answer: production components name their on-call rotation.
    await page.getByRole('textbox', { name: 'On-call rotation' }).fill('sre-primary');
    await page.getByRole('button', { name: 'Next' }).click();
    // Next is refused: the problem now also shows as the field's error, and the page stays.
    await expect.poll(() => page.getByText(`team-a/${serviceName} already exists on Plinth's hosted git; choose another name`).count()).toBe(2);
    expect(await page.getByRole('table', { name: 'Values to create with' }).count()).toBe(0);
    await repository.fill('Bad_Repo');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('"Bad_Repo" is not a repository name', { exact: false }).first().waitFor();
    await repository.fill(repoName);
    await expect.poll(() => location.getByText('already exists').count()).toBe(0);
    await page.screenshot({ path: '/tmp/scaffolder-repo-url-picker.png', fullPage: true });
    await page.getByRole('button', { name: 'Next' }).click();

    const review = page.getByRole('table', { name: 'Values to create with' });
    await review.waitFor();
    const rows = Object.fromEntries(
      await review.getByRole('row').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelectorAll('td')[0]?.textContent ?? ''])),
    ) as Record<string, string>;
    expect(rows).toEqual({ Name: componentName, System: 'system:default/payments', Lifecycle: 'production', 'Repository location': `plinth?owner=team-a&repo=${repoName}`, 'On-call rotation': 'sre-primary' });
    await page.getByRole('button', { name: 'Create' }).click();

    await page.waitForURL(/\/create\/tasks\/[^/]+$/);
    const taskId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.getByRole('status', { name: 'Task status' }).getByText('completed').waitFor({ timeout: 30_000 });
    const task = await api<TaskBody & { spec: { parameters: Record<string, unknown> } }>(`/api/scaffolder/v2/tasks/${taskId}`);
    expect(task.spec.parameters).toEqual({ name: componentName, system: 'system:default/payments', lifecycle: 'production', repoUrl: `plinth?owner=team-a&repo=${repoName}`, oncall: 'sre-primary' });
    expect(task.output?.links?.find((l) => l.title === 'Repository')?.url).toBe(`${t.url}/git/team-a/${repoName}.git`);
    await page.getByRole('link', { name: 'Open in catalog' }).click();
    await page.waitForURL(`**/catalog/default/component/${componentName}`);
    await page.getByRole('heading', { name: componentName }).waitFor();
    const entity = await api<{ spec: { owner: string; system: string }; metadata: { description: string } }>(`/api/catalog/entities/by-name/component/default/${componentName}`);
    expect(entity.spec).toMatchObject({ owner: 'group:default/team-a', system: 'payments' });
    expect(entity.metadata.description).toBe('on call: sre-primary');
    expect(pageErrors).toEqual([]);
  });

  it('cancels a running task, retries a failed one (the stream follows the new run) and lists both', async () => {
    // Two more templates, served over HTTP and registered like any url location.
    const templates = [
      { name: 'slow-wait', steps: [{ id: 'wait', name: 'Wait a minute', action: 'debug:wait', input: { seconds: 60 } }] },
      { name: 'always-fails', steps: [{ id: 'hello', name: 'Say hello', action: 'debug:log', input: { message: 'hello from the task' } }, { id: 'rename', name: 'Rename a missing file', action: 'fs:rename', input: { files: [{ from: 'missing.txt', to: 'other.txt' }] } }] },
    ]
      .map((tpl) => JSON.stringify({ apiVersion: 'scaffolder.backstage.io/v1beta3', kind: 'Template', metadata: { name: tpl.name, title: tpl.name, tags: ['test'] }, spec: { owner: 'group:default/team-a', type: 'test', steps: tpl.steps } }))
      .join('\n---\n');
    templateFiles = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/yaml' }).end(templates));
    await new Promise<void>((resolve) => templateFiles!.listen(0, '127.0.0.1', resolve));
    const registered = await fetch(`${t.url}/api/catalog/locations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'url', target: `http://127.0.0.1:${(templateFiles.address() as AddressInfo).port}/templates.yaml` }),
    });
    expect(registered.status).toBe(201);

    // No parameters: straight to the review.
    await page.goto(`${t.url}/create/templates/default/slow-wait`);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('Step Wait a minute: processing').waitFor();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('status', { name: 'Task status' }).getByText('cancelled').waitFor();
    await page.getByText('The task was cancelled; later steps did not run.').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel', exact: true }).count()).toBe(0);
    const cancelledId = new URL(page.url()).pathname.split('/').pop()!;
    expect((await api<TaskBody>(`/api/scaffolder/v2/tasks/${cancelledId}`)).status).toBe('cancelled');

    await page.goto(`${t.url}/create/templates/default/always-fails`);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status', { name: 'Task status' }).getByText('failed').waitFor();
    await page.getByLabel('Step Say hello: completed').waitFor();
    const failedLog = page.getByLabel('Log of Rename a missing file');
    await expect.poll(() => failedLog.textContent()).toContain('Rename a missing file: failed');
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    // The retry reruns the failed step only; its new lines arrive on the reopened stream.
    await expect.poll(() => failedLog.textContent()).toContain('Retrying from step rename');
    await expect.poll(async () => ((await failedLog.textContent()) ?? '').split('Rename a missing file: failed').length - 1).toBe(2);
    await page.getByRole('button', { name: 'Retry', exact: true }).waitFor();
    expect(((await page.getByLabel('Log of Say hello').textContent()) ?? '').match(/hello from the task/g)).toHaveLength(1);
    await page.screenshot({ path: '/tmp/scaffolder-retry.png', fullPage: true });
    const failedId = new URL(page.url()).pathname.split('/').pop()!;

    await page.getByRole('link', { name: 'Create' }).first().click();
    await page.getByRole('link', { name: 'Task history' }).click();
    const rows = page.getByRole('table', { name: 'Tasks' }).getByRole('row');
    await rows.nth(1).waitFor();
    const listed = await api<{ tasks: { id: string; status: string }[] }>('/api/scaffolder/v2/tasks?createdBy=user:default/alice');
    expect(await rows.count()).toBe(listed.tasks.length + 1);
    expect(await rows.nth(1).textContent()).toContain(failedId.slice(0, 8));
    expect(await rows.nth(2).textContent()).toContain(cancelledId.slice(0, 8));
    expect(await rows.nth(2).textContent()).toContain('cancelled');
    expect(pageErrors).toEqual([]);
  });
});
