import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser } from '../helpers/browser.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// The Security page in a real Chromium against a real Plinth server whose pipeline scanned a real
// push: the organisation overview, the findings table, a finding's page with its history, and alice
// (of the owning team) accepting the high finding's risk. Screenshots go to /tmp/security-*.png.

const osvDir = new URL('../fixtures/osv/npm/', import.meta.url).pathname;

describe('security portal journeys (Chromium)', () => {
  let t: GitTestApp;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'sqlite', listen: true });
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const records = readdirSync(osvDir).map((f) => JSON.parse(readFileSync(join(osvDir, f), 'utf8')) as unknown);
    expect((await t.app.server.inject({ method: 'POST', url: '/api/security/advisories', headers: auth(t.tokens.admin), payload: records as object[] })).statusCode).toBe(200);
    expect((await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: auth(t.tokens.alice), payload: { owner: 'team-a', name: 'shop' } })).statusCode).toBe(201);
    const repoDir = join(t.workDir, 'shop');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/shop'), 'shop'], { cwd: t.workDir })).code).toBe(0);
    writeFileSync(join(repoDir, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0', private: true }));
    const packages = { qs: '6.2.0', minimist: '0.2.0' };
    writeFileSync(join(repoDir, 'package-lock.json'), JSON.stringify({
      name: 'shop', version: '1.0.0', lockfileVersion: 3, requires: true,
      packages: { '': { name: 'shop', version: '1.0.0', dependencies: packages }, ...Object.fromEntries(Object.entries(packages).map(([n, v]) => [`node_modules/${n}`, { version: v }])) },
    }));
    writeFileSync(join(repoDir, 'catalog-info.yaml'), 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: shop }\nspec: { type: service, lifecycle: production, owner: team-a }\n');
    writeFileSync(join(repoDir, 'plinth.yaml'), 'stages:\n  package: { enabled: false }\n  deploy-staging: { enabled: false }\n  deploy-production: { enabled: false }\n');
    for (const args of [['add', '-A'], ['commit', '-q', '-m', 'shop'], ['push', '-q', 'origin', 'HEAD:main']]) expect((await runGitClient(args, { cwd: repoDir })).code).toBe(0);
    const deadline = Date.now() + 90_000;
    for (;;) {
      const list = await t.app.server.inject({ url: '/api/pipelines/runs?repository=team-a/shop', headers: auth(t.tokens.alice) });
      const run = list.json<{ items: { status: string }[] }>().items[0];
      if (run && !['queued', 'running'].includes(run.status)) break;
      if (Date.now() > deadline) throw new Error('no finished run');
      await new Promise((r) => setTimeout(r, 250));
    }
    ({ browser, page, pageErrors } = await openBrowser());
    await page.goto(t.url + '/security');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the organisation overview and the findings of the scanned push', async () => {
    const table = page.getByRole('table', { name: 'Findings', exact: true });
    await table.waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security' }).getAttribute('aria-current')).toBe('page');
    await page.getByRole('group', { name: 'open critical: 1' }).waitFor();
    await page.getByRole('group', { name: 'open high: 1' }).waitFor();
    const teams = page.getByRole('table', { name: 'Open findings by team' });
    expect(await teams.getByRole('row').filter({ hasText: 'team-a' }).textContent()).toMatch(/team-a1/);
    const high = table.getByRole('row').filter({ hasText: 'GHSA-hrpp-h998-j3pp' });
    expect(await high.textContent()).toMatch(/high.*team-a\/shop.*qs@6\.2\.0.*6\.2\.4.*open/);
    await page.screenshot({ path: '/tmp/security-findings.png', fullPage: true });
  });

  it('shows a service’s findings on its catalog page, under a Security tab', { timeout: 30_000 }, async () => {
    const registered = await t.app.server.inject({
      method: 'POST', url: '/api/catalog/locations', headers: { authorization: `Bearer ${t.tokens.alice}` },
      payload: { type: 'url', target: `${t.url}/api/git/repos/team-a/shop/contents/main/catalog-info.yaml` },
    });
    expect(registered.statusCode, registered.body).toBe(201);
    await page.goto(`${t.url}/catalog/default/component/shop`);
    await page.getByRole('tab', { name: 'Security' }).click();
    const table = page.getByRole('table', { name: 'Findings of team-a/shop' });
    const high = table.getByRole('row').filter({ hasText: 'GHSA-hrpp-h998-j3pp' });
    await high.waitFor();
    expect(await high.textContent()).toMatch(/high.*dependency.*team-a\/shop.*qs@6\.2\.0/);
    expect(new URL(page.url()).pathname).toBe('/catalog/default/component/shop/security');
    await page.getByRole('link', { name: 'All findings' }).click();
    await page.getByRole('table', { name: 'Findings', exact: true }).waitFor();
    expect(new URL(page.url()).searchParams.get('service')).toBe('team-a/shop');
  });

  it('filters by severity through the URL', async () => {
    await page.goto(t.url + '/security?severity=critical');
    const table = page.getByRole('table', { name: 'Findings', exact: true });
    await table.getByRole('row').filter({ hasText: 'GHSA-xvch-5gv4-984h' }).waitFor();
    expect(await table.getByRole('row').count()).toBe(2);
  });

  it('opens a finding with its history, and the owning team accepts its risk', async () => {
    await page.goto(t.url + '/security?severity=high');
    await page.getByRole('link', { name: 'Finding GHSA-hrpp-h998-j3pp in team-a/shop' }).click();
    await page.getByRole('heading', { name: 'GHSA-hrpp-h998-j3pp in team-a/shop' }).waitFor();
    expect(await page.getByRole('table', { name: 'Runs that saw this finding' }).getByRole('row').count()).toBe(2);
    expect(await page.getByText('upgrade to 6.2.4').count()).toBe(1);
    await page.getByLabel('Reason').fill('only parses trusted config');
    await page.getByRole('button', { name: 'Accept risk' }).click();
    await page.getByText(/^Accepted until/).waitFor();
    await page.getByText(/by user:default\/alice until .*: only parses trusted config/).waitFor();
    await page.reload();
    await page.getByText(/by user:default\/alice until/).waitFor();
    await page.screenshot({ path: '/tmp/security-finding.png', fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows the server’s refusal when a member tries to accept a critical finding', async () => {
    await page.goto(t.url + '/security?severity=critical');
    await page.getByRole('link', { name: 'Finding GHSA-xvch-5gv4-984h in team-a/shop' }).click();
    await page.getByLabel('Reason').fill('we will fix it soon');
    await page.getByRole('button', { name: 'Accept risk' }).click();
    await page.getByText('accepting a critical finding needs the platform-admin role; fix it, or ask an admin').waitFor();
  });
});
