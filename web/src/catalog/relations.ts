import type { Entity } from '../../../src/catalog/index.js';

/** Backstage's relation types in reading order, each with the label the portal shows and a colour for the graph. */
export const relationTypes = [
  { type: 'ownedBy', label: 'Owned by', color: '#3454d1' },
  { type: 'ownerOf', label: 'Owns', color: '#3454d1' },
  { type: 'partOf', label: 'Part of', color: '#0f766e' },
  { type: 'hasPart', label: 'Has part', color: '#0f766e' },
  { type: 'providesApi', label: 'Provides API', color: '#7c3aed' },
  { type: 'apiProvidedBy', label: 'API provided by', color: '#7c3aed' },
  { type: 'consumesApi', label: 'Consumes API', color: '#c2410c' },
  { type: 'apiConsumedBy', label: 'API consumed by', color: '#c2410c' },
  { type: 'dependsOn', label: 'Depends on', color: '#b45309' },
  { type: 'dependencyOf', label: 'Dependency of', color: '#b45309' },
  { type: 'memberOf', label: 'Member of', color: '#0369a1' },
  { type: 'hasMember', label: 'Has member', color: '#0369a1' },
  { type: 'childOf', label: 'Child of', color: '#4d7c0f' },
  { type: 'parentOf', label: 'Parent of', color: '#4d7c0f' },
] as const;

const fallbackColor = '#6b7280';

export function relationLabel(type: string): string {
  return relationTypes.find((r) => r.type === type)?.label ?? type;
}

export function relationColor(type: string): string {
  return relationTypes.find((r) => r.type === type)?.color ?? fallbackColor;
}

export interface RelationGroup {
  type: string;
  label: string;
  targetRefs: string[];
}

/** An entity's relations grouped by type: known types in reading order, then any others by name. */
export function groupRelations(entity: Entity): RelationGroup[] {
  const byType = new Map<string, string[]>();
  for (const relation of entity.relations ?? []) {
    const refs = byType.get(relation.type) ?? [];
    if (!refs.includes(relation.targetRef)) refs.push(relation.targetRef);
    byType.set(relation.type, refs);
  }
  const order = (type: string) => {
    const index = relationTypes.findIndex((r) => r.type === type);
    return index === -1 ? relationTypes.length : index;
  };
  return [...byType.entries()]
    .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
    .map(([type, targetRefs]) => ({ type, label: relationLabel(type), targetRefs: [...targetRefs].sort() }));
}

/** Every entity ref an entity's relations point at, for one by-refs lookup. */
export function relatedRefs(entity: Entity): string[] {
  return [...new Set((entity.relations ?? []).map((r) => r.targetRef))];
}
