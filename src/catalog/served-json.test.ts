import { describe, expect, it } from 'vitest';
import { spliceServedJson } from './service.js';
import { servedRelations } from './store/served.js';

const relations = [{ type: 'ownedBy', targetRef: 'group:default/team-a', target: { kind: 'group', namespace: 'default', name: 'team-a' } }];
const entity = { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'a', uid: 'u1', tags: ['x'] }, spec: { type: 'service', owner: 'team-a' } };

describe('spliceServedJson', () => {
  it('writes exactly what JSON.stringify of the served entity writes', () => {
    expect(spliceServedJson(JSON.stringify(entity), '[]', relations)).toBe(JSON.stringify({ ...entity, relations }));
    const problems = [{ type: 'foo', level: 'error', message: 'bad "thing"', error: { name: 'InputError', message: 'x' } }];
    expect(spliceServedJson(JSON.stringify(entity), JSON.stringify(problems), [])).toBe(JSON.stringify({ ...entity, relations: [], status: { items: problems } }));
  });

  it('declines a body that carries relations or status of its own, so the caller replaces them', () => {
    expect(spliceServedJson(JSON.stringify({ ...entity, relations: [] }), '[]', relations)).toBeUndefined();
    expect(spliceServedJson(JSON.stringify({ ...entity, spec: { status: 'x' } }), '[]', relations)).toBeUndefined();
    expect(spliceServedJson('{}', '[]', relations)).toBeUndefined();
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
