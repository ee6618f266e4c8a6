/**
 * The resources layer's service: the module registry, claims (plan → admission → apply job → ready),
 * deletion with a final backup, drift checks, costs, and the secret store.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authorize, ConflictError, DEFAULT_BASE_DOMAIN, InputError, type Kernel, newId, NotAllowedError, NotFoundError, parseBaseDomain, type Permission, type Principal, principalRef, ServiceUnavailableError, toIso } from '../kernel/index.js';
import { APPLY_JOB, createController, DELETE_JOB, DRIFT_JOB, type Controller } from './controller.js';
import { claimObject, describeCreates, normalizeOwner, physicalNames, spendKeysOf, sumCosts, upgradeBody, type Claim, type ClaimListQuery, type ClaimObject, type CostLine, type CostGrouping, type CreateClaimBody, type Denial, type OrphanReport, type PlanView, type UpgradeClaimBody } from './model/claim.js';
import { monthlyCost, moduleView, ownInputs, parseModule, pickVersion, resolveInputs, type Module, type ModuleView, type ProviderName } from './model/module.js';
import { claimsFromScore, type ScoreClaims, type ScoreResources } from './model/score.js';
import { createClaimOperations, type ClaimOperations } from './operation-service.js';
import { createOperations, SCHEDULE_JOB, type Operations } from './operations.js';
import { createNatsProvider } from './providers/nats.js';
import { createPostgresProvider } from './providers/postgres.js';
import type { Provider } from './providers/provider.js';
import { createRabbitmqProvider } from './providers/rabbitmq.js';
import { createRedisProvider } from './providers/redis.js';
import { createDnsProvider, dnsHost } from './providers/dns.js';
import { createRouteProvider } from './providers/route.js';
import { createVolumeProvider } from './providers/volume.js';
import { createSecretProvider } from './providers/secret.js';
import { createTlsProvider, hostsOf as certificateHostsOf } from './providers/tls.js';
import { createSecrets, type SecretSource, type Secrets } from './secrets/service.js';
import { createKeyedLock } from './keyed-lock.js';
import { findOrphans } from './orphans.js';
import * as q from './store/index.js';

const MODULES_CHANGED_CHANNEL = 'plinth_resources_modules_changed';

export const resourcePermissions = {
  read: { name: 'read resource claims and modules', verb: 'read' },
  claim: { name: 'claim resources', verb: 'write' },
  manageModules: { name: 'publish resource modules', verb: 'admin' },
} satisfies Record<string, Permission>;

/** The guardrails' decision at the provisioning point (the policy layer provides it; app.ts wires it). */
export type ProvisioningAdmission = (principal: Principal, request: { object: ClaimObject; owner: string; subjects: string[]; dryRun: boolean }) => Promise<{ allowed: boolean; denials: Denial[] }>;

export interface ResourcesOptions {
  admit?: ProvisioningAdmission;
  /** Built-in modules (modules/*.yaml); an absent folder means none. */
  modulesDir?: string;
  /** The domain gateway host names end in (`<service>.<environment>.<baseDomain>`); `localhost` when absent. */
  baseDomain?: string;
}

