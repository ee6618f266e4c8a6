import { describe, expect, it } from 'vitest';
import { spliceServedJson } from './service.js';

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
