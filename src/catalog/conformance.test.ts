import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { startGithubFake } from '../../test/helpers/github-fake.js';

const examples = new URL('../../../shared/conformance/backstage/examples/', import.meta.url).pathname;
const dialects = await testDialects();

interface WireEntity {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  relations: { type: string; targetRef: string }[];
  status?: unknown;
}

/**
 * The acme example organisation of ../shared/conformance/backstage (README: 69 entities in files, 68
 * reachable from all.yaml and acme-corp.yaml: company-ai-marketplace.yaml is referenced by no Location).
 * Expected numbers were counted from the YAML files with an independent script (Backstage's ref rules:
 * kind defaults per field, namespace inherited from the referencing entity, lowercase), not from our output.
 */
describe.each(dialects)('Backstage acme example catalog on %s (GitHub served by a local fake)', (dialect) => {
  let t: TestApp;
  let github: Awaited<ReturnType<typeof startGithubFake>>;
  let all: WireEntity[];
  const get = async (url: string) => (await t.app.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.adminToken}` } })).json() as unknown;

  beforeAll(async () => {
    github = await startGithubFake();
    t = await startTestApp({ dialect, config: { catalog: { fileRoot: examples, refreshIntervalS: 300 } }, app: { catalog: { fetchUrl: github.fetchUrl } } });
    for (const target of ['backstage-catalog-model/all.yaml', 'backstage-catalog-model/acme-corp.yaml']) {
      const res = await t.app.server.inject({ method: 'POST', url: '/api/catalog/locations', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { type: 'file', target } });
      expect(res.statusCode).toBe(201);
    }
    all = (await get('/api/catalog/entities')) as WireEntity[];
  });
  afterAll(async () => {
    await t?.close();
    await github?.close();
  });

  it('ingests every reachable entity with zero errors', async () => {
    const locations = (await get('/api/catalog/locations')) as { data: { id: string } }[];
    for (const { data } of locations) expect((await t.app.catalog.getLocation({ kind: 'system', name: 'test' }, data.id)).problems).toEqual([]);
    const byKind: Record<string, number> = {};
    for (const e of all) byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
    // 9 Location entities in files + the 2 generated for the registered locations.
    expect(byKind).toEqual({ User: 17, Component: 13, API: 10, Location: 11, Group: 9, AiResource: 3, Domain: 3, System: 3, Resource: 1 });
    expect(all.filter((e) => e.status !== undefined)).toEqual([]);
    expect(github.requested.length).toBe(3);
  });

  it('derives every relation Backstage derives, in both directions', () => {
    const counts: Record<string, number> = {};
    for (const e of all) for (const r of e.relations) counts[r.type] = (counts[r.type] ?? 0) + 1;
    // 164 distinct relation rows; 3 have a dangling source and show on no entity: group:default/guest ownerOf playback-order, and the partOf rows of the two missing AiResource skills.
    expect(counts).toEqual({ ownedBy: 33, ownerOf: 32, partOf: 16, hasPart: 18, memberOf: 17, hasMember: 17, childOf: 8, parentOf: 8, providesApi: 5, apiProvidedBy: 5, consumesApi: 1, apiConsumedBy: 1 });
  });

  it('resolves refs with Backstage defaults: inherited namespaces, user: owners and dangling owners', async () => {
    const teamA = (await get('/api/catalog/entities/by-name/group/default/team-a')) as WireEntity;
    const members = teamA.relations.filter((r) => r.type === 'hasMember').map((r) => r.targetRef).sort();
    expect(members).toEqual(['user:default/breanna.davison', 'user:default/guest', 'user:default/janelle.dawe', 'user:default/nigel.manning', 'user:development/guest']);
    const playback = (await get('/api/catalog/entities/by-name/component/default/playback-order')) as WireEntity;
    expect(playback.relations).toContainEqual(expect.objectContaining({ type: 'ownedBy', targetRef: 'group:default/guest' }));
    const lookup = (await get('/api/catalog/entities/by-name/Component/Default/Artist-Lookup')) as WireEntity;
    expect(lookup.relations.map((r) => `${r.type} ${r.targetRef}`).sort()).toEqual(['ownedBy group:default/team-a', 'partOf system:default/artist-engagement-portal']);
  });

  it('resolves $text placeholders, relative and remote, before validating', async () => {
    const webhook = (await get('/api/catalog/entities/by-name/api/default/petstore-webhook')) as { spec: { definition: string } };
    expect(webhook.spec.definition).toMatch(/webhooks:/);
    const spotify = (await get('/api/catalog/entities/by-name/api/default/spotify')) as { spec: { definition: string } };
    expect(spotify.spec.definition).toMatch(/GitHub fake/);
  });

  it('annotates where each entity came from and answers its ancestry', async () => {
    const lookup = all.find((e) => e.metadata.name === 'artist-lookup')!;
    expect(lookup.metadata.annotations!['backstage.io/managed-by-location']).toMatch(/^file:.*components\/artist-lookup-component\.yaml$/);
    expect(lookup.metadata.annotations!['backstage.io/managed-by-origin-location']).toMatch(/^file:.*all\.yaml$/);
    const ancestry = (await get('/api/catalog/entities/by-name/component/default/artist-lookup/ancestry')) as { rootEntityRef: string; items: { entity: WireEntity; parentEntityRefs: string[] }[] };
    expect(ancestry.rootEntityRef).toBe('component:default/artist-lookup');
    expect(ancestry.items.map((i) => i.entity.metadata.name)).toEqual(['artist-lookup', 'example-components', 'example-all', expect.stringMatching(/^generated-/)]);
    expect(ancestry.items.at(-1)!.parentEntityRefs).toEqual([]);
  });
});
