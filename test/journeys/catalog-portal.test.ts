import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openBrowser } from '../helpers/browser.js';
import { parse as parseYaml } from 'yaml';
import { startTestServer } from '../helpers/app.js';

// The catalog pages of the portal in a real Chromium against a real Plinth server that serves the built
// web/dist (`npm test` runs `npm run build:web` first), browsing the Northwind Labs demo organisation.
// Elements are found by role and accessible name (STYLE §9). The journeys share one page and run in
// order: each starts where the previous one ended. Screenshots go to /tmp/catalog-*.png.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const demoOrg = `${repoRoot}/examples/demo-org`;

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface EntityItem {
  kind: string;
  metadata: { name: string; title?: string };
  spec?: Record<string, unknown>;
  relations?: { type: string; targetRef: string }[];
}

describe('catalog portal journeys (Chromium)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let catalogFiles: HttpServer;
  let catalogFilesUrl = '';
  let pageErrors: string[] = [];
  const suffix = randomBytes(3).toString('hex');
  const newComponent = `journey-service-${suffix}`;

  async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(server.url + path, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${server.adminToken}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  /** Names (titles) the catalog itself returns for a by-query, to compare the table with. */
  async function titlesFor(query: string): Promise<string[]> {
    const res = await api<{ items: EntityItem[] }>(`/api/catalog/entities/by-query?${query}&limit=500&orderField=metadata.name,asc`);
    expect(res.status).toBe(200);
    return res.body.items.map((e) => e.metadata.title ?? e.metadata.name);
  }

  const nav = () => page.getByRole('navigation', { name: 'Main' });
  const table = () => page.getByRole('table', { name: 'Entities' });
  const shot = (name: string) => page.screenshot({ path: `/tmp/catalog-${name}.png`, fullPage: true });

  /** Data rows of the entities table, once they show exactly these titles (in the catalog's order). */
  async function expectRows(titles: string[]) {
    const rows = table().locator('tbody tr');
    await expect.poll(async () => (await rows.count()) === titles.length && (await table().getAttribute('aria-busy')) !== 'true').toBe(true);
    const links = await table().locator('tbody tr td:first-child a').allTextContents();
    expect(links).toEqual(titles);
  }

  beforeAll(async () => {
    server = await startTestServer({ dialect: 'sqlite', config: { catalog: { fileRoot: repoRoot, refreshIntervalS: 300 } } });
    // The first start may already have loaded the demo organisation; registering it again is then a conflict.
    const registered = await api('/api/catalog/locations', { method: 'POST', body: { type: 'file', target: `${demoOrg}/catalog-info.yaml` } });
    expect([201, 409]).toContain(registered.status);
    expect((await api('/api/catalog/entities/by-name/component/default/checkout-service')).status).toBe(200);

    // A repository host stand-in: serves one catalog-info.yaml for the register journey.
    const catalogInfo = [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Component',
      'metadata:',
      `  name: ${newComponent}`,
      '  title: Journey service',
      '  description: Registered from a URL by the catalog portal journey.',
      '  tags: [journey]',
      'spec:',
      '  type: service',
      '  lifecycle: experimental',
      '  owner: team-platform',
      '  system: developer-platform',
      '',
    ].join('\n');
    catalogFiles = createServer((req, res) => {
      if (req.url === '/repo/catalog-info.yaml') {
        res.writeHead(200, { 'content-type': 'text/yaml' });
        res.end(catalogInfo);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => catalogFiles.listen(0, '127.0.0.1', resolve));
    catalogFilesUrl = `http://127.0.0.1:${(catalogFiles.address() as AddressInfo).port}/repo/catalog-info.yaml`;

    ({ browser, page, pageErrors } = await openBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (catalogFiles ? catalogFiles.close(resolve) : resolve(undefined)));
    await server?.close();
  });

  it('the catalog lists components by default and filters by owner, type and text, with the state in the URL', async () => {
    await page.goto(server.url + '/catalog');
    await page.getByLabel('Username').fill(server.adminUsername);
    await page.getByLabel('Password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await nav().getByRole('link', { name: 'Catalog', exact: true }).waitFor();
    for (const name of ['Docs', 'Register']) await nav().getByRole('link', { name, exact: true }).waitFor();
    expect(await nav().getByRole('link', { name: 'Catalog', exact: true }).getAttribute('aria-current')).toBe('page');

    await page.getByRole('heading', { level: 1, name: 'Catalog' }).waitFor();
    expect(await page.getByRole('combobox', { name: 'Kind' }).textContent()).toContain('Component');
    const components = await titlesFor('filter=kind=component');
    expect(components.length).toBeGreaterThan(5);
    await expectRows(components.slice(0, 25));
    await shot('list');

    // Owner: a multi-select of the owner facet, with counts.
    await page.getByRole('combobox', { name: 'Owner' }).click();
    await page.getByRole('option', { name: /^team-checkout\s*\d+$/ }).click();
    await page.keyboard.press('Escape');
    const owned = await titlesFor('filter=kind=component,relations.ownedBy=group:default/team-checkout');
    expect(owned).toContain('Checkout service');
    await expectRows(owned);
    expect(new URL(page.url()).searchParams.getAll('owner')).toEqual(['group:default/team-checkout']);

    await page.getByRole('combobox', { name: 'Type' }).click();
    await page.getByRole('option', { name: /^service\s*\d+$/ }).click();
    await page.keyboard.press('Escape');
    const services = await titlesFor('filter=kind=component,relations.ownedBy=group:default/team-checkout,spec.type=service');
    await expectRows(services);
    await page.getByRole('list', { name: 'Active filters' }).getByText('Owner: team-checkout').waitFor();

    // The search box narrows the same list (debounced, server-side over name, title and description).
    await page.getByLabel('Search the catalog').fill('basket');
    const fields = 'fullTextFilterFields=metadata.name,metadata.title,metadata.description';
    const matching = await titlesFor(`filter=kind=component,relations.ownedBy=group:default/team-checkout,spec.type=service&fullTextFilterTerm=basket&${fields}`);
    expect(matching.length).toBeGreaterThan(0);
    expect(matching.length).toBeLessThan(services.length);
    await expectRows(matching);
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('basket');
    await shot('filtered');

    // The URL is the state: opening it afresh shows the same view.
    await page.goto(page.url());
    await expectRows(matching);
    expect(await page.getByLabel('Search the catalog').inputValue()).toBe('basket');
  });

  it('an entity page shows the header, owner and relations with titles, and refreshes', async () => {
    await table().getByRole('link', { name: 'Checkout service', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Checkout service' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/catalog/default/component/checkout-service');

    const about = page.getByRole('region', { name: 'About' });
    await about.getByRole('link', { name: 'team-checkout' }).waitFor();
    const relations = page.getByRole('region', { name: 'Relations' });
    // Related entities appear by title (looked up with by-refs), grouped by relation type.
    await relations.getByRole('region', { name: 'Provides API' }).getByRole('link', { name: 'Checkout REST API' }).waitFor();
    await relations.getByRole('region', { name: 'Owned by' }).getByRole('link', { name: 'Team Checkout' }).waitFor();
    await relations.getByRole('region', { name: 'Consumes API' }).getByRole('link', { name: 'Orders REST API' }).waitFor();
    await page.getByRole('list', { name: 'Links' }).getByRole('link', { name: 'Runbook' }).waitFor();

    await page.getByRole('button', { name: 'Annotations (5)' }).click();
    await page.getByRole('table', { name: 'Annotations' }).getByText('backstage.io/techdocs-ref').waitFor();
    await shot('entity');

    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('Checkout service was re-read from its location').waitFor();
  });

  it('the relations graph draws every related entity as a link, and a node opens the provided API', async () => {
    await page.getByRole('tab', { name: 'Relations' }).click();
    const graph = page.getByRole('group', { name: 'Relations graph of Checkout service' });
    await graph.waitFor();
    const entity = (await api<EntityItem>('/api/catalog/entities/by-name/component/default/checkout-service')).body;
    const pairs = new Set((entity.relations ?? []).map((r) => `${r.type} ${r.targetRef}`));
    await expect.poll(() => graph.getByRole('link').count()).toBe(pairs.size);
    for (const label of ['Owned by', 'Provides API', 'Consumes API', 'Depends on']) await graph.getByText(label, { exact: true }).waitFor();
    await shot('graph');

    // Hiding a relation type removes its nodes.
    await page.getByRole('group', { name: 'Relation types' }).getByRole('button', { name: /^Depends on/ }).click();
    await expect.poll(() => graph.getByRole('link').count()).toBe([...pairs].filter((p) => !p.startsWith('dependsOn ')).length);

    await graph.getByRole('link', { name: /^Checkout REST API \(api/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Checkout REST API' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/catalog/default/api/checkout-api');
  });

  it('the API definition is summarised: servers, every path with its methods, parameters and schemas, and the raw text', async () => {
    await page.getByRole('tab', { name: 'Definition' }).click();
    const definition = parseYaml(readFileSync(`${demoOrg}/components/checkout-service/apis/checkout-openapi.yaml`, 'utf8')) as {
      servers: { url: string }[];
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    const paths = page.getByRole('region', { name: 'Paths' });
    await paths.waitFor();
    await page.getByRole('region', { name: 'Servers' }).getByText(definition.servers[0]!.url).waitFor();
    const operations = Object.entries(definition.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => ['get', 'put', 'post', 'delete', 'patch'].includes(key))
        .map((method) => ({ path, method: method.toUpperCase(), summary: item[method]?.summary ?? '' })),
    );
    expect(operations.length).toBeGreaterThan(2);
    const buttons = paths.getByRole('button');
    expect(await buttons.count()).toBe(operations.length);
    for (const op of operations) {
      await paths.getByRole('button', { name: `${op.method} ${op.path} ${op.summary}`.trim() }).waitFor();
    }

    // One operation opened: its parameters and its request body's schema.
    const put = operations.find((op) => op.method === 'PUT' && op.path.endsWith('/items'))!;
    await paths.getByRole('button', { name: `${put.method} ${put.path} ${put.summary}`.trim() }).click();
    await paths.getByRole('table', { name: 'Parameters' }).first().getByText('basketId').waitFor();
    await paths.getByRole('region', { name: 'Request body (required)' }).getByText(/^quantity\*?$/).waitFor();
    await shot('api');

    await page.getByRole('tab', { name: 'Raw' }).click();
    expect(await page.getByLabel('openapi definition', { exact: true }).textContent()).toContain('openapi: 3.0.3');
  });

  it('the Docs tab shows the docs site: nav, index page, in-docs links, highlighted code, admonitions and a table of contents', async () => {
    // Back to the component through the API's "provided by" relation.
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.getByRole('region', { name: 'API provided by' }).getByRole('link', { name: 'Checkout service' }).click();
    await page.getByRole('heading', { level: 1, name: 'Checkout service' }).waitFor();

    await page.getByRole('tab', { name: 'Docs' }).click();
    const site = (await api<{ nav: { title: string; path?: string }[] }>('/api/docs/default/component/checkout-service')).body;
    const docsNav = page.getByRole('navigation', { name: 'Docs navigation' });
    for (const item of site.nav) await docsNav.getByRole('link', { name: item.title, exact: true }).waitFor();
    expect(await docsNav.getByRole('link', { name: 'Overview', exact: true }).getAttribute('aria-current')).toBe('page');

    const index = page.getByRole('article', { name: 'Checkout service' });
    await index.getByRole('heading', { level: 1, name: 'Checkout service' }).waitFor();
    await index.getByText('Prices in cents').waitFor();
    expect(await index.locator('.admonition.warning').count()).toBe(1);
    await page.getByRole('navigation', { name: 'On this page' }).getByRole('link', { name: 'At a glance' }).waitFor();
    await shot('docs-index');

    // A relative link between pages is followed inside the portal: no page load.
    await page.evaluate(() => Object.assign(window, { journeyMarker: 'still here' }));
    const runbookLink = index.getByRole('link', { name: 'Runbook', exact: true });
    expect(await runbookLink.getAttribute('href')).toBe('/catalog/default/component/checkout-service/docs/runbook');
    await runbookLink.click();
    const runbook = page.getByRole('article', { name: 'Runbook' });
    await runbook.getByRole('heading', { level: 1, name: 'Runbook' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/catalog/default/component/checkout-service/docs/runbook');
    expect(await page.evaluate(() => (window as unknown as { journeyMarker?: string }).journeyMarker)).toBe('still here');
    expect(await docsNav.getByRole('link', { name: 'Runbook', exact: true }).getAttribute('aria-current')).toBe('page');

    // Code blocks come highlighted (highlight.js spans), admonitions styled by type.
    await runbook.locator('pre code.hljs.language-bash').first().waitFor();
    expect(await runbook.locator('pre code.hljs [class^="hljs-"]').count()).toBeGreaterThan(0);
    await runbook.getByText('Redis failover empties slot holds').waitFor();
    const background = await runbook.locator('.admonition.warning > .admonition-title').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(background).not.toBe('rgba(0, 0, 0, 0)');
    await shot('docs-runbook');
  });

  it('global search finds docs pages as one types, Enter opens the results page, and a result opens the page', async () => {
    await expect
      .poll(async () => (await api<{ results: unknown[] }>('/api/search/query?term=runbook&types=techdocs')).body.results.length, { timeout: 15_000 })
      .toBeGreaterThan(1);

    const box = page.getByRole('combobox', { name: 'Search Plinth' });
    await box.fill('runbook');
    const listbox = page.getByRole('listbox');
    await listbox.getByRole('option', { name: /Runbook · Orders service/ }).waitFor();
    expect(await listbox.getByRole('option').count()).toBeLessThanOrEqual(8);
    await listbox.getByText('Documentation', { exact: true }).waitFor();
    await shot('search-instant');

    // Enter with nothing highlighted: the full results page.
    await box.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Search' }).waitFor();
    expect(new URL(page.url()).searchParams.get('q')).toBe('runbook');
    const results = page.getByRole('list', { name: 'Search results' });
    await results.getByRole('link', { name: 'Runbook · Checkout service' }).waitFor();
    expect(await results.locator('mark').count()).toBeGreaterThan(0);
    await page.getByRole('tab', { name: 'Documentation' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('type')).toBe('techdocs');
    await results.getByRole('link', { name: 'Runbook · Orders service' }).waitFor();
    await shot('search-page');

    // Keyboard: arrow down to a result and Enter opens it, on the standalone docs route.
    await box.fill('runbook');
    await listbox.getByRole('option').first().waitFor();
    const highlighted = async () => {
      const id = await box.getAttribute('aria-activedescendant');
      return id === null ? '' : ((await page.locator(`[id="${id}"]`).textContent()) ?? '');
    };
    for (let i = 0; i < 8 && !(await highlighted()).startsWith('Runbook · Orders service'); i += 1) await box.press('ArrowDown');
    expect(await highlighted()).toMatch(/^Runbook · Orders service/);
    await box.press('Enter');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/docs/default/component/orders-service/runbook');
    await page.getByRole('article', { name: 'Runbook' }).getByRole('heading', { level: 1 }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Orders service' }).waitFor();
    await shot('docs-standalone');
  });

  it('registering a component from a URL: analyze, import, then the new entity opens', async () => {
    await nav().getByRole('link', { name: 'Register', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Register an existing component' }).waitFor();
    expect(await nav().getByRole('link', { name: 'Catalog', exact: true }).getAttribute('aria-current')).toBeNull();

    await page.getByLabel('URL of a catalog-info.yaml').fill(catalogFilesUrl);
    await page.getByRole('button', { name: 'Analyze' }).click();
    const found = page.getByRole('table', { name: 'Entities found' });
    const row = found.getByRole('row').filter({ hasText: 'Journey service' });
    await row.waitFor();
    expect(await row.textContent()).toContain('New');
    await page.getByRole('button', { name: 'Analyze' }).and(page.locator(':not([disabled])')).waitFor();
    await shot('register-review');

    await page.getByRole('button', { name: 'Import' }).click();
    const imported = page.getByRole('list', { name: 'Imported entities' });
    await imported.getByRole('link', { name: 'Journey service' }).waitFor();
    expect((await api(`/api/catalog/entities/by-name/component/default/${newComponent}`)).status).toBe(200);
    await shot('register-done');

    await imported.getByRole('link', { name: 'Journey service' }).click();
    await page.getByRole('heading', { level: 1, name: 'Journey service' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/catalog/default/component/${newComponent}`);
    // A URL location's folder is its source: "View source" opens it.
    expect(await page.getByRole('link', { name: 'View source' }).getAttribute('href')).toBe(catalogFilesUrl.replace(/catalog-info\.yaml$/, ''));

    // Analyzing the same file again marks its entity as already registered.
    await nav().getByRole('link', { name: 'Register', exact: true }).click();
    await page.getByLabel('URL of a catalog-info.yaml').fill(catalogFilesUrl);
    await page.getByRole('button', { name: 'Analyze' }).click();
    await found.getByRole('row').filter({ hasText: 'Journey service' }).getByText('Already registered').waitFor();
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('alert').filter({ hasText: 'Already registered' }).waitFor();

    expect(pageErrors).toEqual([]);
  });
});
