import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { until } from '../../test/helpers/kernel.js';
import type { Store } from '../kernel/index.js';
import { createReadPool, type ReadPool } from './read-pool.js';
import { selectServedPage, textPageBody, type PageBody } from './served-page.js';
import type { EntityQuery } from './store/query.js';

/** Components with relations both ways, one with text that is not ASCII (written as UTF-8, not byte for byte). */
function catalogYaml(): string {
  const docs = [`apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []`];
  for (let i = 0; i < 60; i++) {
    const description = i === 7 ? 'Zürich — 東京 ✓' : `service number ${i}`;
    docs.push(
      `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-${String(i).padStart(2, '0')}\n  description: ${JSON.stringify(description)}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a${i > 0 ? `\n  dependsOn: [component:svc-${String(i - 1).padStart(2, '0')}]` : ''}`,
    );
  }
  return docs.join('\n---\n');
}

const query = (limit: number, offset = 0): EntityQuery => ({ filter: { op: 'in', key: 'kind', values: ['component'] }, order: [], limit, offset });
const CLOSE = '],"end":true}';
const text = (body: string | Buffer) => (typeof body === 'string' ? body : body.toString('utf8'));

describe('catalog read pool (SQLite reader threads)', () => {
  let t: TestApp;
  let store: Store;
  let root: string;
  const api = (url: string) => t.app.server.inject({ method: 'GET', url: `/api/catalog${url}`, headers: { authorization: `Bearer ${t.adminToken}` } });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'plinth-read-pool-'));
    writeFileSync(join(root, 'catalog-info.yaml'), catalogYaml());
    t = await startTestApp({ dialect: 'sqlite', config: { catalog: { fileRoot: root, refreshIntervalS: 300 } } });
    store = t.app.kernel.store;
    const res = await t.app.server.inject({ method: 'POST', url: '/api/catalog/locations', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { type: 'file', target: 'catalog-info.yaml' } });
    expect(res.statusCode, res.body).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The page from a reader, once one has started. */
  async function fromReader(pool: ReadPool, q: EntityQuery, size: number): Promise<PageBody> {
    let page: Promise<PageBody> | undefined;
    await until(() => (page = pool.page(q, size)) !== undefined, 20_000);
    return page!;
  }

  it('serves a page from a reader thread exactly as this thread reads it, and says so while none has started', async () => {
    const pool = createReadPool({ file: store.sqliteFile!, threads: 2 });
    try {
      expect(pool.page(query(21), 20)).toBeUndefined();
      const here = textPageBody(await selectServedPage(store, query(21), 20));
      const there = await fromReader(pool, query(21), 20);
      expect(there.matched).toBe(21);
      expect(typeof there.body(CLOSE)).not.toBe('string'); // from shared memory
      expect(text(there.body(CLOSE))).toBe(here.body(CLOSE));
      const parsed = JSON.parse(text(there.body(CLOSE))) as { items: { metadata: { name: string; description: string }; relations: { type: string }[] }[] };
      expect(parsed.items).toHaveLength(20);
      expect(parsed.items[7]!.metadata.description).toBe('Zürich — 東京 ✓');
      expect(parsed.items[1]!.relations.map((r) => r.type).sort()).toEqual(['dependencyOf', 'dependsOn', 'ownedBy']);
      there.release();
      // The last page: fewer than the size, nothing more to tell.
      const last = await fromReader(pool, query(21, 50), 20);
      expect(last.matched).toBe(10);
      expect(text(last.body(CLOSE))).toBe(textPageBody(await selectServedPage(store, query(21, 50), 20)).body(CLOSE));
      last.release();
    } finally {
      await pool.close();
    }
  });

  it('sends pages beyond its shared slots, or larger than one, in their message, and reuses a slot once it is released', async () => {
    const pool = createReadPool({ file: store.sqliteFile!, threads: 2, slots: 2, slotBytes: 16 * 1024 });
    try {
      const expected = textPageBody(await selectServedPage(store, query(6), 5)).body(CLOSE);
      (await fromReader(pool, query(6), 5)).release();
      const three = await Promise.all([0, 1, 2].map(() => pool.page(query(6), 5)!));
      expect(three.map((p) => typeof p.body(CLOSE)).sort()).toEqual(['object', 'object', 'string']);
      for (const p of three) expect(text(p.body(CLOSE))).toBe(expected);
      for (const p of three) p.release();
      const again = await pool.page(query(6), 5)!;
      expect(typeof again.body(CLOSE)).toBe('object');
      again.release();
      // 60 entities do not fit in 16 KB: the page comes back in its message, the same.
      const big = await pool.page(query(61), 60)!;
      expect(typeof big.body(CLOSE)).toBe('string');
      expect(big.body(CLOSE)).toBe(textPageBody(await selectServedPage(store, query(61), 60)).body(CLOSE));
    } finally {
      await pool.close();
    }
  });

  it('answers by-query through the API the same from this thread (readers starting) and from the readers', async () => {
    const url = '/entities/by-query?filter=kind=component&limit=25&orderField=metadata.name,desc';
    const first = await api(url); // the catalog's readers start now; this page is read here
    expect(first.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const later = await Promise.all(Array.from({ length: 6 }, () => api(url)));
    for (const res of later) {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toBe(first.body);
    }
    const body = first.json<{ items: { metadata: { name: string } }[]; totalItems: number; pageInfo: { nextCursor?: string } }>();
    expect(body.items[0]!.metadata.name).toBe('svc-59');
    expect(body.totalItems).toBe(60);
    const next = await api(`/entities/by-query?cursor=${encodeURIComponent(body.pageInfo.nextCursor!)}&limit=25`);
    expect(next.json<{ items: { metadata: { name: string } }[] }>().items[0]!.metadata.name).toBe('svc-34');
  });
});
