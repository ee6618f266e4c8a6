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

export async function resolveScoreResources(input: {
  resources: ClaimResources;
  principal: Principal;
  score: ScoreWorkload;
  environment: string;
  owner: string;
  costCenter: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}): Promise<ResolvedResources> {
  const { resources, principal, environment } = input;
  const wanted = await resources.claimsFromScore(input.score, { environment, owner: input.owner, costCenter: input.costCenter });
  if (wanted.unsupported.length > 0) {
    throw new Error(`score.yaml: ${wanted.unsupported.map((u) => `resource "${u.resource}" (${u.type}): ${u.reason}`).join('; ')}`);
  }
  const resolved: ResolvedResources = { outputs: {}, secrets: {} };
  for (const { resource, claim: body } of wanted.claims) {
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
