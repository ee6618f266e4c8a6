import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { until } from '../../test/helpers/kernel.js';
import { highlight, htmlToText } from './model.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const dialects = await testDialects();

describe('search model', () => {
  it('highlights matched words and windows long text', () => {
    expect(highlight('Checkout service', ['checkout'])).toBe('<mark>Checkout</mark> service');
    const long = `${'x '.repeat(300)}payment retries ${'y '.repeat(300)}`;
    const h = highlight(long, ['payment'], 60)!;
    expect(h).toMatch(/^….*<mark>payment<\/mark>.*…$/);
    expect(h.length).toBeLessThan(90);
    expect(highlight('nothing here', ['zzz'])).toBeUndefined();
  });
  it('turns rendered HTML into text', () => {
    expect(htmlToText('<h1 id="a">Title</h1><p>a &amp; b <code>x&lt;y</code></p>')).toBe('Title a & b x<y');
  });
});

interface Page {
  results: { type: string; document: { title: string; location: string; kind?: string; owner?: string }; highlight?: { fields: { title?: string; text?: string } }; rank: number }[];
  numberOfResults: number;
  nextPageCursor?: string;
}

describe.each(dialects)('search API on %s (demo organisation)', (dialect) => {
  let t: TestApp;
  const query = async (qs: string) => {
    const res = await t.app.server.inject({ method: 'GET', url: `/api/search/query?${qs}`, headers: { authorization: `Bearer ${t.adminToken}` } });
    return { status: res.statusCode, body: res.json() as Page };
  };
  beforeAll(async () => {
    t = await startTestApp({ dialect, config: { catalog: { fileRoot: repoRoot, refreshIntervalS: 300 } } });
    await t.app.server.inject({ method: 'POST', url: '/api/catalog/locations', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { type: 'file', target: 'examples/demo-org/catalog-info.yaml' } });
    // The index follows the catalog's ledger events, which reach it (over LISTEN/NOTIFY on PostgreSQL) after
    // the POST has answered; each sync reads every change since the last, so the first non-empty index is whole.
    await until(async () => {
      await t.app.search.settled();
      return (await query('term=checkout')).body.numberOfResults > 0;
    }, 15_000);
  });
  afterAll(() => t?.close());

  it('ranks entities by title first, with prefix and typo tolerance', async () => {
    const exact = await query('term=checkout');
    expect(exact.body.results[0]!.document.title).toMatch(/checkout/i);
    expect(exact.body.results[0]!.highlight?.fields.title).toMatch(/<mark>/);
    const prefix = await query('term=checko');
    expect(prefix.body.results.map((r) => r.document.title)).toContain(exact.body.results[0]!.document.title);
    const typo = await query('term=chekout');
    expect(typo.body.results.map((r) => r.document.title)).toContain(exact.body.results[0]!.document.title);
  });

  it('finds docs pages with highlighted text and a portal location', async () => {
    const { body } = await query('term=runbook&types=techdocs');
    expect(body.results.length).toBeGreaterThan(0);
    expect(body.results.every((r) => r.type === 'techdocs')).toBe(true);
    expect(body.results[0]!.document.location).toMatch(/^\/docs\/default\/component\/[a-z-]+\//);
  });

  it('filters by kind and owner and pages with a cursor', async () => {
    const { body } = await query('term=&types=software-catalog&filters[kind]=Component&pageLimit=5');
    expect(body.results).toHaveLength(5);
    expect(body.results.every((r) => r.document.kind === 'Component')).toBe(true);
    expect(body.numberOfResults).toBe(12);
    const next = await query(`term=&types=software-catalog&filters[kind]=Component&pageLimit=5&pageCursor=${body.nextPageCursor}`);
    expect(next.body.results[0]!.rank).toBe(6);
    const owned = await query('term=&filters[owner]=group:default/team-checkout&types=software-catalog');
    expect(owned.body.results.length).toBeGreaterThan(0);
    expect(owned.body.results.every((r) => r.document.owner === 'group:default/team-checkout')).toBe(true);
  });

  it('updates incrementally when the catalog changes', async () => {
    const before = await query('term=northwind-labs');
    const loc = (await t.app.server.inject({ method: 'GET', url: '/api/catalog/locations', headers: { authorization: `Bearer ${t.adminToken}` } })).json() as { data: { id: string } }[];
    await t.app.server.inject({ method: 'DELETE', url: `/api/catalog/locations/${loc[0]!.data.id}`, headers: { authorization: `Bearer ${t.adminToken}` } });
    // Within seconds, however long the ledger event takes to arrive under load.
    await until(async () => {
      await t.app.search.settled();
      return (await query('term=checkout')).body.results.length === 0;
    }, 15_000);
    expect(before.status).toBe(200);
  });

  it('refuses bad queries with a 400', async () => {
    expect((await query(`term=${'x'.repeat(101)}`)).status).toBe(400);
    expect((await query('term=a&filters[password]=x')).status).toBe(400);
    expect((await query('term=a&pageCursor=bm9wZQ')).status).toBe(400);
    expect((await t.app.server.inject({ method: 'GET', url: '/api/search/query?term=a' })).statusCode).toBe(401);
  });
});
