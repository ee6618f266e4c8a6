import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const dialects = await testDialects();

describe.each(dialects)('docs routes on %s (demo organisation)', (dialect) => {
  let t: TestApp;
  const get = (url: string, token = t.adminToken) => t.app.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  beforeAll(async () => {
    t = await startTestApp({ dialect, config: { catalog: { fileRoot: repoRoot, refreshIntervalS: 300 } } });
    const res = await t.app.server.inject({ method: 'POST', url: '/api/catalog/locations', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { type: 'file', target: 'examples/demo-org/catalog-info.yaml' } });
    expect(res.statusCode).toBe(201);
  });
  afterAll(() => t?.close());

  it('serves the site of an entity with techdocs-ref dir:.', async () => {
    const res = await get('/api/docs/default/component/checkout-service');
    expect(res.statusCode).toBe(200);
    const site = res.json() as { siteName: string; nav: { title: string }[]; pages: { path: string }[]; warnings: string[] };
    expect(site.pages.map((p) => p.path)).toEqual(expect.arrayContaining(['index.md', 'architecture.md', 'runbook.md']));
    expect(site.nav.length).toBeGreaterThan(0);
    expect(site.warnings).toEqual([]);
  });

  it('renders a page with highlighted code, admonitions and resolved image URLs', async () => {
    const page = (await get('/api/docs/default/component/checkout-service/page?path=architecture.md')).json() as { html: string; headings: unknown[] };
    expect(page.html).toMatch(/class="admonition /);
    expect(page.html).toMatch(/\/api\/docs\/default\/component\/checkout-service\/assets\/img\/architecture\.svg/);
    expect(page.headings.length).toBeGreaterThan(0);
    const code = (await get('/api/docs/default/component/checkout-service/page?path=api-usage')).json() as { html: string };
    expect(code.html).toMatch(/class="hljs/);
  });

  it('serves docs files sandboxed, and nothing outside the docs folder', async () => {
    const svg = await get('/api/docs/default/component/checkout-service/assets/img/architecture.svg');
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['content-security-policy']).toMatch(/sandbox/);
    for (const path of ['../catalog-info.yaml', '..%2F..%2Fcatalog-info.yaml', '/etc/passwd', '.hidden']) {
      const res = await get(`/api/docs/default/component/checkout-service/assets/${path}`);
      expect([400, 404]).toContain(res.statusCode);
      expect(res.body).not.toMatch(/apiVersion/);
    }
    expect((await get('/api/docs/default/component/checkout-service/page?path=../../catalog-info.yaml')).statusCode).toBe(404);
  });

  it('answers 404 for entities without docs and 401 without credentials', async () => {
    const none = await get('/api/docs/default/group/team-checkout');
    expect(none.statusCode).toBe(404);
    expect((none.json() as { error: { message: string } }).error.message).toMatch(/has no docs/);
    expect((await get('/api/docs/default/component/nope')).statusCode).toBe(404);
    expect((await t.app.server.inject({ method: 'GET', url: '/api/docs/default/component/checkout-service' })).statusCode).toBe(401);
  });
});
