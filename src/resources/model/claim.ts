/** Resource claims: what a team asked for (spec), where provisioning is (status), and the plan. */
import { z } from 'zod';
import { DEFAULT_BASE_DOMAIN, gatewayHost, InputError } from '../../kernel/index.js';
import { presets, type Module, type PresetName, type ProviderName } from './module.js';

/**
 * Claim phases:
 * - provisioning: planned and admitted; the apply job is creating it step by step
 * - ready: every step done, outputs available
 * - failed: a step failed terminally (lastError says why); delete it or claim again
 * - deleting: the delete job is backing it up and removing it; the row goes when it is done
 */
export const claimPhases = ['provisioning', 'ready', 'failed', 'deleting'] as const;
export type ClaimPhase = (typeof claimPhases)[number];

/** Names that become parts of database, role, ACL and stream names: no "--", no "_", so "__" separates safely. */
const segment = (what: string, max: number) =>
  z
    .string()
    .max(max, `${what} is at most ${max} characters`)
    .regex(/^[a-z](-?[a-z0-9])*$/, `${what} is lower-case letters, digits and single "-", starting with a letter`);
export const claimName = segment('a claim name', 30);
export const environmentName = segment('an environment name', 20);

const tagValue = z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9:/._-]*$/, 'letters, digits and : / . _ -');

export const CreateClaimBody = z.strictObject({
  module: z.string().min(1).max(41),
  /** A version or range; the newest matching non-deprecated version when absent. */
  version: z.string().max(50).optional(),
  name: claimName,
  environment: environmentName,
  preset: z.enum(presets).optional(),
  inputs: z.record(z.string().max(100), z.unknown()).default({}),
  /**
   * `owner` (a group such as group:default/team-a) and `cost-center`; `service`, the workload the claim
   * serves (set for Score claims), for costs per service; `environment` comes from the field above.
   */
  tags: z.strictObject({ owner: tagValue.optional(), 'cost-center': tagValue.optional(), service: tagValue.optional() }).default({}),
});
export type CreateClaimBody = z.infer<typeof CreateClaimBody>;

/**
 * An upgrade of a ready claim: another version of its module (or range), preset or inputs. Given inputs
 * replace the claim's own; without them, the inputs the claim set itself are kept and the rest follow
 * the (new version's) preset.
 */
export const UpgradeClaimBody = z.strictObject({
  version: z.string().max(50).optional(),
  preset: z.enum(presets).optional(),
  inputs: z.record(z.string().max(100), z.unknown()).optional(),
  /** Only plan: what would change, the cost and the guardrails' decision; nothing is changed or recorded. */
  dryRun: z.boolean().default(false),
});
export type UpgradeClaimBody = z.infer<typeof UpgradeClaimBody>;

export const CostView = z.object({ monthly: z.number(), currency: z.string() });
export const DenialView = z.object({ policy: z.string(), rule: z.string(), message: z.string() });
export type Denial = z.infer<typeof DenialView>;

export const DriftView = z.object({ detectedAt: z.string(), problems: z.array(z.string()) });

export const ClaimView = z.object({
  id: z.string(),
  name: z.string(),
  environment: z.string(),
  module: z.string(),
  version: z.string(),
  provider: z.string(),
  preset: z.enum(presets),
  inputs: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()),
  owner: z.string(),
  cost: CostView,
  phase: z.enum(claimPhases),
  /** The last apply (or delete) step completed. */
  step: z.string().nullable(),
  /** Output values; credentials are secret refs (`…Ref`), never values. */
  outputs: z.record(z.string(), z.string()),
  lastError: z.string().nullable(),
  drift: DriftView.nullable(),
  jobId: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  readyAt: z.string().nullable(),
  provisionMs: z.number().nullable(),
});
export type ClaimView = z.infer<typeof ClaimView>;
export type Claim = ClaimView;

/** What applying a claim would do: the claim's identity and cost, what it creates, and the guardrails' decision. */
export const PlanView = ClaimView.pick({ name: true, environment: true, module: true, version: true, provider: true, preset: true, inputs: true, tags: true, cost: true }).extend({
  /** What apply will create, in order. */
  creates: z.array(z.string()),
  outputs: z.array(z.string()),
  warnings: z.array(z.string()),
  decision: z.object({ allowed: z.boolean(), denials: z.array(DenialView) }),
});
export type PlanView = z.infer<typeof PlanView>;

