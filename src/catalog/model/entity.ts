import type { EntityPolicy, KindValidator } from '@backstage/catalog-model';
import { z } from 'zod';
import { catalogModel, catalogModelAlpha } from './backstage.js';


/** A catalog entity as Backstage defines it (catalog-info.yaml). */
export interface Entity {
  apiVersion: string;
  kind: string;
  metadata: EntityMetadata;
  spec?: Record<string, unknown>;
  relations?: EntityRelation[];
  status?: { items?: EntityStatusItem[] };
}

export interface EntityMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  etag?: string;
  generation?: number;
  title?: string;
  description?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tags?: string[];
  links?: { url: string; title?: string; icon?: string; type?: string }[];
  [key: string]: unknown;
}

export interface EntityRelation {
  type: string;
  targetRef: string;
  /** Deprecated in Backstage, still served for old clients. */
  target: { kind: string; namespace: string; name: string };
}

export interface EntityStatusItem {
  type: string;
  level: 'info' | 'warning' | 'error';
  message: string;
  error?: { name: string; message: string };
}

export const ANNOTATION_LOCATION = 'backstage.io/managed-by-location';
export const ANNOTATION_ORIGIN_LOCATION = 'backstage.io/managed-by-origin-location';
export const ANNOTATION_SOURCE_LOCATION = 'backstage.io/source-location';
export const ANNOTATION_ORPHAN = 'backstage.io/orphan';
export const ANNOTATION_TECHDOCS_REF = 'backstage.io/techdocs-ref';

const envelope = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string() }),
});

const templateV1beta3 = z.looseObject({
  apiVersion: z.literal('scaffolder.backstage.io/v1beta3'),
  kind: z.literal('Template'),
  spec: z.looseObject({
    type: z.string().min(1),
    steps: z.array(z.looseObject({ action: z.string().min(1) })),
  }),
});

/** Template v1beta3: the scaffolder layer checks the full schema; the catalog checks the envelope of a task. */
const templateValidator: KindValidator = {
  async check(entity) {
    if (entity.kind !== 'Template') return false;
    const result = templateV1beta3.safeParse(entity);
    if (!result.success) {
      throw new Error(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    }
    return true;
  },
};

/** Backstage's kind validators and entity policies, built when the first entity is validated. */
function backstageRules() {
  return (rules ??= (() => {
    const m = catalogModel();
    const a = catalogModelAlpha();
    const kindValidators: KindValidator[] = [
      m.componentEntityV1alpha1Validator,
      m.domainEntityV1alpha1Validator,
      m.groupEntityV1alpha1Validator,
      m.locationEntityV1alpha1Validator,
      m.resourceEntityV1alpha1Validator,
      m.systemEntityV1alpha1Validator,
      m.userEntityV1alpha1Validator,
      a.aiResourceEntityV1alpha1Validator,
      templateValidator,
    ];
    const policies = [new m.DefaultNamespaceEntityPolicy(), new m.NoForeignRootFieldsEntityPolicy(), new m.FieldFormatEntityPolicy(), new m.SchemaValidEntityPolicy()];
    return { kindValidators, policies, apiValidator: m.apiEntityV1alpha1Validator, mcpServerApiValidator: a.mcpServerApiEntityValidator };
  })());
}
let rules: { kindValidators: KindValidator[]; policies: EntityPolicy[]; apiValidator: KindValidator; mcpServerApiValidator: KindValidator } | undefined;

/**
 * Applies Backstage's entity policies (default namespace, no foreign root fields, field formats, the
 * entity schema) and the kind's schema. Returns the normalized entity or throws with every problem.
 * With `owned`, `raw` is the caller's to give away and may be changed.
 */
export async function validateEntity(raw: unknown, options: { owned?: boolean } = {}): Promise<Entity> {
  const env = envelope.safeParse(raw);
  if (!env.success) {
    throw new Error(`not an entity: ${env.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  // Policies may change what they get: a caller's document is copied first, unless the caller owns it.
  const { kindValidators, policies, apiValidator, mcpServerApiValidator } = backstageRules();
  let entity = (options.owned ? raw : structuredClone(raw)) as Entity & Parameters<EntityPolicy['enforce']>[0];
  for (const policy of policies) {
    const next = await policy.enforce(entity);
    if (!next) throw new Error('rejected by entity policy');
    entity = next as typeof entity;
  }
  if (entity.kind === 'API') {
    const validator = (entity.spec as { type?: unknown } | undefined)?.type === 'mcp-server' ? mcpServerApiValidator : apiValidator;
    if (await validator.check(entity)) return entity;
  }
  for (const validator of kindValidators) {
    if (await validator.check(entity)) return entity;
  }
  throw new Error(`unknown kind ${entity.kind} (apiVersion ${entity.apiVersion}); Plinth knows Component, API, Resource, System, Domain, Group, User, Location, Template and AiResource`);
}
