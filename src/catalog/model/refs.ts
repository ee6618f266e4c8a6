import { catalogModel } from './backstage.js';
import { InputError } from '../../kernel/index.js';

export const DEFAULT_NAMESPACE = 'default';

export interface CompoundRef {
  kind: string;
  namespace: string;
  name: string;
}

/** Canonical entity ref `kind:namespace/name`, lowercased: every ref comparison is case-insensitive. */
export function refKey(ref: CompoundRef): string {
  return `${ref.kind}:${ref.namespace}/${ref.name}`.toLowerCase();
}

/**
 * Parses `[kind:][namespace/]name` with Backstage's rules: the kind comes from context when absent,
 * and the namespace is inherited from the referencing entity (NOTES.md a: "defaultNamespace: inherit").
 */
export function parseRef(ref: string, context: { defaultKind?: string; defaultNamespace: string }): CompoundRef {
  try {
    return catalogModel().parseEntityRef(ref, { defaultKind: context.defaultKind, defaultNamespace: context.defaultNamespace });
  } catch (err) {
    throw new InputError(`"${ref}" is not an entity ref: ${(err as Error).message}`);
  }
}

/** Parses a ref from a URL path (`/by-name/:kind/:namespace/:name`), which arrives in the caller's case. */
export function refFromParts(kind: string, namespace: string, name: string): string {
  return refKey({ kind, namespace, name });
}

export function splitRefKey(key: string): CompoundRef {
  const colon = key.indexOf(':');
  const slash = key.indexOf('/', colon + 1);
  return { kind: key.slice(0, colon), namespace: key.slice(colon + 1, slash), name: key.slice(slash + 1) };
}

/** Location refs in annotations: `<type>:<target>` where the target may contain colons. */
export function locationRef(type: string, target: string): string {
  return `${type}:${target}`;
}
