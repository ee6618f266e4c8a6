import { describe, expect, it } from 'vitest';
import type { Entity } from './entity.js';
import { buildSearchRows } from './search-rows.js';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'Orders', uid: 'u-1', etag: 'e-1', generation: 1, tags: ['Java', 'java'], annotations: { 'Backstage.io/x': 'Y' } },
  spec: { type: 'service', owner: 'team-a', lifecycle: 'production' },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/team-a', target: { kind: 'group', namespace: 'default', name: 'team-a' } }],
};

describe('buildSearchRows', () => {
  const rows = buildSearchRows(entity);
  const values = (key: string) => rows.filter((r) => r.key === key).map((r) => r.value);

  it('flattens to lowercased dot paths with the original value kept for facets', () => {
    expect(rows).toContainEqual({ key: 'metadata.name', value: 'orders', original: 'Orders' });
    expect(values('metadata.annotations.backstage.io/x')).toEqual(['y']);
    expect(values('spec.type')).toEqual(['service']);
    expect(values('metadata.uid')).toEqual(['u-1']);
  });

  it('adds string array items as <path>.<item> = true, once per case-folded pair', () => {
    expect(values('metadata.tags')).toEqual(['java']);
    expect(values('metadata.tags.java')).toEqual(['true']);
  });

  it('leaves out what Backstage leaves out: relations, status and the etag', () => {
    expect(rows.some((r) => r.key.startsWith('relations'))).toBe(false);
    expect(values('metadata.etag')).toEqual([]);
  });

  it('adds the default namespace when the entity names none', () => {
    expect(values('metadata.namespace')).toEqual(['default']);
  });
});
