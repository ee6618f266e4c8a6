import type { Entity } from '../../../src/catalog/index.js';

/** An entity's identity: the three parts of `kind:namespace/name`. */
export interface EntityName {
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Parses `[kind:][namespace/]name` as Backstage does: the kind and namespace come from context when
 * absent. Relation targets are always complete (`component:default/checkout-service`).
 */
export function parseEntityRef(ref: string, context: { defaultKind?: string; defaultNamespace?: string } = {}): EntityName {
  const colon = ref.indexOf(':');
  const kind = colon > 0 ? ref.slice(0, colon) : (context.defaultKind ?? '');
  const rest = colon > 0 ? ref.slice(colon + 1) : ref;
  const slash = rest.indexOf('/');
  const namespace = slash > 0 ? rest.slice(0, slash) : (context.defaultNamespace ?? 'default');
  const name = slash > 0 ? rest.slice(slash + 1) : rest;
  return { kind, namespace, name };
}

/** The canonical, lowercased ref the catalog compares and stores relations with. */
export function stringifyEntityRef(entity: EntityName): string {
  return `${entity.kind}:${entity.namespace}/${entity.name}`.toLowerCase();
}

export function entityNameOf(entity: Entity): EntityName {
  return { kind: entity.kind, namespace: entity.metadata.namespace ?? 'default', name: entity.metadata.name };
}

export function entityRefOf(entity: Entity): string {
  return stringifyEntityRef(entityNameOf(entity));
}

/** `group:default/team-a` → `team-a` when the kind is the expected one; `group:team-a` otherwise; namespace only when not default. */
export function humanizeEntityRef(ref: string | EntityName, options: { defaultKind?: string } = {}): string {
  const { kind, namespace, name } = typeof ref === 'string' ? parseEntityRef(ref) : ref;
  const showKind = options.defaultKind === undefined || options.defaultKind.toLowerCase() !== kind.toLowerCase();
  const ns = namespace.toLowerCase() === 'default' ? '' : `${namespace}/`;
  return `${showKind ? `${kind.toLowerCase()}:` : ''}${ns}${name}`;
}

/** The portal page of an entity: `/catalog/default/component/checkout-service`. */
export function entityRoute(ref: string | EntityName): string {
  const { kind, namespace, name } = typeof ref === 'string' ? parseEntityRef(ref) : ref;
  return `/catalog/${encodeURIComponent(namespace)}/${encodeURIComponent(kind.toLowerCase())}/${encodeURIComponent(name)}`;
}

/** The entity's title, else a user's or group's display name, else its name. */
export function entityTitle(entity: Entity): string {
  const profile = entity.spec?.profile;
  const displayName = typeof profile === 'object' && profile !== null ? (profile as Record<string, unknown>).displayName : undefined;
  return entity.metadata.title?.trim() || (typeof displayName === 'string' && displayName.trim()) || entity.metadata.name;
}

/** `spec.type` and other string fields of a spec, without casts at every call site. */
export function specString(entity: Entity, key: string): string | undefined {
  const value = entity.spec?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Targets of one relation type, in the order the catalog returned them. */
export function relationTargets(entity: Entity, type: string): string[] {
  return (entity.relations ?? []).filter((r) => r.type === type).map((r) => r.targetRef);
}
