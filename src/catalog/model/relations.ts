import type { Entity } from './entity.js';
import { parseRef, refKey } from './refs.js';

/** A relation row: `source` –type→ `target`, both canonical refs, emitted while processing `origin`. */
export interface RelationRow {
  source: string;
  type: string;
  target: string;
}

interface RelationField {
  path: string;
  kinds: readonly string[];
  /** Target kind when the ref has none; undefined means the ref must name its kind. */
  defaultKind: string | undefined;
  forward: string;
  reverse: string;
}

/** Spec fields that become relations (NOTES.md a, "Relations"), both directions stored. */
const fields: readonly RelationField[] = [
  { path: 'owner', kinds: ['Component', 'API', 'Resource', 'System', 'Domain', 'Template', 'AiResource'], defaultKind: 'Group', forward: 'ownedBy', reverse: 'ownerOf' },
  { path: 'system', kinds: ['Component', 'API', 'Resource', 'AiResource'], defaultKind: 'System', forward: 'partOf', reverse: 'hasPart' },
  { path: 'subcomponentOf', kinds: ['Component'], defaultKind: 'Component', forward: 'partOf', reverse: 'hasPart' },
  { path: 'domain', kinds: ['System'], defaultKind: 'Domain', forward: 'partOf', reverse: 'hasPart' },
  { path: 'subdomainOf', kinds: ['Domain'], defaultKind: 'Domain', forward: 'partOf', reverse: 'hasPart' },
  { path: 'providesApis', kinds: ['Component'], defaultKind: 'API', forward: 'providesApi', reverse: 'apiProvidedBy' },
  { path: 'consumesApis', kinds: ['Component'], defaultKind: 'API', forward: 'consumesApi', reverse: 'apiConsumedBy' },
  { path: 'dependsOn', kinds: ['Component', 'Resource'], defaultKind: undefined, forward: 'dependsOn', reverse: 'dependencyOf' },
  { path: 'dependsOn', kinds: ['AiResource'], defaultKind: 'AiResource', forward: 'dependsOn', reverse: 'dependencyOf' },
  { path: 'dependencyOf', kinds: ['Component', 'Resource'], defaultKind: undefined, forward: 'dependencyOf', reverse: 'dependsOn' },
  { path: 'parent', kinds: ['Group'], defaultKind: 'Group', forward: 'childOf', reverse: 'parentOf' },
  { path: 'children', kinds: ['Group'], defaultKind: 'Group', forward: 'parentOf', reverse: 'childOf' },
  { path: 'members', kinds: ['Group'], defaultKind: 'User', forward: 'hasMember', reverse: 'memberOf' },
  { path: 'memberOf', kinds: ['User'], defaultKind: 'Group', forward: 'memberOf', reverse: 'hasMember' },
  { path: 'skills', kinds: ['AiResource'], defaultKind: 'AiResource', forward: 'hasPart', reverse: 'partOf' },
  { path: 'plugins', kinds: ['AiResource'], defaultKind: 'AiResource', forward: 'hasPart', reverse: 'partOf' },
];

/** Sorted, as Backstage's processor sorts these arrays so stored output is stable. */
const sortedArrays = ['providesApis', 'consumesApis', 'dependsOn', 'dependencyOf', 'memberOf', 'children', 'members'];

export function sortSpecArrays(entity: Entity): Entity {
  const spec = entity.spec;
  if (!spec) return entity;
  for (const key of sortedArrays) {
    const value = spec[key];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) spec[key] = [...(value as string[])].sort();
  }
  return entity;
}

/** Relations an entity emits (forward on itself, reverse on each target); bad refs are returned as problems. */
export function deriveRelations(entity: Entity): { relations: RelationRow[]; problems: string[] } {
  const self = refKey({ kind: entity.kind, namespace: entity.metadata.namespace ?? 'default', name: entity.metadata.name });
  const namespace = entity.metadata.namespace ?? 'default';
  const relations: RelationRow[] = [];
  const problems: string[] = [];
  for (const field of fields) {
    if (!field.kinds.includes(entity.kind)) continue;
    const value = entity.spec?.[field.path];
    if (value === undefined || value === null) continue;
    const refs = Array.isArray(value) ? value : [value];
    for (const ref of refs) {
      if (typeof ref !== 'string' || ref.trim() === '') {
        problems.push(`spec.${field.path}: expected entity ref strings, found ${JSON.stringify(ref)}`);
        continue;
      }
      try {
        const target = refKey(parseRef(ref, { defaultKind: field.defaultKind, defaultNamespace: namespace }));
        relations.push({ source: self, type: field.forward, target }, { source: target, type: field.reverse, target: self });
      } catch (err) {
        problems.push(`spec.${field.path}: ${(err as Error).message}${field.defaultKind ? '' : '; this field needs an explicit kind, e.g. resource:my-db'}`);
      }
    }
  }
  return { relations: dedupe(relations), problems };
}

function dedupe(rows: RelationRow[]): RelationRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = `${r.source}\u0000${r.type}\u0000${r.target}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
