import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { systemClock, type Store } from '../kernel/index.js';
import { ingestLocation } from './ingest.js';
import type { CatalogLocation } from './model/types.js';
import type { ReadEntity, ReadHooks, ReadResult } from './reader.js';
import { beginBulkIngest, deferrableIndexes, ensureDeferrableIndexes } from './store/bulk-indexes.js';
import { changedSinceQuery, refreshStatistics, selectChangedSince } from './store/entities.js';

const dialects = await testDialects();

/** Index name → definition with quotes, schema and `using btree` dropped, for the catalog's tables. */
async function catalogIndexes(store: Store): Promise<Map<string, string>> {
  const db = store.tables<unknown>();
  const rows =
    store.dialect.name === 'postgres'
      ? (await sql<{ name: string; def: string }>`select indexname as name, indexdef as def from pg_indexes where schemaname = current_schema() and tablename like 'catalog_%'`.execute(db)).rows
      : (await sql<{ name: string; def: string }>`select name, sql as def from sqlite_master where type = 'index' and tbl_name like 'catalog_%' and sql is not null`.execute(db)).rows;
  const normal = (def: string) => def.replace(/"/g, '').replace(/ public\./, ' ').replace(/ using btree/i, '').replace(/\s+/g, ' ').toLowerCase();
  return new Map(rows.map((r) => [r.name, normal(r.def)]));
}

const doc = (kind: string, name: string, spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'backstage.io/v1alpha1', kind, metadata: { name }, spec });

/** Three files: groups, then components owned by them that depend on each other (relations in both directions). */
function files(): Record<string, unknown>[][] {
  const groups = Array.from({ length: 6 }, (_, i) => doc('Group', `team-${i}`, { type: 'team', children: [] }));
  const components = (from: number) =>
    Array.from({ length: 6 }, (_, i) => {
      const n = from + i;
      return doc('Component', `svc-${n}`, { type: n % 2 === 0 ? 'service' : 'website', lifecycle: 'production', owner: `team-${n % 6}`, dependsOn: n > 0 ? [`component:svc-${n - 1}`] : [] });
    });
  return [groups, components(0), components(6)];
}

