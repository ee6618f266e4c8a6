import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import {
  buildFilters,
  collectFilter,
  entitySummary,
  entityTable,
  formatEntityRef,
  groupRelations,
  inFileOrder,
  listFooter,
  locationFor,
  locationTable,
  parseCatalogYaml,
  parseEntityRef,
  parseLimit,
  refOf,
  shortRef,
  validationLine,
} from './model.js';
import { UsageError } from '../errors.js';
import { run } from '../main.js';
import { memoryIo } from '../memory-io.js';
import type { Entity } from '../../catalog/index.js';

const relation = (type: string, targetRef: string) => {
  const [kind = '', rest = ''] = targetRef.split(':');
  const [namespace = '', name = ''] = rest.split('/');
  return { type, targetRef, target: { kind, namespace, name } };
};

const petstore: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    namespace: 'default',
    name: 'petstore',
    title: 'Pet Store',
    description: 'Sells pets.\nAnd food.',
    tags: ['java', 'web'],
    links: [{ url: 'https://example.com/docs', title: 'Docs' }, { url: 'https://example.com/runbook' }],
    uid: 'u1',
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-a', system: 'shop', providesApis: ['petstore-api', 'admin-api'] },
  relations: [
    relation('providesApi', 'api:default/petstore-api'),
    relation('ownedBy', 'group:default/team-a'),
    relation('providesApi', 'api:default/admin-api'),
    relation('partOf', 'system:default/shop'),
  ],
};

describe('parseEntityRef', () => {
  it.each([
    ['petstore', { kind: 'component', namespace: 'default', name: 'petstore' }],
    ['api:petstore-api', { kind: 'api', namespace: 'default', name: 'petstore-api' }],
    ['ops/petstore', { kind: 'component', namespace: 'ops', name: 'petstore' }],
    ['Group:ops/team-a', { kind: 'Group', namespace: 'ops', name: 'team-a' }],
    // The first ':' separates the kind only when it comes before the first '/'.
    ['ops/weird:name', { kind: 'component', namespace: 'ops', name: 'weird:name' }],
    ['api:ops/v1:beta', { kind: 'api', namespace: 'ops', name: 'v1:beta' }],
  ])('%s', (ref, expected) => {
    expect(parseEntityRef(ref)).toEqual(expected);
  });

  it('takes other defaults, e.g. group for owners', () => {
    expect(parseEntityRef('team-a', { kind: 'group', namespace: 'default' })).toEqual({ kind: 'group', namespace: 'default', name: 'team-a' });
    expect(parseEntityRef('user:jdoe', { kind: 'group', namespace: 'default' })).toEqual({ kind: 'user', namespace: 'default', name: 'jdoe' });
  });

  it.each(['', 'component:', ':petstore', 'default/', '/petstore', 'component:/petstore', 'a/b/c'])('refuses "%s" as a usage error', (ref) => {
    expect(() => parseEntityRef(ref)).toThrow(UsageError);
    expect(() => parseEntityRef(ref)).toThrow(/is not an entity ref: use \[kind:\]\[namespace\/\]name/);
  });

  it('formats refs with the kind lowercased and shortens them back', () => {
    expect(formatEntityRef({ kind: 'Component', namespace: 'default', name: 'Petstore' })).toBe('component:default/Petstore');
    expect(refOf({ kind: 'API', metadata: { name: 'x' } })).toBe('api:default/x');
    expect(shortRef('group:default/team-a', 'group')).toBe('team-a');
    expect(shortRef('group:ops/team-a', 'group')).toBe('ops/team-a');
    expect(shortRef('user:default/jdoe', 'group')).toBe('user:jdoe');
  });
});

describe('buildFilters', () => {
  it('is empty with no options', () => {
    expect(buildFilters({})).toEqual([]);
    expect(buildFilters({ filter: [] })).toEqual([]);
  });

  it('maps --kind, --type and --owner to one filter; an owner without a kind is a group', () => {
    expect(buildFilters({ kind: 'component', type: 'service', owner: 'team-a' })).toEqual(['kind=component,spec.type=service,relations.ownedby=group:default/team-a']);
    expect(buildFilters({ owner: 'user:jdoe,ops/sre' })).toEqual(['relations.ownedby=user:default/jdoe,relations.ownedby=group:ops/sre']);
    expect(buildFilters({ kind: 'component, api,' })).toEqual(['kind=component,kind=api']);
  });

  it('adds the options to every --filter, which stay separate (any of them matches)', () => {
    expect(buildFilters({ filter: ['metadata.tags=java'] })).toEqual(['metadata.tags=java']);
    expect(buildFilters({ kind: 'component', filter: ['spec.lifecycle=production', 'metadata.tags=java,spec.type'] })).toEqual([
      'kind=component,spec.lifecycle=production',
      'kind=component,metadata.tags=java,spec.type',
    ]);
  });

  it('refuses a bad owner ref', () => {
    expect(() => buildFilters({ owner: 'group:' })).toThrow(UsageError);
  });

  it('collects repeated --filter options and refuses an empty key', () => {
    expect(collectFilter('b=2', collectFilter(' a=1 , c '))).toEqual(['a=1,c', 'b=2']);
    expect(collectFilter('metadata.annotations.backstage.io/x=a=b')).toEqual(['metadata.annotations.backstage.io/x=a=b']);
    expect(() => collectFilter('a=1,=2')).toThrow(/empty key/);
    expect(() => collectFilter('')).toThrow(/empty key/);
  });

  it('parses --limit', () => {
    expect(parseLimit('25')).toBe(25);
    for (const bad of ['0', '-1', '1.5', 'ten', '10001']) expect(() => parseLimit(bad)).toThrow(/not a number from 1 to 10000/);
  });
});

