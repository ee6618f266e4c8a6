import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselyPlugin, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import type { Store } from '../kernel/index.js';
import { servedByRefLoader } from './store/served.js';

const dialects = await testDialects();

/** Counts the queries run through it, and fails them while `failing` is set. */
class QueryCounter implements KyselyPlugin {
  queries = 0;
  failing: Error | undefined;
  transformQuery: KyselyPlugin['transformQuery'] = (args) => args.node;
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.queries += 1;
    if (this.failing) throw this.failing;
    return args.result;
  }
}

const component = (name: string, dependsOn: string[]) =>
  `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  dependsOn: [${dependsOn.join(', ')}]\n`;

describe.each(dialects)('by-name reads on %s', (dialect) => {
  let t: TestApp;
  let root: string;
  let counter: QueryCounter;
  let counted: Store;
  const byName = (name: string) => t.app.server.inject({ method: 'GET', url: `/api/catalog/entities/by-name/component/default/${name}`, headers: { authorization: `Bearer ${t.adminToken}` } });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'plinth-by-name-'));
    // delta's owner holds both separators of the relations aggregate (Dialect.joinedPairs).
    const delta = component('delta', ['component:alpha']).replace('owner: team-a', 'owner: "group:default/odd\\x01name\\x02x"');
    writeFileSync(join(root, 'catalog-info.yaml'), [...['alpha', 'beta', 'gamma'].map((n, i) => component(n, i === 0 ? [] : ['component:alpha'])), delta].join('---\n'));
    t = await startTestApp({ dialect, config: { catalog: { fileRoot: root, refreshIntervalS: 300 } } });
    const res = await t.app.server.inject({ method: 'POST', url: '/api/catalog/locations', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { type: 'file', target: 'catalog-info.yaml' } });
    expect(res.statusCode).toBe(201);
    counter = new QueryCounter();
    const store = t.app.kernel.store;
    counted = { ...store, tables: () => store.tables().withPlugin(counter) } as Store;
  });
  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers reads that arrive together each with its own entity, a missing one with 404', async () => {
    const names = ['gamma', 'alpha', 'Beta', 'alpha', 'missing', 'beta'];
    const alone = [];
    for (const name of names) alone.push(await byName(name));
    const together = await Promise.all(names.map(byName));
    expect(together.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 404, 200]);
    expect(together.map((r) => r.body)).toEqual(alone.map((r) => r.body));
    const alpha = together[1]!.json() as { metadata: { name: string }; relations: { type: string; targetRef: string }[] };
    expect(alpha.metadata.name).toBe('alpha');
    expect(alpha.relations.filter((r) => r.type === 'dependencyOf').map((r) => r.targetRef).sort()).toEqual(['component:default/beta', 'component:default/delta', 'component:default/gamma']);
  });

  it('serves relations whose values hold a separator of the aggregate, by name and by query', async () => {
    const odd = 'group:default/odd\x01name\x02x';
    const byQuery = await t.app.server.inject({ method: 'GET', url: '/api/catalog/entities/by-query?filter=kind=component&limit=10', headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(byQuery.statusCode).toBe(200);
    const items = (byQuery.json() as { items: { metadata: { name: string }; relations: { type: string; targetRef: string; target: { name: string } }[] }[] }).items;
    expect(items.map((e) => e.metadata.name)).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const delta = items[2]!;
    expect(delta.relations).toEqual([
      { type: 'dependsOn', targetRef: 'component:default/alpha', target: { kind: 'component', namespace: 'default', name: 'alpha' } },
      { type: 'ownedBy', targetRef: odd, target: { kind: 'group', namespace: 'default', name: 'odd\x01name\x02x' } },
    ]);
    const one = await byName('delta');
    expect(one.json()).toEqual(delta);
    // alpha's relations come through the aggregate itself: the same on either read.
    expect((await byName('alpha')).json()).toEqual(items[0]);
  });

  it('shares one query among the reads of one turn where a query is a round trip', async () => {
    const load = servedByRefLoader(counted);
    counter.queries = 0;
    const rows = await Promise.all(['component:default/alpha', 'component:default/beta', 'component:default/alpha', 'component:default/nope'].map(load));
    expect(rows.map((r) => r?.ref)).toEqual(['component:default/alpha', 'component:default/beta', 'component:default/alpha', undefined]);
    expect(counter.queries).toBe(dialect === 'postgres' ? 1 : 4);
    // A read in a later turn is a query of its own.
    expect((await load('component:default/gamma'))?.ref).toBe('component:default/gamma');
    expect(counter.queries).toBe(dialect === 'postgres' ? 2 : 5);
  });

  it('fails every read of a batch whose query fails, and serves the next batch', async () => {
    const load = servedByRefLoader(counted);
    counter.failing = new Error('connection lost');
    const settled = await Promise.allSettled(['component:default/alpha', 'component:default/beta'].map(load));
    expect(settled.map((s) => (s.status === 'rejected' ? (s.reason as Error).message : 'served'))).toEqual(['connection lost', 'connection lost']);
    counter.failing = undefined;
    expect((await load('component:default/beta'))?.ref).toBe('component:default/beta');
  });
});