describe.each(dialects)('bulk ingest on %s', (dialect) => {
  let t: TestApp;
  let store: Store;
  let migrated: Map<string, string>;
  const api = (url: string) => t.app.server.inject({ method: 'GET', url: `/api/catalog${url}`, headers: { authorization: `Bearer ${t.adminToken}` } });
  const total = async (filter: string) => (api(`/entities/by-query?limit=1&${filter}`).then((r) => (r.json() as { totalItems: number }).totalItems));

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    store = t.app.kernel.store;
    migrated = await catalogIndexes(store);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the deferrable indexes as the migrations define them', () => {
    for (const index of deferrableIndexes) {
      expect(migrated.get(index.name), index.name).toBe(`create index ${index.name} on ${index.table} (${index.columns.join(', ')})`);
    }
  });

  it('drops the random-order indexes while a bulk load writes, builds them back after, and serves the same answers', async () => {
    const location: CatalogLocation = { id: 'bulk-test', type: 'file', target: '/bulk/catalog-info.yaml', entityRef: 'location:default/bulk', createdBy: 'user:default/admin', createdAt: new Date().toISOString(), refreshedAt: null, problems: [] };
    const during: string[][] = [];
    const readTree = async (hooks: Required<ReadHooks>): Promise<ReadResult> => {
      for (const [i, docs] of files().entries()) {
        const items: ReadEntity[] = docs.map((raw, docIndex) => ({ raw, locationRef: `file:/bulk/file-${i}.yaml`, sourceRef: 'file:/bulk/', docIndex }));
        await hooks.onFile(items);
        during.push([...(await catalogIndexes(store)).keys()]);
      }
      return { entities: [], problems: [], unreadable: new Set(), visited: new Set() };
    };
    const summary = await ingestLocation({ store, clock: systemClock, writeBatch: 5 }, location, readTree);
    expect(summary.added).toBe(19);
    expect(summary.problems).toEqual([]);
    // After the first file (6 writes ≥ a batch of 5 into an empty catalog) the indexes were gone.
    for (const names of during) for (const index of deferrableIndexes) expect(names).not.toContain(index.name);
    expect(await catalogIndexes(store)).toEqual(migrated);

    expect(await total('filter=kind=component,spec.type=service')).toBe(6);
    expect(await total('filter=relations.ownedBy=group:default/team-1')).toBe(2);
    expect(await total('filter=kind=group,relations.ownerOf')).toBe(6);
    expect(await total('filter=relations.dependencyOf=component:default/svc-5')).toBe(1);
    const svc5 = (await api('/entities/by-name/component/default/svc-5')).json() as { relations: { type: string; targetRef: string }[] };
    expect(svc5.relations.map((r) => `${r.type} ${r.targetRef}`)).toEqual(['dependencyOf component:default/svc-6', 'dependsOn component:default/svc-4', 'ownedBy group:default/team-5']);
    const facets = (await api('/entity-facets?facet=spec.type&filter=kind=component')).json() as { facets: Record<string, { value: string; count: number }[]> };
    expect(facets.facets['spec.type']).toEqual([{ value: 'service', count: 6 }, { value: 'website', count: 6 }]);
  });

  it('builds back indexes a stopped bulk load left missing', async () => {
    await beginBulkIngest(store);
    const names = [...(await catalogIndexes(store)).keys()];
    for (const index of deferrableIndexes) expect(names).not.toContain(index.name);
    await ensureDeferrableIndexes(store);
    expect(await catalogIndexes(store)).toEqual(migrated);
  });

  it('leaves relation and entity pages all-visible after a bulk write on PostgreSQL, so relations are read from their index alone', async () => {
    await refreshStatistics(store);
    if (store.dialect.name !== 'postgres') return;
    const pages = await sql<{ relname: string; relpages: number; relallvisible: number }>`
      select relname, relpages, relallvisible from pg_class
      where relname in ('catalog_relations', 'catalog_entities') and relnamespace = current_schema()::regnamespace order by relname`.execute(store.tables<unknown>());
    expect(pages.rows.map((r) => r.relname)).toEqual(['catalog_entities', 'catalog_relations']);
    for (const r of pages.rows) {
      expect(r.relpages, r.relname).toBeGreaterThan(0);
      expect(r.relallvisible, r.relname).toBe(r.relpages);
    }
  });

  it('pages through changed entities by (updated_at, uid), each once, as a range of its index', async () => {
    const all = await selectChangedSince(store, undefined, 10_000);
    // One refresh writes its entities with one updated_at: the uid alone orders them.
    expect(new Set(all.map((e) => e.updatedAt)).size).toBeLessThan(all.length);
    expect(all.length).toBeGreaterThan(18);
    const paged: string[] = [];
    let after: { updatedAt: string; uid: string } | undefined;
    for (;;) {
      const page = await selectChangedSince(store, after, 5);
      if (page.length === 0) break;
      paged.push(...page.map((e) => e.uid));
      after = { updatedAt: page.at(-1)!.updatedAt, uid: page.at(-1)!.uid };
    }
    expect(paged).toEqual(all.map((e) => e.uid));
    if (store.dialect.name !== 'postgres') return;
    // The watermark bounds the index scan (an Index Cond), not a filter over every row before it.
    const middle = all[Math.floor(all.length / 2)]!;
    // A table this small is cheaper to scan whole; with scans priced out, the plan shows how the index is used.
    const plan = await store.transaction(async (tx) => {
      await sql`set local enable_seqscan = off`.execute(tx.tables<unknown>());
      return (await changedSinceQuery(tx, { updatedAt: middle.updatedAt, uid: middle.uid }, 5).explain()).map((r) => Object.values(r).join(' ')).join('\n');
    });
    expect(plan).toMatch(/Index Cond: \(ROW\(updated_at, uid\) > ROW\(/);
  });
});