describe('list output', () => {
  const api: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'API',
    metadata: { name: 'petstore-api', namespace: 'default' },
    spec: { type: 'openapi', owner: 'user:jdoe' },
    relations: [relation('ownedBy', 'user:default/jdoe')],
  };
  const group: Entity = { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'team-a', namespace: 'ops' }, spec: { type: 'team', children: [] } };

  it('shows ref, title, type, owner (as --owner takes it) and lifecycle, with - for what is missing', () => {
    expect(entityTable([petstore, api, group]).split('\n')).toEqual([
      'REF                         TITLE      TYPE     OWNER      LIFECYCLE',
      'component:default/petstore  Pet Store  service  team-a     production',
      'api:default/petstore-api    -          openapi  user:jdoe  -',
      'group:ops/team-a            -          team     -          -',
    ]);
  });

  it('falls back to spec.owner before the server has resolved the relation', () => {
    expect(entityTable([{ ...api, relations: [] }]).split('\n')[1]).toMatch(/\suser:jdoe\s/);
  });

  it('says how many of how many, and how to see the rest', () => {
    expect(listFooter(3, 3)).toBe('showing 3 of 3');
    expect(listFooter(100, 135)).toBe('showing 100 of 135 (--all for every one, --limit N for a bigger page)');
  });

  it('lists locations', () => {
    expect(locationTable([{ id: 'l1', type: 'file', target: '/srv/catalog-info.yaml', entityRef: 'location:default/generated-1' }])).toBe(
      'ID  TYPE  TARGET\nl1  file  /srv/catalog-info.yaml',
    );
  });
});

describe('entitySummary', () => {
  it('shows the main fields, links, relations grouped by type and nothing for status when there are no problems', () => {
    expect(entitySummary(petstore)).toBe(
      [
        'ref          component:default/petstore',
        'kind         Component',
        'name         petstore',
        'title        Pet Store',
        'description  Sells pets. And food.',
        'type         service',
        'owner        group:default/team-a',
        'lifecycle    production',
        'system       shop',
        'tags         java, web',
        'links        Docs https://example.com/docs',
        '             https://example.com/runbook',
        '',
        'relations',
        '  ownedBy      group:default/team-a',
        '  partOf       system:default/shop',
        '  providesApi  api:default/admin-api, api:default/petstore-api',
      ].join('\n'),
    );
  });

  it('leaves out fields the kind does not have and lists status problems', () => {
    const group: Entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'team-a' },
      spec: { type: 'team' },
      status: { items: [{ type: 'backstage.io/catalog-processing', level: 'error', message: 'relation target\nnot found' }] },
    };
    expect(entitySummary(group)).toBe(
      ['ref    group:default/team-a', 'kind   Group', 'name   team-a', 'title  -', 'type   team', 'owner  -', 'tags   -', '', 'status', '  error  relation target not found'].join('\n'),
    );
  });

  it('groups relation targets by type without repeats', () => {
    expect(groupRelations({ ...petstore, relations: [relation('b', 'x:default/2'), relation('a', 'x:default/1'), relation('b', 'x:default/1'), relation('b', 'x:default/2')] })).toEqual([
      ['a', ['x:default/1']],
      ['b', ['x:default/1', 'x:default/2']],
    ]);
  });

  it('orders keys as in a catalog-info.yaml for --yaml', () => {
    const ordered = inFileOrder(petstore);
    expect(Object.keys(ordered)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'relations']);
    expect(Object.keys(ordered.metadata as object).slice(0, 4)).toEqual(['name', 'namespace', 'title', 'description']);
  });
});

describe('locationFor', () => {
  it('registers http(s) URLs as url locations and resolves paths against the working directory', () => {
    expect(locationFor('https://github.com/o/r/blob/main/catalog-info.yaml', '/work')).toEqual({ type: 'url', target: 'https://github.com/o/r/blob/main/catalog-info.yaml' });
    expect(locationFor('HTTP://x/y.yaml', '/work')).toEqual({ type: 'url', target: 'HTTP://x/y.yaml' });
    expect(locationFor('services/a/catalog-info.yaml', '/work')).toEqual({ type: 'file', target: '/work/services/a/catalog-info.yaml' });
    expect(locationFor('../b.yaml', '/work/x')).toEqual({ type: 'file', target: '/work/b.yaml' });
    expect(locationFor('/srv/catalog.yaml', '/work')).toEqual({ type: 'file', target: '/srv/catalog.yaml' });
  });

  it('refuses other URL schemes and an empty target', () => {
    expect(() => locationFor('ftp://x/y.yaml', '/work')).toThrow(/register an http:\/\/ or https:\/\/ URL, or a path/);
    expect(() => locationFor(' ', '/work')).toThrow(UsageError);
  });
});

