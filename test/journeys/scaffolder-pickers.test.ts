import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openBrowser } from '../helpers/browser.js';
import { startGitTestApp, type GitTestApp } from '../helpers/git.js';

// The rest of Backstage's pickers in a real Chromium (issue #4, Backstage `ui:*` hints honoured):
// MyGroupsPicker offers the signed-in user's groups, MultiEntityPicker several refs from the catalog,
// EntityTagsPicker the tags the catalog's entities use and refuses a tag the catalog would, Secret sends
// its value as a task secret, never as a parameter. The task receives exactly what the review showed.

describe('scaffolder pickers (Chromium)', () => {
  let t: GitTestApp;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'sqlite', listen: true });
    const docs = [
      ...[['ledger', ['java', 'payments']], ['checkout', ['typescript', 'payments']], ['search', ['typescript']]].map(([name, tags]) => ({
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name, tags },
        spec: { type: 'service', lifecycle: 'production', owner: 'group:default/team-b' },
      })),
      {
        apiVersion: 'scaffolder.backstage.io/v1beta3',
        kind: 'Template',
        metadata: { name: 'pickers', title: 'Pickers' },
        spec: {
          type: 'service',
          parameters: [
            {
              title: 'Details',
              required: ['team', 'dependsOn'],
              properties: {
                team: { title: 'Team', type: 'string', 'ui:field': 'MyGroupsPicker' },
                dependsOn: { title: 'Depends on', type: 'array', items: { type: 'string' }, 'ui:field': 'MultiEntityPicker', 'ui:options': { catalogFilter: { kind: 'Component' } } },
                tags: { title: 'Tags', type: 'array', items: { type: 'string' }, 'ui:field': 'EntityTagsPicker', 'ui:options': { kinds: ['Component'], showCounts: true } },
                deployToken: { title: 'Deploy token', type: 'string', 'ui:field': 'Secret' },
              },
            },
          ],
          steps: [
            { id: 'log', action: 'debug:log', input: { message: '${{ parameters.team }} ${{ parameters.dependsOn | join(",") }} ${{ parameters.tags | join(",") }}' } },
            { id: 'secret', action: 'debug:log', input: { message: 'token ${{ secrets.deployToken }} of ${{ secrets.deployToken | length }} characters' } },
          ],
        },
      },
    ];
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/yaml' }).end(docs.map((d) => JSON.stringify(d)).join('\n---\n')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const registered = await fetch(`${t.url}/api/catalog/locations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.tokens.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'url', target: `http://127.0.0.1:${(server.address() as AddressInfo).port}/pickers.yaml` }),
      });
      expect(registered.status).toBe(201);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    ({ browser, page, pageErrors } = await openBrowser());
    await page.goto(t.url + '/create/templates/default/pickers');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('offers the user’s groups, several catalog refs and the catalog’s tags, keeps a secret out of the parameters, and sends what the review shows', async () => {
    const team = page.getByRole('combobox', { name: 'Team' });
    await team.click();
    // alice is a member of team-a only.
    await page.getByRole('option', { name: 'group:default/team-a' }).waitFor();
    expect(await page.getByRole('option').allTextContents()).toEqual(['group:default/team-a']);
    await page.getByRole('option', { name: 'group:default/team-a' }).click();

    const dependsOn = page.getByRole('combobox', { name: 'Depends on' });
    await dependsOn.click();
    await page.getByRole('option', { name: 'component:default/ledger' }).click();
    await dependsOn.click();
    await page.getByRole('option', { name: 'component:default/search' }).click();

    const tags = page.getByRole('combobox', { name: 'Tags' });
    await tags.click();
    // Suggestions are the catalog's tags with their counts.
    await expect.poll(async () => (await page.getByRole('option').allTextContents()).sort()).toEqual(['java (1)', 'payments (2)', 'typescript (2)']);
    await page.getByRole('option', { name: 'payments (2)' }).click();
    await tags.fill('Not A Tag');
    await tags.press('Enter');
    await page.getByRole('button', { name: 'Next' }).click();
    // Lowercased, but spaces are still not a tag: the catalog's rule refuses it on the field.
    await page.getByText('"not a tag" is not a tag', { exact: false }).first().waitFor();
    expect(await page.getByRole('table', { name: 'Values to create with' }).count()).toBe(0);
    // Backspace in the empty input removes the last tag.
    await tags.click();
    await tags.press('Backspace');
    await expect.poll(() => page.getByText('not a tag', { exact: true }).count()).toBe(0);
    await tags.fill('ledger-v2');
    await tags.press('Enter');
    // Secret: sent as a task secret; the parameter only holds as many "*".
    await page.getByLabel('Deploy token').fill('s3cr3t-deploy-token');
    await page.getByRole('button', { name: 'Next' }).click();

    const review = page.getByRole('table', { name: 'Values to create with' });
    await review.waitFor();
    const rows = Object.fromEntries(
      await review.getByRole('row').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelectorAll('td')[0]?.textContent ?? ''])),
    ) as Record<string, string>;
    expect(rows).toEqual({ Team: 'group:default/team-a', 'Depends on': '["component:default/ledger","component:default/search"]', Tags: '["payments","ledger-v2"]', 'Deploy token': '••••••' });
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/create\/tasks\/[^/]+$/);
    await page.getByRole('status', { name: 'Task status' }).getByText('completed').waitFor({ timeout: 30_000 });
    const taskId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const res = await fetch(`${t.url}/api/scaffolder/v2/tasks/${taskId}`, { headers: { authorization: `Bearer ${t.tokens.alice}` } });
    const task = (await res.json()) as { spec: { parameters: Record<string, unknown> } };
    expect(task.spec.parameters).toEqual({ team: 'group:default/team-a', dependsOn: ['component:default/ledger', 'component:default/search'], tags: ['payments', 'ledger-v2'], deployToken: '*'.repeat(19) });
    const events = (await (await fetch(`${t.url}/api/scaffolder/v2/tasks/${taskId}/events`, { headers: { authorization: `Bearer ${t.tokens.alice}` } })).json()) as { body: { message: string } }[];
    // The step saw the secret (its length) and the log masks it.
    expect(events.map((e) => e.body.message)).toContain('token *** of 19 characters');
    expect(JSON.stringify(task)).not.toContain('s3cr3t');
    expect(pageErrors).toEqual([]);
  });
});
