/**
 * A Score workload's `resources`, satisfied by resource claims in the environment it deploys to: each
 * resource becomes the claim `<workload>-<resource>` (created when missing, reused when present), and
 * its outputs fill the `${resources.<name>.<output>}` placeholders — secret outputs as secret refs,
 * so no credential ever enters a workload spec.
 */
import type { Principal } from '../kernel/index.js';
import type { Claim, Resources } from '../resources/index.js';
import type { ScoreWorkload } from '../runtime/index.js';

export type ClaimResources = Pick<Resources, 'claimsFromScore' | 'claim' | 'listClaims' | 'getClaim' | 'deleteClaim'>;

export interface ResolvedResources {
  outputs: Record<string, Record<string, string>>;
  secrets: Record<string, Record<string, string>>;
}

const CLAIM_READY_TIMEOUT_MS = 120_000;
const POLL_MS = 250;

/**
 * Score output names from a claim's outputs: `passwordRef` is the secret `password` (it wins over a plain
 * output of the same name, such as a URL without the password); `name` is the database when absent.
 */
export function scoreOutputsOf(claim: Pick<Claim, 'outputs'>): { outputs: Record<string, string>; secrets: Record<string, string> } {
  const outputs: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(claim.outputs)) {
    if (key.endsWith('Ref') && key.length > 3) secrets[key.slice(0, -3)] = value;
    else outputs[key] = value;
  }
  for (const key of Object.keys(secrets)) delete outputs[key];
  if (outputs.name === undefined && outputs.database !== undefined) outputs.name = outputs.database;
  return { outputs, secrets };
}

/** Score's resource type read from the environment's variables rather than claimed. */
export const ENVIRONMENT_RESOURCE_TYPE = 'environment';

export async function resolveScoreResources(input: {
  /** Absent: a workload that declares anything to claim is refused. */
  resources: ClaimResources | undefined;
  principal: Principal;
  score: ScoreWorkload;
  environment: string;
  /** The environment's variables: the outputs of every resource of type `environment`. */
  environmentVariables: Readonly<Record<string, string>>;
  owner: string;
  /** What claims are billed to; needed only when the workload declares something to claim. */
  costCenter: string | undefined;
  signal?: AbortSignal;
  log?: (line: string) => void;
}): Promise<ResolvedResources> {
  const { resources, principal, environment } = input;
  const declared = Object.entries(input.score.resources ?? {});
  const claimed = { ...input.score, resources: Object.fromEntries(declared.filter(([, r]) => r.type !== ENVIRONMENT_RESOURCE_TYPE)) };
  const resolved: ResolvedResources = { outputs: {}, secrets: {} };
  for (const [resource, r] of declared) {
    if (r.type !== ENVIRONMENT_RESOURCE_TYPE) continue;
    resolved.outputs[resource] = { ...input.environmentVariables };
    input.log?.(`resource "${resource}" is the variables of environment ${environment} (${Object.keys(input.environmentVariables).length})`);
  }
  if (Object.keys(claimed.resources).length === 0) return resolved;
  if (!resources) throw new Error(`score.yaml declares resources to claim (${Object.keys(claimed.resources).join(', ')}), and this installation has no resources layer to claim them`);
  if (input.costCenter === undefined) throw new Error(`score.yaml declares resources to claim (${Object.keys(claimed.resources).join(', ')}): name the cost-center they are billed to`);
  const context = { environment, owner: input.owner, costCenter: input.costCenter };
  // Every resource is checked before any is claimed, so an unsupported one leaves nothing behind.
  const wanted = await resources.claimsFromScore(claimed, context);
  if (wanted.unsupported.length > 0) {
    throw new Error(`score.yaml: ${wanted.unsupported.map((u) => `resource "${u.resource}" (${u.type}): ${u.reason}`).join('; ')}`);
  }
  // Params may use other resources' outputs (a route's `host: ${resources.dns.host}`): those are claimed first.
  for (const resource of claimOrder(claimed.resources)) {
    const spec = claimed.resources[resource]!;
    const params = spec.params === undefined ? undefined : resolveParams(spec.params, `resources.${resource}.params`, resolved);
    const one = await resources.claimsFromScore({ metadata: input.score.metadata, resources: { [resource]: { ...spec, params } } }, context);
    const body = one.claims[0]!.claim;
    let [claim] = await resources.listClaims(principal, { environment, name: body.name, limit: 1 });
    if (claim && claim.module !== body.module) throw new Error(`resource "${resource}": claim ${body.name} in ${environment} is a ${claim.module}, not a ${body.module}`);
    if (!claim) {
      input.log?.(`claiming ${body.module} ${body.name} in ${environment} for resource "${resource}"`);
      claim = (await resources.claim(principal, body)).claim;
    }
    const deadline = Date.now() + CLAIM_READY_TIMEOUT_MS;
    while (claim.phase === 'provisioning' && Date.now() < deadline && !input.signal?.aborted) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      claim = await resources.getClaim(principal, claim.id);
    }
    if (claim.phase !== 'ready') throw new Error(`resource "${resource}": claim ${claim.name} is ${claim.phase}${claim.lastError ? `: ${claim.lastError}` : ''}`);
    input.log?.(`resource "${resource}" is claim ${claim.name} (${claim.module}@${claim.version}), ready`);
    const { outputs, secrets } = scoreOutputsOf(claim);
    resolved.outputs[resource] = outputs;
    resolved.secrets[resource] = secrets;
  }
  return resolved;
}

const PARAM_REF = /\$\{resources\.([^.}]+)\.([^}]+)\}/g;

/** The resources a resource's params refer to. */
function paramRefs(params: unknown): string[] {
  return [...JSON.stringify(params ?? null).matchAll(PARAM_REF)].map((m) => m[1]!);
}

/** Resource names in an order where each comes after those its params refer to; a cycle or an undeclared reference is an error. */
export function claimOrder(declared: Record<string, { params?: Record<string, unknown> }>): string[] {
  const order: string[] = [];
  const pending = new Set(Object.keys(declared));
  while (pending.size > 0) {
    const next = [...pending].find((name) => paramRefs(declared[name]!.params).every((ref) => ref !== name && !pending.has(ref)));
    if (next === undefined) {
      const stuck = [...pending].map((name) => `${name} → ${paramRefs(declared[name]!.params).filter((ref) => pending.has(ref) || !(ref in declared)).join(', ')}`);
      throw new Error(`score.yaml: resource params refer to each other or to resources to claim that are not declared (${stuck.join('; ')})`);
    }
    order.push(next);
    pending.delete(next);
  }
  return order;
}

/** Resolves `${resources.<name>.<output>}` in every string of a resource's params; secret outputs may not be params. */
function resolveParams(value: Record<string, unknown>, where: string, resolved: ResolvedResources): Record<string, unknown> {
  const walk = (node: unknown, at: string): unknown => {
    if (typeof node === 'string') {
      return node.replace(PARAM_REF, (_match, name: string, key: string) => {
        if (resolved.secrets[name]?.[key] !== undefined) throw new Error(`score.yaml: ${at}: \${resources.${name}.${key}} is a secret; a secret cannot be a resource param`);
        const output = resolved.outputs[name]?.[key];
        if (output === undefined) throw new Error(`score.yaml: ${at}: \${resources.${name}.${key}} has no value: resource "${name}" has no output "${key}"`);
        return output;
      });
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${at}[${i}]`));
    if (typeof node === 'object' && node !== null) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, `${at}.${k}`)]));
    return node;
  };
  return walk(value, where) as Record<string, unknown>;
}
