import { describe, expect, it } from 'vitest';
import { spliceServedJson } from './served-page.js';
import { servedRelations, servedRelationsJson, servedRelationsJsonOf } from './store/served.js';

const relations = [{ type: 'ownedBy', targetRef: 'group:default/team-a', target: { kind: 'group', namespace: 'default', name: 'team-a' } }];
const entity = { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'a', uid: 'u1', tags: ['x'] }, spec: { type: 'service', owner: 'team-a' } };

describe('spliceServedJson', () => {
  it('writes exactly what JSON.stringify of the served entity writes', () => {
    expect(spliceServedJson(JSON.stringify(entity), '[]', JSON.stringify(relations))).toBe(JSON.stringify({ ...entity, relations }));
    const problems = [{ type: 'foo', level: 'error', message: 'bad "thing"', error: { name: 'InputError', message: 'x' } }];
    expect(spliceServedJson(JSON.stringify(entity), JSON.stringify(problems), '[]')).toBe(JSON.stringify({ ...entity, relations: [], status: { items: problems } }));
  });

  it('declines a body that carries relations or status of its own, so the caller replaces them', () => {
    expect(spliceServedJson(JSON.stringify({ ...entity, relations: [] }), '[]', '[]')).toBeUndefined();
    expect(spliceServedJson(JSON.stringify({ ...entity, spec: { status: 'x' } }), '[]', '[]')).toBeUndefined();
    expect(spliceServedJson('{}', '[]', '[]')).toBeUndefined();
  });
});

describe('servedRelations', () => {
  it('orders relations by type, then target, and keeps each once', () => {
    const pairs: [string, string][] = [
      ['partOf', 'system:default/s'],
      ['dependsOn', 'component:default/b'],
      ['dependsOn', 'component:default/a'],
      ['partOf', 'system:default/s'],
      ['apiProvidedBy', 'component:default/z'],
    ];
    expect(servedRelations(pairs)).toEqual([
      { type: 'apiProvidedBy', targetRef: 'component:default/z', target: { kind: 'component', namespace: 'default', name: 'z' } },
      { type: 'dependsOn', targetRef: 'component:default/a', target: { kind: 'component', namespace: 'default', name: 'a' } },
      { type: 'dependsOn', targetRef: 'component:default/b', target: { kind: 'component', namespace: 'default', name: 'b' } },
      { type: 'partOf', targetRef: 'system:default/s', target: { kind: 'system', namespace: 'default', name: 's' } },
    ]);
    expect(servedRelations([])).toEqual([]);
  });
});

describe('servedRelationsJson', () => {
  it('writes exactly what JSON.stringify of servedRelations writes, escapes included', () => {
    const pairs: [string, string][] = [
      ['partOf', 'system:default/s'],
      ['dependsOn', 'component:default/b'],
      ['dependsOn', 'component:default/b'],
      ['custom"quoted', 'component:default/back\\slash'],
      ['ownedBy', 'group:team-ns/gr\u00fcn\u2028'],
      ['x\ny', 'resource:default/\ud800lone'],
    ];
    expect(servedRelationsJson(pairs)).toBe(JSON.stringify(servedRelations(pairs)));
    expect(JSON.parse(servedRelationsJson(pairs))).toEqual(servedRelations(pairs));
    expect(servedRelationsJson([])).toBe('[]');
  });
});

describe('servedRelationsJsonOf', () => {
  /** What Dialect.joinedPairs aggregates from these rows. */
  const joined = (pairs: [string, string][]) => `${pairs.length}\x02${pairs.map(([a, b]) => `${a}\x01${b}`).join('\x02')}`;
  const expected = (pairs: [string, string][]) => JSON.stringify(servedRelations(pairs));
  it('reads the pairs as the database joins them, ordered or not, duplicated or not, with or without characters to escape', () => {
    const cases: [string, string][][] = [
      [],
      [['ownedBy', 'group:default/x']],
      [['partOf', 'system:default/s'], ['dependsOn', 'component:default/b'], ['dependsOn', 'component:default/b'], ['apiProvidedBy', 'component:default/a']],
      [['apiProvidedBy', 'component:default/a'], ['dependsOn', 'component:default/b'], ['partOf', 'system:default/s']],
      [['custom"quoted', 'component:default/back\\slash'], ['ownedBy', 'group:default/tab\there'], ['ownedBy', 'group:default/caf\u00e9 ☕']],
    ];
    for (const pairs of cases) expect(servedRelationsJsonOf(joined(pairs))).toBe(expected(pairs));
  });

  it('gives up (undefined) when a value holds a separator, so the counts cannot tell the pairs apart', () => {
    for (const pairs of [
      [['ownedBy', 'group:default/a\x01b']],
      [['ownedBy', 'group:default/a\x02dependsOn\x01component:default/b']],
      [['ownedBy', 'group:default/a\x02']],
      [['ownedBy', '\x02']],
    ] as [string, string][][])
      expect(servedRelationsJsonOf(joined(pairs))).toBeUndefined();
  });

  it('refuses text that is not a count and pairs', () => {
    expect(() => servedRelationsJsonOf('[["ownedBy","group:default/x"]]')).toThrow(/not count/);
  });
});
