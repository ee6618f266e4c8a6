import { CATALOG_FILTER_EXISTS, CatalogClient } from '@backstage/catalog-client';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { startGithubFake } from '../../test/helpers/github-fake.js';

const examples = new URL('../../../shared/conformance/backstage/examples/', import.meta.url).pathname;
const dialects = await testDialects();

/** The unmodified @backstage/catalog-client against a running Plinth (NOTES.md b lists what it calls). */
describe.each(dialects)('@backstage/catalog-client against Plinth on %s (GitHub served by a local fake)', (dialect) => {
  let t: TestApp;
  let github: Awaited<ReturnType<typeof startGithubFake>>;
  let client: CatalogClient;
  let token: string;
  const opts = () => ({ token });

  beforeAll(async () => {
    github = await startGithubFake();
    t = await startTestApp({ dialect, listen: true, config: { catalog: { fileRoot: examples, refreshIntervalS: 300 } }, app: { catalog: { fetchUrl: github.fetchUrl } } });
    token = t.adminToken;
    client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${t.url}/api/catalog` }, fetchApi: { fetch: globalThis.fetch } });
    await client.addLocation({ type: 'file', target: 'backstage-catalog-model/all.yaml' }, opts());
    await client.addLocation({ type: 'file', target: 'backstage-catalog-model/acme-corp.yaml' }, opts());
  });
  afterAll(async () => {
    await t?.close();
    await github?.close();
  });

  it('getEntities filters, projects, orders and pages like Backstage', async () => {
    const { items } = await client.getEntities(
      { filter: [{ kind: ['API', 'Component'], 'spec.type': CATALOG_FILTER_EXISTS }], fields: ['kind', 'metadata.name'], order: [{ field: 'metadata.name', order: 'asc' }] },
      opts(),
    );
    expect(items).toHaveLength(23);
    expect(Object.keys(items[0]!)).toEqual(['kind', 'metadata']);
    const names = items.map((e) => e.metadata.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    const page = await client.getEntities({ filter: { kind: 'component' }, order: [{ field: 'metadata.name', order: 'desc' }], limit: 5, offset: 2 }, opts());
    expect(page.items.map((e) => e.metadata.name)).toEqual(names.filter((_, i) => items[i]!.kind === 'Component').sort((a, b) => b.localeCompare(a)).slice(2, 7));
    const tagged = await client.getEntities({ filter: { 'metadata.tags.java': CATALOG_FILTER_EXISTS } }, opts());
    expect(tagged.items.map((e) => e.metadata.name)).toContain('artist-lookup');
    const ored = await client.getEntities({ filter: [{ kind: 'domain' }, { kind: 'system' }] }, opts());
    expect(ored.items).toHaveLength(6);
    const byRelation = await client.getEntities({ filter: { 'relations.ownedBy': 'group:default/team-a', kind: 'component' } }, opts());
    expect(byRelation.items.map((e) => e.metadata.name).sort()).toEqual(['artist-lookup', 'wayback-archive', 'wayback-archive-storage', 'wayback-search', 'www-artist']);
  });

  it('queryEntities pages with cursors, counts totals and searches full text', async () => {
    const first = await client.queryEntities({ filter: { kind: 'user' }, limit: 5, orderFields: { field: 'metadata.name', order: 'asc' } }, opts());
    expect(first.totalItems).toBe(17);
    expect(first.items).toHaveLength(5);
    const refOf = (e: { metadata: { namespace?: string; name: string } }) => `${e.metadata.namespace}/${e.metadata.name}`;
    const seen = first.items.map(refOf);
    let cursor = first.pageInfo.nextCursor;
    while (cursor) {
      const next = await client.queryEntities({ cursor, limit: 5 }, opts());
      seen.push(...next.items.map(refOf));
      cursor = next.pageInfo.nextCursor;
    }
    expect(seen).toHaveLength(17);
    expect(new Set(seen).size).toBe(17);
    const names = seen.map((r) => r.split('/')[1]!);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    const found = await client.queryEntities({ filter: { kind: 'component' }, fullTextFilter: { term: 'WAYBACK', fields: ['metadata.name'] } }, opts());
    expect(found.items.map((e) => e.metadata.name).sort()).toEqual(['wayback-archive', 'wayback-archive-ingestion', 'wayback-archive-storage', 'wayback-search']);
    const predicate = await client.queryEntities({ query: { $all: [{ kind: 'component' }, { $any: [{ 'spec.type': 'website' }, { 'metadata.name': { $hasPrefix: 'play' } }] }] }, limit: 2 }, opts());
    expect(predicate.totalItems).toBeGreaterThan(2);
    const rest = await client.queryEntities({ cursor: predicate.pageInfo.nextCursor!, limit: 50 }, opts());
    expect(predicate.items.length + rest.items.length).toBe(predicate.totalItems);
    const streamed: string[] = [];
    for await (const page of client.streamEntities({ filter: { kind: 'group' } }, opts())) streamed.push(...page.map((e) => e.metadata.name));
    expect(streamed).toHaveLength(9);
  });

  it('getEntitiesByRefs keeps request order with null holes', async () => {
    const { items } = await client.getEntitiesByRefs({ entityRefs: ['group:default/team-b', 'component:default/nope', 'Component:default/Artist-Lookup'], fields: ['metadata.name'] }, opts());
    // The client turns the server's null holes into undefined.
    expect(items).toEqual([{ metadata: { name: 'team-b' } }, undefined, { metadata: { name: 'artist-lookup' } }]);
  });

  it('getEntityByRef is case-insensitive and undefined when missing; ancestry walks the locations', async () => {
    expect((await client.getEntityByRef('Component:Default/Artist-Lookup', opts()))?.metadata.name).toBe('artist-lookup');
    expect(await client.getEntityByRef('component:default/missing', opts())).toBeUndefined();
    const ancestry = await client.getEntityAncestors({ entityRef: 'component:default/artist-lookup' }, opts());
    expect(ancestry.rootEntityRef).toBe('component:default/artist-lookup');
    expect(ancestry.items.length).toBe(4);
  });

  it('getEntityFacets counts distinct entities per value, keeping the original case', async () => {
    const { facets } = await client.getEntityFacets({ facets: ['spec.type', 'metadata.tags'], filter: { kind: 'component' } }, opts());
    expect(facets['spec.type']).toEqual(expect.arrayContaining([{ value: 'service', count: 10 }, { value: 'website', count: 2 }]));
    expect(facets['metadata.tags']!.find((f) => f.value === 'java')).toBeDefined();
  });

  it('manages locations: get, by ref, by entity, dry run, conflict, validate and analyze', async () => {
    const { items: locations } = await client.getLocations({}, opts());
    expect(locations).toHaveLength(2);
    const first = locations[0]!;
    expect(first.entityRef).toMatch(/^location:default\/generated-[0-9a-f]{40}$/);
    expect(await client.getLocationById(first.id, opts())).toEqual(first);
    expect(await client.getLocationByRef(`${first.type}:${first.target}`, opts())).toEqual(first);
    const byEntity = await client.getLocationByEntity('component:default/artist-lookup', opts());
    expect(byEntity?.target).toMatch(/all\.yaml$/);
    expect(await client.getLocationById('00000000-0000-0000-0000-000000000000', opts())).toBeUndefined();
    const dry = await client.addLocation({ type: 'file', target: 'create-app/default-app/entities.yaml', dryRun: true }, opts());
    expect(dry.entities.map((e) => e.metadata.name).sort()).toEqual(['example-grpc-api', 'example-website', 'examples']);
    expect(await client.getEntityByRef('system:default/examples', opts())).toBeUndefined();
    await expect(client.addLocation({ type: 'file', target: 'backstage-catalog-model/all.yaml' }, opts())).rejects.toMatchObject({ name: 'ResponseError', response: { status: 409 } });
    const queried = await client.queryLocations({ limit: 1 }, opts());
    expect(queried.totalItems).toBe(2);
    expect(queried.items).toHaveLength(1);
    const valid = await client.validateEntity({ apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'ok' }, spec: { type: 'service', lifecycle: 'production', owner: 'team-a' } }, 'url:https://example.com/catalog-info.yaml', opts());
    expect(valid).toEqual({ valid: true });
    const invalid = await client.validateEntity({ apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'bad name!' }, spec: {} }, 'url:https://example.com/catalog-info.yaml', opts());
    expect(invalid.valid).toBe(false);
    const analyzed = await client.analyzeLocation({ location: { type: 'file', target: 'create-app/default-app/org.yaml' } }, opts());
    // user:default/guest is already registered by the acme example; group guests is not.
    expect(analyzed.existingEntityFiles.map((f) => [f.entity.metadata.name, f.isRegistered]).sort()).toEqual([['guest', true], ['guests', false]]);
  });

  it('registers, refreshes, deletes and removes a location of its own', async () => {
    // The test's file root is the read-only examples folder, so this location is served over HTTP.
    const server = createServer((req, res) => res.end(req.url === '/catalog-info.yaml' ? readBody() : ''));
    let body = 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: temp-svc }\nspec: { type: service, lifecycle: experimental, owner: team-a }\n';
    const readBody = () => body;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/catalog-info.yaml`;
    try {
      const added = await client.addLocation({ type: 'url', target: url }, opts());
      expect(added.location.target).toBe(url);
      const entity = await client.getEntityByRef('component:default/temp-svc', opts());
      expect(entity?.spec?.lifecycle).toBe('experimental');
      body = body.replace('experimental', 'production');
      await client.refreshEntity('component:default/temp-svc', opts());
      expect((await client.getEntityByRef('component:default/temp-svc', opts()))?.spec?.lifecycle).toBe('production');
      await client.removeEntityByUid(entity!.metadata.uid!, opts());
      expect(await client.getEntityByRef('component:default/temp-svc', opts())).toBeUndefined();
      await client.removeLocationById(added.location.id, opts());
      expect(await client.getLocationById(added.location.id, opts())).toBeUndefined();
    } finally {
      server.close();
    }
  });
});
