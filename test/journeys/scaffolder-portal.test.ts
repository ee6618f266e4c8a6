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