/** A page of claims starts after this one: `<environment>/<name>`, as a previous page's `next` gives it. */
const ClaimCursor = z
  .string()
  .max(60)
  .transform((value, ctx) => {
    const [environment, name, ...rest] = value.split('/');
    if (rest.length === 0 && environmentName.safeParse(environment).success && claimName.safeParse(name).success) return { environment: environment!, name: name! };
    ctx.addIssue({ code: 'custom', message: 'after is <environment>/<claim name>, as the previous page\'s next gives it' });
    return z.NEVER;
  });

/** The most claims one page of the list holds. */
export const MAX_CLAIMS_PAGE = 500;

/** Claims ordered by environment and name, a page at a time (`after` the last one's `<environment>/<name>`). */
export const ClaimListQuery = z.strictObject({
  environment: environmentName.optional(),
  name: claimName.optional(),
  owner: z.string().max(200).optional(),
  provider: z.string().max(50).optional(),
  after: ClaimCursor.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_CLAIMS_PAGE).default(100),
});
export type ClaimListQuery = z.infer<typeof ClaimListQuery>;

/** The cursor of the page after `items`, when the page was full (there may be more). */
export function nextClaimCursor(items: readonly Pick<Claim, 'environment' | 'name'>[], limit: number): string | undefined {
  const last = items.at(-1);
  return items.length >= limit && last ? `${last.environment}/${last.name}` : undefined;
}

/** An object on a provider's server named like a claim's that no claim holds (or a claim's secret whose claim is gone). */
export const OrphanView = z.object({ provider: z.string(), kind: z.string(), name: z.string() });
export type OrphanView = z.infer<typeof OrphanView>;
export const OrphanReport = z.object({
  items: z.array(OrphanView),
  /** Providers whose servers could not be listed now, with the reason: their orphans are unknown. */
  unreachable: z.array(z.object({ provider: z.string(), reason: z.string() })),
});
export type OrphanReport = z.infer<typeof OrphanReport>;

export const costGroupings = ['team', 'cost-center', 'environment', 'service'] as const;
export type CostGrouping = (typeof costGroupings)[number];
export const CostQuery = z.strictObject({ by: z.enum(costGroupings).default('team') });
export const CostLine = z.object({ key: z.string(), monthly: z.number(), currency: z.string(), claims: z.number() });
export type CostLine = z.infer<typeof CostLine>;

/** The names a claim's objects get on the servers, derived only from (environment, name), so a retried step finds its own work. */
export interface PhysicalNames {
  /** PostgreSQL database and role, Redis ACL user, RabbitMQ vhost and user. */
  identifier: string;
  redisKeyPrefix: string;
  natsStream: string;
  natsSubjects: string;
  secretName: string;
  /** The built-in gateway's host for a service named like the claim. */
  gatewayHost: string;
  /** A volume's directory under the data directory's `volumes/`. */
  volumeDir: string;
}

export function physicalNames(environment: string, name: string, baseDomain = DEFAULT_BASE_DOMAIN): PhysicalNames {
  const id = `pl_${environment.replaceAll('-', '_')}__${name.replaceAll('-', '_')}`;
  return {
    identifier: id,
    redisKeyPrefix: `${environment}:${name}:`,
    natsStream: id.toUpperCase(),
    natsSubjects: `${environment}.${name}.>`,
    secretName: `claim.${environment}.${name}`,
    gatewayHost: gatewayHost(name, environment, baseDomain),
    volumeDir: `volumes/${environment}/${name}`,
  };
}

/** `group:default/team-a`, `team-a` or `group:team-a` → `group:default/team-a`. */
export function normalizeOwner(owner: string): string {
  const match = /^(?:group:)?(?:([a-z0-9-]+)\/)?([a-z0-9][a-z0-9._-]*)$/i.exec(owner.trim());
  if (!match) throw new InputError(`tags.owner: "${owner}" is not a group; use group:default/<team>`);
  return `group:${(match[1] ?? 'default').toLowerCase()}/${match[2]!.toLowerCase()}`;
}

/** `group:default/team-a` → `team-a`, the name budgets are kept under. */
export function teamOf(ownerRef: string): string {
  return ownerRef.slice(ownerRef.lastIndexOf('/') + 1);
}

/** The object the guardrails judge at the provisioning point (policies/team-budget.yaml, claims-require-tags.yaml). */
export function claimObject(input: { name: string; environment: string; module: Module; preset: PresetName; tags: Record<string, string>; monthly: number }) {
  return {
    apiVersion: 'plinth.dev/v1alpha1',
    kind: 'ResourceClaim',
    metadata: { name: input.name, namespace: input.environment, labels: { ...input.tags } },
    spec: { module: input.module.name, version: input.module.version, provider: input.module.provider, preset: input.preset, cost: { monthly: input.monthly, currency: input.module.cost.currency } },
  };
}
export type ClaimObject = ReturnType<typeof claimObject>;

