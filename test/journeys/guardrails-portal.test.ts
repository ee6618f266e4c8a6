import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openBrowser } from '../helpers/browser.js';
import { startTestServer } from '../helpers/app.js';

// The Guardrails page in a real Chromium against a real Plinth server: the built-in policies, a
// manifest tried in the playground, an exception granted through the dialog that lets it through,
// and a budget violation recorded by a real decision. The journeys share one page and run in order.
// Screenshots go to /tmp/guardrails-*.png.

type Server = Awaited<ReturnType<typeof startTestServer>>;

describe('guardrails portal journeys (Chromium)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];

  const nav = () => page.getByRole('navigation', { name: 'Main' });

  beforeAll(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
    ({ browser, page, pageErrors } = await openBrowser());
    await page.goto(server.url + '/guardrails');
    await page.getByLabel('Username').fill(server.adminUsername);
    await page.getByLabel('Password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists the built-in policies with their mode and points, and shows a policy’s YAML', async () => {
    const table = page.getByRole('table', { name: 'Policies' });
    await table.waitFor();
    expect(await nav().getByRole('link', { name: 'Guardrails' }).getAttribute('aria-current')).toBe('page');
    const row = table.getByRole('row').filter({ hasText: 'disallow-latest-tag' });
    expect(await row.textContent()).toMatch(/Enforce.*deploy, scan.*ClusterPolicy.*built-in/);
    await row.getByRole('button', { name: 'disallow-latest-tag' }).click();
    const yaml = page.getByLabel('disallow-latest-tag YAML');
    await yaml.waitFor();
    expect(await yaml.textContent()).toContain('validate-image-tag');
    await page.getByRole('button', { name: 'Close' }).click();
  });

  it('the playground denies a manifest on latest, naming the rule', async () => {
    await page.getByRole('tab', { name: 'Playground' }).click();
    await page.getByRole('button', { name: 'Check' }).click();
    const decision = page.getByLabel('Decision for Deployment shop/web');
    await decision.getByText('Deployment shop/web: denied at deploy', { exact: false }).waitFor();
    const results = page.getByRole('table', { name: 'Results for Deployment shop/web' });
    expect(await results.getByRole('row').filter({ hasText: 'disallow-latest-tag/autogen-validate-image-tag' }).textContent()).toContain('Denies');
    expect(new URL(page.url()).searchParams.get('tab')).toBe('playground');
    await page.screenshot({ path: '/tmp/guardrails-playground.png', fullPage: true });
  });

  it('an admin grants an exception in the dialog, and the same manifest is then allowed', async () => {
    await page.getByRole('tab', { name: 'Exceptions' }).click();
    await page.getByText('No policy exceptions in force.').waitFor();
    await page.getByRole('button', { name: 'Grant exception' }).click();
    const dialog = page.getByRole('dialog', { name: 'Grant a policy exception' });
    await dialog.getByRole('combobox', { name: 'Policy' }).click();
    await page.getByRole('option', { name: 'disallow-latest-tag' }).click();
    await dialog.getByLabel('Rules').fill('validate-image-tag');
    await dialog.getByLabel('Kinds').fill('Deployment');
    await dialog.getByLabel('Names').fill('web');
    await dialog.getByLabel('Reason').fill('the shop team moves to digests this sprint');
    await dialog.getByRole('button', { name: 'Grant' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.getByRole('table', { name: 'Exceptions' }).getByRole('row').filter({ hasText: 'disallow-latest-tag' });
    expect(await row.textContent()).toContain(`user:default/${server.adminUsername}`);

    await page.getByRole('tab', { name: 'Playground' }).click();
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText('Deployment shop/web: allowed at deploy', { exact: false }).waitFor();
    const results = page.getByRole('table', { name: 'Results for Deployment shop/web' });
    expect(await results.getByRole('row').filter({ hasText: 'autogen-validate-image-tag' }).textContent()).toContain('Excepted');
  });

  it('shows a recorded budget violation by team', async () => {
    const put = await fetch(`${server.url}/api/policy/budgets/team/shop`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ monthlyLimit: 50 }),
    });
    expect(put.status).toBe(200);
    // The decision the resources layer will ask for, through the service: recorded, unlike the playground.
    await server.testApp.app.policy.decide({ kind: 'system', name: 'resources' }, {
      point: 'provisioning',
      object: { kind: 'ResourceClaim', metadata: { name: 'shop-db', labels: { owner: 'shop', 'cost-center': 'cc-1', environment: 'production' } }, spec: { cost: { monthly: 80 } } },
    });
    await page.getByRole('tab', { name: 'Violations' }).click();
    await page.getByLabel('Team').fill('shop');
    await page.getByRole('button', { name: 'Apply' }).click();
    const row = page.getByRole('table', { name: 'Violations' }).getByRole('row').filter({ hasText: 'ResourceClaim shop-db' });
    await row.waitFor();
    expect(await row.textContent()).toContain('team shop has a budget of 50 USD/month; 0 is committed and this claim adds 80');
    expect(pageErrors).toEqual([]);
  });
});