export interface Resources extends ClaimOperations {
  start(): Promise<void>;
  stop(): Promise<void>;
  secrets: Secrets;
  /** What the runtime reads `secrets:` refs through. */
  secretSource: SecretSource;
  /** Monthly cost a team or cost-center has committed (for the policy layer's budgets). */
  spend(scope: 'team' | 'cost-center', name: string): Promise<number>;
  listModules(principal: Principal): Promise<ModuleView[]>;
  getModule(principal: Principal, name: string, version?: string): Promise<ModuleView>;
  publishModule(principal: Principal, yaml: string): Promise<{ module: ModuleView; created: boolean }>;
  plan(principal: Principal, input: CreateClaimBody): Promise<PlanView>;
  claim(principal: Principal, input: CreateClaimBody): Promise<{ claim: Claim; plan: PlanView }>;
  /** What upgrading a ready claim (another version of its module, preset or inputs) would do; nothing is changed or recorded. */
  planUpgrade(principal: Principal, id: string, input: UpgradeClaimBody): Promise<PlanView>;
  /** Upgrades a ready claim: planned and admitted (the budget sees the cost it adds), then its apply steps run again as a job. */
  upgrade(principal: Principal, id: string, input: UpgradeClaimBody): Promise<{ claim: Claim; plan: PlanView }>;
  listClaims(principal: Principal, query: ClaimListQuery): Promise<Claim[]>;
  getClaim(principal: Principal, id: string): Promise<Claim>;
  deleteClaim(principal: Principal, id: string): Promise<Claim>;
  /** Objects on the providers' servers named like a claim's that no claim (in any phase) holds (platform admins). */
  orphans(principal: Principal): Promise<OrphanReport>;
  /** Checks every ready claim against its server now (the periodic job does the same). */
  checkDrift(principal: Principal): Promise<{ checked: number; drifted: number }>;
  /** Monthly cost of the live claims by a grouping (`service`: the Score workload a claim serves; '' for claims of none). */
  costs(principal: Principal, by: CostGrouping): Promise<CostLine[]>;
  backups(principal: Principal): Promise<q.BackupRecord[]>;
  /** Claims for a Score workload's resources (the delivery layer calls this); nothing is created. */
  claimsFromScore(score: ScoreResources, context: { environment: string; owner: string; costCenter: string }): Promise<ScoreClaims>;
  controller: Controller;
  operations: Operations;
  /** Each provider and whether its server can be used now (the reason when not). */
  providerStatus(principal: Principal): Promise<{ name: ProviderName; available: boolean; reason: string | null }[]>;
}

