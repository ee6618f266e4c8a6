import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';

const dialects = await testDialects();

const component = (name: string, extra = '') =>
  `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n${extra}`;
const location = (name: string, targets: string[]) =>
  `apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: ${name}\nspec:\n  targets:\n${targets.map((t) => `    - ${t}`).join('\n')}\n`;

describe.each(dialects)('catalog locations and ingestion on %s', (dialect) => {
  let t: TestApp;
  let root: string;
  let member: { token: string };
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, token = t.adminToken) =>
    t.app.server.inject({ method, url: `/api/catalog${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  const register = async (target: string) => {
    const res = await api('POST', '/locations', { type: 'file', target });
    expect(res.statusCode).toBe(201);
    return (res.json() as { location: { id: string } }).location.id;
  };
  const problems = async (id: string) => (await t.app.catalog.getLocation({ kind: 'system', name: 'test' }, id)).problems.map((p) => p.message);
  const entity = async (ref: string) => {
    const [kind, rest] = ref.split(':');
    const res = await api('GET', `/entities/by-name/${kind}/default/${rest}`);
    return res.statusCode === 200 ? (res.json() as { metadata: { annotations: Record<string, string> }; spec: Record<string, unknown>; status?: { items: { level: string; message: string }[] } }) : undefined;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'plinth-catalog-'));
    t = await startTestApp({ dialect, config: { catalog: { fileRoot: root, refreshIntervalS: 300 } } });
    member = await t.createUser('mo', 'member');
  });
  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps every good entity when one document of a file is broken, and names the broken one', async () => {
    write('mixed/catalog-info.yaml', [component('good-one'), 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad one!\nspec: {}\n', 'kind: NotAKind\napiVersion: x/v1\nmetadata:\n  name: weird\n', component('good-two')].join('---\n'));
    const id = await register('mixed/catalog-info.yaml');
    expect(await entity('component:good-one')).toBeDefined();
    expect(await entity('component:good-two')).toBeDefined();
    const list = await problems(id);
    expect(list).toHaveLength(2);
    const locationEntity = (await (await api('GET', '/locations')).json() as { data: { id: string; entityRef: string } }[]).find((l) => l.data.id === id)!.data.entityRef;
    const status = (await api('GET', `/entities/by-name/location/default/${locationEntity.split('/')[1]}`)).json() as { status: { items: { level: string; message: string }[] } };
    expect(status.status.items.map((i) => i.message)).toEqual(list);
    expect(list[0]).toMatch(/document 2 \(Component bad one!\)/);
    expect(list[1]).toMatch(/unknown kind NotAKind/);
  });

  it('reports invalid YAML with its line and column', async () => {
    write('broken/catalog-info.yaml', 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: [unclosed\n');
    const id = await register('broken/catalog-info.yaml');
    expect((await problems(id))[0]).toMatch(/catalog-info\.yaml:\d+:\d+: invalid YAML/);
  });

  it('detects cycles between Location files', async () => {
    write('cycle/a.yaml', location('loc-a', ['./b.yaml']));
    write('cycle/b.yaml', `${location('loc-b', ['./a.yaml'])}---\n${component('in-cycle')}`);
    const id = await register('cycle/a.yaml');
    expect((await problems(id)).join('\n')).toMatch(/Location cycle: .*a\.yaml → .*b\.yaml → .*a\.yaml/);
    expect(await entity('component:in-cycle')).toBeDefined();
  });

  it('refuses files and placeholders outside the file root, oversized files and symlink escapes', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'plinth-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'TOP SECRET');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    write('escape/catalog-info.yaml', `${component('escaper')}  definition: x\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: leaky\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n    $text: ../link.txt\n`);
    const id = await register('escape/catalog-info.yaml');
    expect((await problems(id)).join('\n')).toMatch(/outside the catalog's file roots/);
    expect(await entity('api:leaky')).toBeUndefined();
    // A target outside every root is refused up front, and nothing is registered.
    const before = (await api('GET', '/locations')).json() as unknown[];
    for (const target of [join(outside, 'secret.txt'), `${root}/../${basename(outside)}/secret.txt`, `${outside}/*.yaml`]) {
      const refused = await api('POST', '/locations', { type: 'file', target });
      expect(refused.statusCode, target).toBe(400);
      expect((refused.json() as { error: { message: string } }).error.message).toMatch(/outside the catalog's file roots/);
    }
    expect(((await api('GET', '/locations')).json() as unknown[]).length).toBe(before.length);
    write('big/catalog-info.yaml', `${component('big')}  blob: "${'x'.repeat(5 * 1024 * 1024)}"\n`);
    const big = await register('big/catalog-info.yaml');
    expect((await problems(big)).join()).toMatch(/over the .*-byte limit/);
    rmSync(outside, { recursive: true, force: true });
  });

  it('reports duplicates and conflicts between locations without overwriting', async () => {
    write('dup/catalog-info.yaml', [component('twin'), component('twin')].join('---\n'));
    const id = await register('dup/catalog-info.yaml');
    expect((await problems(id)).join()).toMatch(/duplicate entity component:default\/twin/);
    write('conflict/catalog-info.yaml', component('twin', '  system: other\n'));
    const other = await register('conflict/catalog-info.yaml');
    expect((await problems(other)).join()).toMatch(/ConflictError: component:default\/twin is already registered from/);
    expect((await entity('component:twin'))!.spec.system).toBeUndefined();
  });

  it('refreshes changes, keeps the last good copy on error, and marks orphans', async () => {
    write('life/catalog-info.yaml', [component('stays'), component('leaves')].join('---\n'));
    const id = await register('life/catalog-info.yaml');
    write('life/catalog-info.yaml', [component('stays', '  system: payments\n')].join('---\n'));
    await api('POST', '/refresh', { entityRef: 'component:default/stays' });
    expect((await entity('component:stays'))!.spec.system).toBe('payments');
    expect((await entity('component:leaves'))!.metadata.annotations['backstage.io/orphan']).toBe('true');
    write('life/catalog-info.yaml', `${component('stays').replace('  lifecycle: production\n', '')}---\n${component('newcomer')}`);
    await t.app.catalog.refreshLocation(id);
    const kept = (await entity('component:stays'))!;
    expect(kept.spec.system).toBe('payments');
    expect(kept.status!.items[0]!.level).toBe('error');
    expect(kept.status!.items[0]!.message).toMatch(/lifecycle/);
    // Broken YAML in a file orphans nothing from it.
    write('life/catalog-info.yaml', `${component('stays')}---\nmetadata: [unclosed\n---\n${component('newcomer').replace('newcomer', 'later')}`);
    await t.app.catalog.refreshLocation(id);
    expect((await entity('component:newcomer'))!.metadata.annotations['backstage.io/orphan']).toBeUndefined();
    // A file that cannot be read at all orphans nothing.
    rmSync(join(root, 'life/catalog-info.yaml'));
    await t.app.catalog.refreshLocation(id);
    expect((await entity('component:stays'))!.metadata.annotations['backstage.io/orphan']).toBeUndefined();
  });

  it('applying the same location twice changes nothing', async () => {
    write('idem/catalog-info.yaml', component('idem'));
    const id = await register('idem/catalog-info.yaml');
    const before = await entity('component:idem');
    const summary = await t.app.catalog.refreshLocation(id);
    expect(summary).toMatchObject({ added: 0, updated: 0, orphaned: 0 });
    expect(await entity('component:idem')).toEqual(before);
    expect((await api('POST', '/locations?onConflict=refresh', { type: 'file', target: 'idem/catalog-info.yaml' })).statusCode).toBe(201);
  });

  it('removing a location removes its entities; members may not register server files', async () => {
    write('gone/catalog-info.yaml', component('gone'));
    const id = await register('gone/catalog-info.yaml');
    expect((await api('DELETE', `/locations/${id}`)).statusCode).toBe(204);
    expect(await entity('component:gone')).toBeUndefined();
    const denied = await api('POST', '/locations', { type: 'file', target: 'gone/catalog-info.yaml' }, member.token);
    expect(denied.statusCode).toBe(403);
    expect((denied.json() as { error: { message: string } }).error.message).toMatch(/platform-admin/);
  });

  it('keeps totals and facets true as entities come and go', async () => {
    const typeFilter = '/entities/by-query?filter=spec.type=cachedtype&limit=1';
    const total = async () => ((await api('GET', typeFilter)).json() as { totalItems: number }).totalItems;
    const facet = async () => ((await api('GET', '/entity-facets?facet=spec.type')).json() as { facets: Record<string, { value: string; count: number }[]> }).facets['spec.type']!.find((f) => f.value === 'cachedtype')?.count;
    expect([await total(), await facet()]).toEqual([0, undefined]);
    write('cached/catalog-info.yaml', [component('cached-a'), component('cached-b')].join('---\n').replaceAll('type: service', 'type: cachedtype'));
    const id = await register('cached/catalog-info.yaml');
    expect([await total(), await facet()]).toEqual([2, 2]);
    write('cached/catalog-info.yaml', component('cached-a').replace('type: service', 'type: cachedtype'));
    await t.app.catalog.refreshLocation(id);
    // The orphan keeps its type (Backstage keeps orphans until someone deletes them).
    expect([await total(), await facet()]).toEqual([2, 2]);
    const orphan = (await api('GET', '/entities/by-name/component/default/cached-b')).json() as { metadata: { uid: string } };
    expect((await api('DELETE', `/entities/by-uid/${orphan.metadata.uid}`)).statusCode).toBe(204);
    expect([await total(), await facet()]).toEqual([1, 1]);
    expect((await api('DELETE', `/locations/${id}`)).statusCode).toBe(204);
    expect([await total(), await facet()]).toEqual([0, undefined]);
  });

  it('ingests large files (parsed and validated on a worker thread) like small ones, problems and refreshes included', async () => {
    // Files over 32 KiB go to the parse worker; 3 such files, more than the read-ahead window.
    const big = (prefix: string, n: number, extra = '') =>
      Array.from({ length: n }, (_, i) => component(`${prefix}-${String(i).padStart(4, '0')}`, `  dependsOn: ['component:${prefix}-${String((i + 1) % n).padStart(4, '0')}']\n${extra}`)).join('---\n');
    write('large/a.yaml', big('big-a', 300) + '---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: big bad!\nspec: {}\n---\n' + component('big-a-0001'));
    write('large/b.yaml', big('big-b', 300));
    write('large/c.yaml', big('big-c', 300, '  system: big-system\n'));
    write('large/d.yaml', component('big-d-0000'));
    write('large/catalog-info.yaml', location('large', ['./a.yaml', './b.yaml', './c.yaml', './d.yaml']));
    const id = await register('large/catalog-info.yaml');
    const list = await problems(id);
    expect(list).toHaveLength(2);
    expect(list[0]).toMatch(/a\.yaml: document 301 \(Component big bad!\)/);
    expect(list[1]).toMatch(/duplicate entity component:default\/big-a-0001/);
    const one = (await api('GET', '/entities/by-name/component/default/big-c-0299')).json() as { metadata: { annotations: Record<string, string> }; relations: { type: string; targetRef: string }[] };
    expect(one.metadata.annotations['backstage.io/managed-by-location']).toBe(`file:${join(root, 'large/c.yaml')}`);
    expect(one.relations.map((r) => `${r.type} ${r.targetRef}`).sort()).toEqual([
      'dependencyOf component:default/big-c-0298',
      'dependsOn component:default/big-c-0000',
      'ownedBy group:default/team-a',
      'partOf system:default/big-system',
    ]);
    const count = async () => ((await api('GET', '/entities/by-query?limit=1&filter=metadata.name%3Dbig-*')).json() as { totalItems: number }).totalItems;
    const byPrefix = (await api('GET', '/entities/by-query?limit=1&fullTextFilterTerm=big-&fullTextFilterFields=metadata.name')).json() as { totalItems: number };
    expect(byPrefix.totalItems).toBe(901);
    expect(await count()).toBe(0);
    // Refreshing with one file changed rewrites only that file's changed entities.
    write('large/b.yaml', big('big-b', 299));
    const summary = await t.app.catalog.refreshLocation(id);
    expect(summary).toMatchObject({ added: 0, orphaned: 1 });
    expect(summary.updated).toBeGreaterThan(0);
    expect(summary.unchanged).toBeGreaterThan(850);
  });

  it('answers bad input with 4xx and never runs it as SQL', async () => {
    const injection = await api('GET', `/entities?filter=${encodeURIComponent("kind=component' OR 1=1 --")}`);
    expect(injection.statusCode).toBe(200);
    expect(injection.json()).toEqual([]);
    const tables = await api('GET', `/entities/by-query?filter=${encodeURIComponent('metadata.name=x;drop table catalog_entities')}`);
    expect(tables.statusCode).toBe(200);
    expect((await entity('component:good-one'))).toBeDefined();
    expect((await api('GET', '/entities/by-query?cursor=notacursor')).statusCode).toBe(400);
    expect((await api('GET', '/entities?filter=%3Dvalue')).statusCode).toBe(400);
    expect((await api('GET', '/entity-facets')).statusCode).toBe(400);
    expect((await api('POST', '/locations', { type: 'ftp', target: 'x' })).statusCode).toBe(400);
    expect((await api('POST', '/locations', { type: 'url', target: 'not a url' })).statusCode).toBe(400);
    expect((await api('POST', '/entities/by-query', { query: { $bogus: 1 } })).statusCode).toBe(400);
    expect((await api('GET', '/entities/by-name/component/default/missing')).json()).toMatchObject({ error: { name: 'NotFoundError', message: "No entity named 'missing' found, with kind 'component' in namespace 'default'" } });
    expect((await t.app.server.inject({ method: 'GET', url: '/api/catalog/entities' })).statusCode).toBe(401);
  });
});