/** What apply creates for a provider, in the order of its steps (shown in the plan). */
export function describeCreates(provider: ProviderName, names: PhysicalNames, inputs: Record<string, unknown>): string[] {
  switch (provider) {
    case 'postgres':
      return [
        `secret ${names.secretName} with a generated password`,
        `PostgreSQL role ${names.identifier} (LOGIN, connection limit ${String(inputs.connectionLimit ?? 'default')})`,
        `PostgreSQL database ${names.identifier} owned by ${names.identifier}, PUBLIC access revoked`,
        ...(Array.isArray(inputs.extensions) && inputs.extensions.length > 0 ? [`extensions ${inputs.extensions.join(', ')}`] : []),
      ];
    case 'redis':
      return [`secret ${names.secretName} with a generated password`, `Redis ACL user ${names.identifier} limited to keys and channels ${names.redisKeyPrefix}*`];
    case 'rabbitmq':
      return [
        `secret ${names.secretName} with a generated password`,
        `RabbitMQ vhost ${names.identifier} (max-connections ${String(inputs.maxConnections ?? 'unlimited')}, max-queues ${String(inputs.maxQueues ?? 'unlimited')})`,
        `RabbitMQ user ${names.identifier} with permissions on vhost ${names.identifier} only`,
      ];
    case 'nats-stream':
      return [`JetStream stream ${names.natsStream} on subjects ${names.natsSubjects}`];
    case 'tls-certificate':
      return [`a certificate from Plinth's internal CA for ${Array.isArray(inputs.hosts) && inputs.hosts.length > 0 ? inputs.hosts.join(', ') : 'the claim’s host'}, valid ${String(inputs.validityDays ?? 90)} days, renewed ${String(inputs.renewBeforeDays ?? 30)} days before expiry`, `secret ${names.secretName} with tls.crt, tls.key and ca.crt`];
    case 'dns':
      return [`the gateway host name ${typeof inputs.service === 'string' ? `${inputs.service}${names.gatewayHost.slice(names.gatewayHost.indexOf('.'))}` : names.gatewayHost}`];
    case 'route':
      return [`the gateway route ${String(inputs.host)}${String(inputs.path ?? '/')} to ${typeof inputs.service === 'string' ? inputs.service : 'the service'}${inputs.port !== undefined ? ` port ${String(inputs.port)}` : ''}`];
    case 'volume':
      return [`a ${String(inputs.sizeGi ?? '?')} GiB volume directory ${names.volumeDir}`];
    case 'secret':
      return [`secret ${names.secretName} with generated keys ${Array.isArray(inputs.keys) ? inputs.keys.join(', ') : 'value'}`];
  }
}

/** Sum of monthly costs grouped by a key. */
export function sumCosts<C extends Pick<Claim, 'cost'>>(claims: readonly C[], keyOf: (claim: C) => string): CostLine[] {
  const lines = new Map<string, CostLine>();
  for (const claim of claims) {
    const key = `${keyOf(claim)}\u0000${claim.cost.currency}`;
    const line = lines.get(key) ?? { key: keyOf(claim), monthly: 0, currency: claim.cost.currency, claims: 0 };
    line.monthly = Math.round((line.monthly + claim.cost.monthly) * 100) / 100;
    line.claims += 1;
    lines.set(key, line);
  }
  return [...lines.values()].sort((a, b) => b.monthly - a.monthly || a.key.localeCompare(b.key));
}

/** The budgets a claim is decided against: its team's and its cost-center's (none when its tags are invalid; planning then says so). */
export function spendKeysOf(input: CreateClaimBody): string[] {
  let team: string;
  try {
    team = teamOf(normalizeOwner(input.tags.owner ?? ''));
  } catch {
    return [];
  }
  const costCenter = (input.tags['cost-center'] ?? '').toLowerCase();
  return [`team:${team}`, ...(costCenter === '' ? [] : [`cost-center:${costCenter}`])];
}

/**
 * What an upgrade of a ready claim asks for, as a claim body: its identity and tags, the new version and
 * preset, and the given inputs, else the ones the claim set itself (`own`), over the new preset's values.
 */
export function upgradeBody(claim: Claim, input: UpgradeClaimBody, own: Record<string, unknown>): CreateClaimBody {
  const tags = { owner: claim.owner, 'cost-center': claim.tags['cost-center'] ?? '', ...(claim.tags.service ? { service: claim.tags.service } : {}) };
  return { module: claim.module, version: input.version ?? claim.version, name: claim.name, environment: claim.environment, preset: input.preset ?? claim.preset, inputs: input.inputs ?? own, tags };
}