export function createResources(kernel: Kernel, options: ResourcesOptions = {}): Resources {
  const { store, clock, ledger, jobs, config, logger } = kernel;
  const log = logger.child({ layer: 'resources' });
  const baseDomain = parseBaseDomain(options.baseDomain ?? DEFAULT_BASE_DOMAIN, 'PLINTH_BASE_DOMAIN');
  const secrets = createSecrets(kernel);
  const providers = new Map<ProviderName, Provider>([
    ['postgres', createPostgresProvider(config.resources.postgresUrl)],
    ['redis', createRedisProvider(config.resources.redisUrl)],
    ['rabbitmq', createRabbitmqProvider(config.resources.rabbitmqUrl, config.resources.rabbitmqManagementUrl)],
    ['nats-stream', createNatsProvider(config.resources.natsUrl)],
    ['secret', createSecretProvider(async (name) => (await q.selectSecret(store, name)) !== undefined)],
    ['tls-certificate', createTlsProvider(baseDomain)],
    ['dns', createDnsProvider(baseDomain)],
    ['route', createRouteProvider(baseDomain)],
    ['volume', createVolumeProvider(join(config.dataDir, 'volumes'))],
  ]);
  let modules: { module: Module; source: 'builtin' | 'custom' }[] = [];
  const moduleOf = (claim: Claim) => modules.find((m) => m.module.name === claim.module && m.module.version === claim.version)?.module;
  // Certificates due for renewal are rotated by the platform itself (no grace: the old certificate stays valid until it expires).
  const renew = async (claim: Claim) => void (await claimOperations.rotate({ kind: 'system', name: 'resources' }, claim.id, { graceSeconds: 0 }));
  const operations = createOperations({ kernel, providers, secrets, backupDir: join(config.dataDir, 'backups', 'resources'), finalRetentionDays: config.resources.backupRetentionDays, moduleOf, renew });
  const controller = createController({ kernel, providers, secrets, operations, moduleOf });
  const claimOperations = createClaimOperations(kernel, { providers, secrets, graceSeconds: config.resources.rotationGraceS });
  const withSpendKeys = createKeyedLock();
  let unlisten: (() => void) | undefined;
  let probing: Promise<void> | undefined;
  const probeProviders = () => Promise.all([...providers.values()].map(async (p) => ({ name: p.name, reason: (await p.unavailable()) ?? null })));

  async function loadModules() {
    const loaded: typeof modules = [];
    for (const row of await q.listModuleRows(store)) {
      try {
        loaded.push({ module: parseModule(row.yaml, `module ${row.name}@${row.version}`), source: row.source });
      } catch (err) {
        log.error({ err, module: row.name, version: row.version }, 'stored module does not parse; it is not offered');
      }
    }
    modules = loaded;
  }

  async function seedBuiltins() {
    if (options.modulesDir === undefined) return;
    let files: string[];
    try {
      files = (await readdir(options.modulesDir)).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const at = toIso(clock.now());
    for (const file of files) {
      const yaml = await readFile(join(options.modulesDir, file), 'utf8');
      // A broken shipped module is a bug in Plinth: fail the start loudly.
      const module = parseModule(yaml, join('modules', file));
      await q.upsertModule(store, { name: module.name, version: module.version, source: 'builtin', yaml, digest: digestOf(yaml), actor: 'system:plinth', at });
    }
  }

  function findModule(name: string, version: string | undefined): Module {
    const candidates = modules.filter((m) => m.module.name === name).map((m) => m.module);
    if (candidates.length === 0) throw new NotFoundError(`no module named ${name}; modules: ${[...new Set(modules.map((m) => m.module.name))].sort().join(', ')}`);
    if (version !== undefined && !/^[\^~]?\d+(\.\d+){0,2}$/.test(version)) throw new InputError(`version: "${version}" is not a version or range such as 1, 1.2 or ^1.2.0`);
    const found = pickVersion(candidates, version);
    if (!found) throw new NotFoundError(`module ${name} has no version matching ${version}; versions: ${candidates.map((m) => m.version).join(', ')}`);
    return found;
  }

  /** The plan of a new claim, or (with `current`) of an upgrade of that claim: the budget then sees only the cost it adds. */
  async function planFor(principal: Principal, input: CreateClaimBody, dryRun: boolean, current?: Claim): Promise<{ plan: PlanView; module: Module; owner: string; tags: Record<string, string> }> {
    authorize(principal, resourcePermissions.read);
    const module = findModule(input.module, input.version);
    const missing = module.requiredTags.filter((tag) => tag !== 'environment' && (input.tags[tag] ?? '') === '');
    if (missing.length > 0) throw new InputError(`tags: module ${module.name} requires the tag(s) ${missing.join(', ')}; e.g. --owner group:default/team-a --cost-center cc-42`);
    const owner = normalizeOwner(input.tags.owner ?? '');
    authorize(principal, resourcePermissions.claim, { type: 'resource claim', id: `${input.environment}/${input.name}`, ownerRef: owner });
    const preset = input.preset ?? module.defaultPreset;
    const inputs = resolveInputs(module, preset, input.inputs);
    const problems = providers.get(module.provider)!.checkInputs?.({ name: input.name, environment: input.environment, inputs }) ?? [];
    if (problems.length > 0) throw new InputError(`inputs of ${module.name}@${module.version}: ${problems.join('; ')}`);
    await checkHosts(module.provider, { name: input.name, environment: input.environment, inputs }, owner);
    const tags: Record<string, string> = { owner, 'cost-center': (input.tags['cost-center'] ?? '').toLowerCase(), environment: input.environment, ...(input.tags.service ? { service: input.tags.service.toLowerCase() } : {}) };
    const monthly = monthlyCost(module, preset, inputs);
    const warnings: string[] = [];
    if (current && current.module !== module.name) throw new InputError(`module: claim ${current.environment}/${current.name} is a ${current.module}; an upgrade keeps the module and changes its version, preset or inputs`);
    if (module.deprecation) warnings.push(`${module.name}@${module.version} is deprecated; use ${module.deprecation.successor}${module.deprecation.message ? ` (${module.deprecation.message})` : ''}`);
    const unavailable = await providers.get(module.provider)!.unavailable();
    if (unavailable) warnings.push(unavailable);
    const denials: Denial[] = [];
    const team = owner.slice(owner.lastIndexOf('/') + 1);
    const count = current ? 0 : await q.countTeamClaims(store, team, module.name);
    if (count >= module.limits.maxClaimsPerTeam) denials.push({ policy: `module:${module.name}`, rule: 'maxClaimsPerTeam', message: `team ${team} has ${count} ${module.name} claims; the module allows ${module.limits.maxClaimsPerTeam}` });
    const added = current ? Math.round((monthly - current.cost.monthly) * 100) / 100 : monthly;
    const object = claimObject({ name: input.name, environment: input.environment, module, preset, tags, monthly: added });
    const decision = options.admit ? await options.admit(principal, { object, owner, subjects: [`resource:${input.environment}/${input.name}`, `environment:${input.environment}`], dryRun }) : { allowed: true, denials: [] };
    denials.push(...decision.denials);
    const plan: PlanView = {
      name: input.name,
      environment: input.environment,
      module: module.name,
      version: module.version,
      provider: module.provider,
      preset,
      inputs,
      tags,
      creates: describeCreates(module.provider, physicalNames(input.environment, input.name, baseDomain), inputs),
      outputs: module.outputs,
      cost: { monthly, currency: module.cost.currency },
      warnings,
      decision: { allowed: denials.length === 0, denials },
    };
    return { plan, module, owner, tags };
  }

  /**
   * Host names belong to teams: a `dns` claim is the one reservation of its host, and a certificate
   * may name a host only when no other team reserves it or holds a certificate for it.
   */
  async function checkHosts(provider: ProviderName, claim: { name: string; environment: string; inputs: Record<string, unknown> }, owner: string) {
    const hostsOfClaim = (c: { provider: string; name: string; environment: string; inputs: Record<string, unknown> }) =>
      c.provider === 'dns' ? [dnsHost(c, baseDomain)] : c.provider === 'tls-certificate' ? certificateHostsOf(c, baseDomain) : c.provider === 'route' ? [String(c.inputs.host)] : [];
    const wanted = hostsOfClaim({ provider, ...claim });
    if (wanted.length === 0) return;
    // The gateway is one for every environment: a route's host (unlike `<service>.<environment>.…`) may be taken in any of them.
    for (const other of await q.listClaims(store, { ...(provider === 'route' ? {} : { environment: claim.environment }), limit: 10_000 })) {
      const clash = other.name === claim.name && other.environment === claim.environment ? undefined : wanted.find((h) => hostsOfClaim(other).includes(h));
      if (clash === undefined) continue;
      if (provider === 'dns' && other.provider === 'dns') throw new ConflictError(`host ${clash} is held by claim ${other.environment}/${other.name} of ${other.owner}`);
      // One route per host and path: the gateway could send it to only one service.
      if (provider === 'route' && other.provider === 'route' && other.inputs.path === claim.inputs.path) throw new ConflictError(`${clash}${String(claim.inputs.path)} is routed by claim ${other.environment}/${other.name} of ${other.owner}`);
      if (other.owner !== owner) throw new ConflictError(`host ${clash} belongs to ${other.owner} (claim ${other.environment}/${other.name}); name a host of your own`);
    }
  }

  /**
   * Plans and admits a claim, then commits it with its apply job only if no other claim against the
   * same spend keys committed since the decision began; undefined when one did (decide again).
   */
  async function decideAndCommit(principal: Principal, input: CreateClaimBody, keys: readonly string[], current?: Claim): Promise<{ claim: Claim; plan: PlanView } | undefined> {
    const seen = await q.readSpendGenerations(store, keys);
    const { plan, owner, tags } = await planFor(principal, input, false, current);
    if (!plan.decision.allowed) throw new NotAllowedError(`${current ? 'upgrade of ' : ''}claim ${input.environment}/${input.name} refused: ${plan.decision.denials.map((d) => `${d.policy}: ${d.message}`).join('; ')}`);
    if (current) return commitUpgrade(current, plan, seen);
    const at = toIso(clock.now());
    const claim: Claim = {
      id: `rc-${newId().replaceAll('-', '').slice(0, 16)}`,
      name: plan.name,
      environment: plan.environment,
      module: plan.module,
      version: plan.version,
      provider: plan.provider,
      preset: plan.preset,
      inputs: plan.inputs,
      tags,
      owner,
      cost: plan.cost,
      phase: 'provisioning',
      step: null,
      outputs: {},
      lastError: null,
      drift: null,
      jobId: null,
      createdBy: principalRef(principal),
      createdAt: at,
      updatedAt: at,
      readyAt: null,
      provisionMs: null,
    };
    try {
      await store.transaction(async (tx) => {
        if (!(await q.advanceSpendGenerations(tx, seen))) throw new SpendChanged();
        await q.insertClaim(tx, store.dialect, claim);
        const { job } = await jobs.enqueue({ kind: APPLY_JOB, payload: { claimId: claim.id }, idempotencyKey: `${APPLY_JOB}:${claim.id}`, maxAttempts: 8 }, { db: tx });
        claim.jobId = job.id;
        await q.updateClaim(tx, claim.id, { jobId: job.id }, at);
        await ledger.append({ kind: 'resources.claim.requested', subjects: [`resource:${claim.environment}/${claim.name}`, owner, `environment:${claim.environment}`], actor: claim.createdBy, payload: { claimId: claim.id, name: claim.name, environment: claim.environment, module: claim.module, version: claim.version, preset: claim.preset, monthly: claim.cost.monthly } }, { db: tx });
      });
    } catch (err) {
      if (err instanceof SpendChanged) return undefined;
      throw err;
    }
    return { claim, plan };
  }

  /** Puts the upgraded spec on the claim (if it is still ready) and starts its apply job; undefined when the budget's spend moved. */
  async function commitUpgrade(current: Claim, plan: PlanView, seen: ReadonlyMap<string, number>): Promise<{ claim: Claim; plan: PlanView } | undefined> {
    const at = toIso(clock.now());
    try {
      await store.transaction(async (tx) => {
        if (!(await q.advanceSpendGenerations(tx, seen))) throw new SpendChanged();
        const spec = { version: plan.version, preset: plan.preset, inputs: plan.inputs, monthly: plan.cost.monthly, currency: plan.cost.currency };
        if (!(await q.upgradeClaim(tx, current.id, spec, at))) throw new ConflictError(`claim ${current.environment}/${current.name} changed while upgrading; try again`);
        // One apply job per upgrade (the claim's first one keeps its key).
        const { job } = await jobs.enqueue({ kind: APPLY_JOB, payload: { claimId: current.id }, idempotencyKey: `${APPLY_JOB}:${current.id}:${newId()}`, maxAttempts: 8 }, { db: tx });
        await q.updateClaim(tx, current.id, { jobId: job.id }, at);
        await ledger.append({ kind: 'resources.claim.upgrade-requested', subjects: [`resource:${current.environment}/${current.name}`, current.owner, `environment:${current.environment}`], actor: 'system:resources', payload: { claimId: current.id, from: `${current.module}@${current.version}`, to: `${plan.module}@${plan.version}`, preset: plan.preset, monthly: plan.cost.monthly } }, { db: tx });
      });
    } catch (err) {
      if (err instanceof SpendChanged) return undefined;
      throw err;
    }
    return { claim: await q.selectClaim(store, current.id), plan };
  }


  async function upgradable(principal: Principal, id: string, input: UpgradeClaimBody): Promise<{ claim: Claim; body: CreateClaimBody }> {
    const claim = await q.selectClaim(store, id);
    authorize(principal, resourcePermissions.claim, { type: 'resource claim', id, ownerRef: claim.owner });
    if (claim.phase !== 'ready') throw new ConflictError(`claim ${claim.environment}/${claim.name} is ${claim.phase}; an upgrade needs a ready claim`);
    const body = upgradeBody(claim, input, ownInputs(findModule(claim.module, claim.version), claim.preset, claim.inputs));
    const module = findModule(body.module, body.version);
    if (module.version === claim.version && body.preset === claim.preset && JSON.stringify(resolveInputs(module, body.preset!, body.inputs)) === JSON.stringify(claim.inputs)) {
      throw new InputError(`claim ${claim.environment}/${claim.name} already runs ${claim.module}@${claim.version} (${claim.preset}) with these inputs; name another version, preset or inputs`);
    }
    return { claim, body: { ...body, version: module.version } };
  }

  async function checkAllDrift(): Promise<{ checked: number; drifted: number }> {
    let checked = 0;
    let drifted = 0;
    for (const claim of await q.listClaims(store, { limit: 10_000 })) {
      if (claim.phase !== 'ready') continue;
      try {
        checked += 1;
        if ((await controller.checkDrift(claim)).length > 0) drifted += 1;
      } catch (err) {
        log.warn({ err: (err as Error).message, claimId: claim.id }, 'drift check failed');
      }
    }
    return { checked, drifted };
  }

  /** Moves `claim` (as read) to deleting and enqueues its delete job; false when its phase moved meanwhile. */
  async function markDeleting(principal: Principal, claim: Claim, pending: readonly string[]): Promise<boolean> {
    const id = claim.id;
    return store.transaction(async (tx) => {
      if (!(await q.updateClaim(tx, id, { phase: 'deleting', step: null }, toIso(clock.now()), claim.phase))) return false;
      const { job } = await jobs.enqueue({ kind: DELETE_JOB, payload: { claimId: id, after: pending }, idempotencyKey: `${DELETE_JOB}:${id}`, maxAttempts: 8 }, { db: tx });
      await q.updateClaim(tx, id, { jobId: job.id }, toIso(clock.now()));
      await ledger.append({ kind: 'resources.claim.deletion-requested', subjects: [`resource:${claim.environment}/${claim.name}`, claim.owner], actor: principalRef(principal), payload: { claimId: id, name: claim.name, environment: claim.environment } }, { db: tx });
      return true;
    });
  }

  return {
    secrets,
    secretSource: (ref) => secrets.source(ref),
    controller,
    operations,
    ...claimOperations,
    async start() {
      await secrets.start();
      unlisten = store.listen(MODULES_CHANGED_CHANNEL, () => void loadModules().catch((err: unknown) => log.error({ err }, 'could not reload modules')));
      await seedBuiltins();
      await loadModules();
      controller.register();
      jobs.register(DRIFT_JOB, async () => {
        await checkAllDrift();
        await operations.sweepBackups(clock.now());
        return { kind: 'wait', until: new Date(clock.now().getTime() + config.resources.driftIntervalS * 1000) };
      });
      await jobs.enqueue({ kind: DRIFT_JOB, idempotencyKey: DRIFT_JOB, maxAttempts: 1_000_000, runAt: new Date(clock.now().getTime() + config.resources.driftIntervalS * 1000) });
      operations.register();
      await jobs.enqueue({ kind: SCHEDULE_JOB, idempotencyKey: SCHEDULE_JOB, maxAttempts: 1_000_000 });
      // Says which servers it found (zero configuration: the default loopback ports) without delaying the start.
      probing = probeProviders().then(
        (status) => {
          const enabled = status.filter((s) => s.reason === null).map((s) => s.name);
          const missing = status.filter((s) => s.reason !== null);
          log.info({ enabled, unavailable: missing.map((s) => s.name) }, `resource providers enabled: ${enabled.join(', ') || 'none'}${missing.length > 0 ? `; unavailable: ${missing.map((s) => `${s.name} (${s.reason})`).join('; ')}` : ''}`);
        },
        (err: unknown) => log.warn({ err }, 'could not probe the resource providers'),
      );
    },

    async stop() {
      unlisten?.();
      await probing;
      await Promise.all([...providers.values()].map((p) => p.close().catch(() => undefined)));
    },

    async providerStatus(principal) {
      authorize(principal, resourcePermissions.read);
      return (await probeProviders()).map((s) => ({ ...s, available: s.reason === null }));
    },

    spend: (scope, name) => q.sumMonthly(store, scope, name.toLowerCase()),

    async listModules(principal) {
      authorize(principal, resourcePermissions.read);
      return modules.map((m) => moduleView(m.module, m.source));
    },

    async getModule(principal, name, version) {
      authorize(principal, resourcePermissions.read);
      const module = findModule(name, version);
      return moduleView(module, modules.find((m) => m.module === module)!.source);
    },

    async publishModule(principal, yaml) {
      authorize(principal, resourcePermissions.manageModules);
      const module = parseModule(yaml, 'the module');
      const existing = (await q.listModuleRows(store)).find((r) => r.name === module.name && r.version === module.version);
      if (existing && existing.digest !== digestOf(yaml)) throw new ConflictError(`${module.name}@${module.version} is published and versions are immutable; publish a new version`);
      if (!existing) {
        await store.transaction(async (tx) => {
          await q.upsertModule(tx, { name: module.name, version: module.version, source: 'custom', yaml, digest: digestOf(yaml), actor: principalRef(principal), at: toIso(clock.now()) });
          await ledger.append({ kind: 'resources.module.published', subjects: [`module:${module.name}`], actor: principalRef(principal), payload: { name: module.name, version: module.version, provider: module.provider } }, { db: tx });
          await tx.notify(MODULES_CHANGED_CHANNEL);
        });
        await loadModules();
      }
      return { module: moduleView(module, existing?.source ?? 'custom'), created: !existing };
    },

    async plan(principal, input) {
      return (await planFor(principal, input, true)).plan;
    },

    async claim(principal, input) {
      // Known up front, so a server that is down answers 503 before any decision is recorded.
      const provider = findModule(input.module, input.version).provider;
      const unavailable = await providers.get(provider)!.unavailable();
      if (unavailable) throw new ServiceUnavailableError(`cannot provision ${input.module} now: ${unavailable}`);
      const keys = spendKeysOf(input);
      // Budgets and claim limits are decided on the spend and count of committed claims: decisions on
      // one team or cost-center take turns here, and across replicas the spend keys' generations
      // (advanced by every commit) send a claim whose spend changed after its decision to a new one.
      for (let attempt = 1; ; attempt++) {
        const committed = await withSpendKeys(keys, () => decideAndCommit(principal, input, keys));
        if (committed) return committed;
        if (attempt >= MAX_DECISIONS) throw new ConflictError(`claim ${input.environment}/${input.name}: the budget of its team or cost-center kept changing while it was decided; try again`);
      }
    },

    async planUpgrade(principal, id, input) {
      const { claim, body } = await upgradable(principal, id, input);
      return (await planFor(principal, body, true, claim)).plan;
    },

    async upgrade(principal, id, input) {
      const { claim, body } = await upgradable(principal, id, input);
      const keys = spendKeysOf(body);
      for (let attempt = 1; ; attempt++) {
        const committed = await withSpendKeys(keys, async () => decideAndCommit(principal, body, keys, (await upgradable(principal, id, input)).claim));
        if (committed) return committed;
        if (attempt >= MAX_DECISIONS) throw new ConflictError(`upgrade of claim ${claim.environment}/${claim.name}: the budget of its team or cost-center kept changing while it was decided; try again`);
      }
    },

    async listClaims(principal, query) {
      authorize(principal, resourcePermissions.read);
      const { owner, ...filter } = query;
      return q.listClaims(store, { ...filter, ownerRefs: owner === undefined ? undefined : [normalizeOwner(owner)] });
    },

    async getClaim(principal, id) {
      authorize(principal, resourcePermissions.read);
      return q.selectClaim(store, id);
    },

    async deleteClaim(principal, id) {
      let claim = await q.selectClaim(store, id);
      authorize(principal, resourcePermissions.claim, { type: 'resource claim', id, ownerRef: claim.owner });
      // A claim whose apply job moves it on (provisioning → ready) while this decides is read again.
      let pending: string[] = [];
      for (let attempt = 1; ; attempt++) {
        if (claim.phase === 'deleting') return claim;
        // The delete starts once the apply job and queued operations have ended (asked to stop here), so
        // no step lands on the server after the resource was removed.
        pending = [...(claim.phase === 'ready' ? [] : [claim.jobId]), ...(await q.listOperations(store, id)).filter((op) => op.phase === 'queued').map((op) => op.jobId)].filter((j): j is string => j !== null);
        if (await markDeleting(principal, claim, pending)) break;
        if (attempt >= MAX_DECISIONS) throw new ConflictError(`claim ${claim.environment}/${claim.name} kept changing while it was being deleted; try again`);
        claim = await q.selectClaim(store, id);
      }
      for (const jobId of pending) {
        await jobs.cancel(jobId).catch((err: unknown) => {
          // Ended meanwhile (or purged): nothing left to stop.
          if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
        });
      }
      return q.selectClaim(store, id);
    },

    async orphans(principal) {
      authorize(principal, resourcePermissions.manageModules);
      return findOrphans(store, providers.values());
    },

    async checkDrift(principal) {
      authorize(principal, resourcePermissions.manageModules);
      return checkAllDrift();
    },

    async costs(principal, by) {
      authorize(principal, resourcePermissions.read);
      const claims = await q.listClaims(store, { limit: 100_000 });
      const keyOf: Record<CostGrouping, (c: Claim) => string> = { team: (c) => c.owner, 'cost-center': (c) => c.tags['cost-center'] ?? '', environment: (c) => c.environment, service: (c) => c.tags.service ?? '' };
      return sumCosts(claims, keyOf[by]);
    },

    async backups(principal) {
      authorize(principal, resourcePermissions.read);
      const ownerRefs = principal.kind === 'user' && principal.role !== 'platform-admin' ? principal.ownershipRefs : undefined;
      return q.listBackups(store, { ownerRefs });
    },

    async claimsFromScore(score, context) {
      return claimsFromScore(score, modules.map((m) => m.module), context);
    },
  };
}

const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** Decisions a claim may take when other replicas keep committing claims against the same budget. */
const MAX_DECISIONS = 5;

/** Rolls a claim's transaction back: its budget's spend changed after the decision. */
class SpendChanged extends Error {}