describe('parseCatalogYaml', () => {
  const text = [
    '# the service', // 1
    'apiVersion: backstage.io/v1alpha1', // 2
    'kind: Component', // 3
    'metadata:', // 4
    '  name: one', // 5
    '---', // 6
    '', // 7
    'kind: Component', // 8
    'metadata:', // 9
    '  name: two', // 10
    '  tags: [a,', // 11
    '---', // 12
    '---', // 13
    'kind: Group', // 14
    'metadata: {name: three}', // 15
    'metadata: {name: again}', // 16
    '', // 17
  ].join('\n');

  it('numbers documents as the server does, skips empty ones and finds where each starts', () => {
    const docs = parseCatalogYaml(text);
    expect(docs.map((d) => [d.document, d.line, d.name])).toEqual([
      [1, 2, 'one'],
      [2, 8, 'two'],
      [4, 14, 'again'],
    ]);
    expect(docs[0]?.yamlErrors).toEqual([]);
    expect(docs[0]?.value).toEqual({ apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'one' } });
  });

  it('reports YAML errors with their line and column, without yaml’s excerpt', () => {
    const [, two, four] = parseCatalogYaml(text);
    expect(two?.yamlErrors[0]).toEqual({ message: 'Flow sequence in block collection must be sufficiently indented and end with a ]', line: 12, column: 1 });
    expect(four?.yamlErrors[0]).toMatchObject({ message: 'Map keys must be unique', line: 16, column: 1 });
  });

  it('returns nothing for an empty file', () => {
    expect(parseCatalogYaml('')).toEqual([]);
    expect(parseCatalogYaml('# nothing\n---\n')).toEqual([]);
  });

  it('prints one line per document', () => {
    expect(validationLine({ document: 1, line: 1, ref: 'component:default/one', valid: true, errors: [] }, 'c.yaml')).toBe('✓ component:default/one');
    expect(validationLine({ document: 2, line: 8, name: 'two', valid: false, errors: [{ message: 'Flow sequence…', line: 12, column: 1 }] }, 'c.yaml')).toBe(
      '✗ document 2 (two): c.yaml:12:1: invalid YAML: Flow sequence…',
    );
    expect(validationLine({ document: 3, line: 9, valid: false, errors: [{ message: 'a' }, { message: 'b' }] }, 'c.yaml')).toBe('✗ document 3: a; b');
  });
});

describe('plinth catalog without a server', () => {
  it('is listed in the help', async () => {
    const io = memoryIo({});
    expect(await run(['catalog', '--help'], io)).toBe(0);
    for (const command of ['list', 'get', 'register', 'unregister', 'locations', 'refresh', 'validate']) expect(io.stdoutText()).toContain(command);
    const validate = memoryIo({});
    expect(await run(['catalog', 'validate', '--help'], validate)).toBe(0);
    expect(validate.stdoutText()).toMatch(/Placeholders \(\$text, \$json, \$yaml\) are not resolved/);
  });

  it('exits 2 for a bad ref, a bad --filter, --json with --yaml and a URL it cannot register', async () => {
    const env = { PLINTH_CONFIG_DIR: await mkdtemp(join(tmpdir(), 'plinth-cli-')), PLINTH_TOKEN: 't' };
    const ref = memoryIo(env);
    expect(await run(['catalog', 'get', 'component:'], ref)).toBe(2);
    expect(ref.stderrText()).toBe('error: "component:" is not an entity ref: use [kind:][namespace/]name, e.g. component:default/petstore\n');
    const filter = memoryIo(env);
    expect(await run(['catalog', 'list', '--filter', '=x'], filter)).toBe(2);
    expect(filter.stderrText()).toContain('has an empty key');
    const both = memoryIo(env);
    expect(await run(['catalog', 'get', 'x', '--json', '--yaml'], both)).toBe(2);
    const ftp = memoryIo(env);
    expect(await run(['catalog', 'register', 'ftp://x/y.yaml'], ftp)).toBe(2);
  });

  it('says a file to validate is missing or empty before contacting the server', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plinth-cli-'));
    const env = { PLINTH_CONFIG_DIR: dir, PLINTH_URL: 'http://127.0.0.1:9' };
    const missing = memoryIo(env);
    expect(await run(['catalog', 'validate', join(dir, 'nope.yaml')], missing)).toBe(1);
    expect(missing.stderrText()).toBe(`error: cannot read ${join(dir, 'nope.yaml')}: no such file\n`);
    await writeFile(join(dir, 'empty.yaml'), '# nothing here\n');
    const empty = memoryIo(env);
    expect(await run(['catalog', 'validate', join(dir, 'empty.yaml')], empty)).toBe(1);
    expect(empty.stderrText()).toBe(`error: ${join(dir, 'empty.yaml')} has no YAML documents\n`);
  });
});
