/** score.yaml resources → claims: each resource is satisfied by the module that declares its type. */
import { pickVersion, presets, type Module, type PresetName } from './module.js';
import type { CreateClaimBody } from './claim.js';

/** The part of a Score workload (score.dev/v1b1) claims are made from. */
export interface ScoreResources {
  metadata: { name: string };
  resources?: Record<string, { type: string; class?: string; id?: string; params?: Record<string, unknown> }>;
}

export interface ScoreClaims {
  /** One claim per supported resource, keyed by the Score resource name. */
  claims: { resource: string; claim: CreateClaimBody }[];
  /** Resources no module satisfies, each with the reason. */
  unsupported: { resource: string; type: string; reason: string }[];
}

/**
 * Claims for a workload's resources in an environment. The claim name is `<workload>-<resource>`, or the
 * resource's `id` when it has one: Score's shared resource, one claim for every workload that names it;
 * `class` picks the preset (small, medium, large); `params` become the module inputs.
 */
export function claimsFromScore(score: ScoreResources, modules: readonly Module[], context: { environment: string; owner: string; costCenter: string }): ScoreClaims {
  const result: ScoreClaims = { claims: [], unsupported: [] };
  for (const [resource, spec] of Object.entries(score.resources ?? {})) {
    const candidates = modules.filter((m) => m.name === spec.type || m.scoreTypes.includes(spec.type));
    const newest = pickVersion(candidates, undefined);
    if (!newest) {
      result.unsupported.push({ resource, type: spec.type, reason: `no module provides resource type "${spec.type}"` });
      continue;
    }
    if (spec.class !== undefined && !(presets as readonly string[]).includes(spec.class)) {
      result.unsupported.push({ resource, type: spec.type, reason: `class "${spec.class}" is not a preset of module ${newest.name}; use ${presets.join(', ')}` });
      continue;
    }
    const name = (spec.id ?? `${score.metadata.name}-${resource}`).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 30).replace(/-$/, '');
    result.claims.push({
      resource,
      claim: {
        module: newest.name,
        version: newest.version,
        name,
        environment: context.environment,
        preset: spec.class as PresetName | undefined,
        // A dns resource names the workload's own gateway host, and a route routes to the workload, unless params say otherwise.
        inputs: newest.provider === 'dns' || newest.provider === 'route' ? { service: score.metadata.name, ...spec.params } : (spec.params ?? {}),
        tags: { owner: context.owner, 'cost-center': context.costCenter, service: score.metadata.name.toLowerCase() },
      },
    });
  }
  return result;
}
