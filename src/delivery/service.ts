import type { Git } from '../git/index.js';
import { MAX_CLAIMS_PAGE, type Claim, type ClaimListQuery } from '../resources/index.js';
import { COST_CENTER_ANNOTATION } from './model/index.js';
import { ENVIRONMENT_RESOURCE_TYPE, resolveScoreResources, type ClaimResources, type ResolvedResources } from './score-resources.js';
import { authorize, ConflictError, InputError, newId, NotAllowedError, NotFoundError, PlinthError, principalRef, toIso, type Kernel, type Permission, type Principal, type Subscription } from '../kernel/index.js';
import { parseScore, scoreToWorkload, WorkloadSpec, type Runtime } from '../runtime/index.js';
import { createController, RECONCILE_JOB, sendWebhook, WEBHOOK_JOB } from './controller.js';
import {
  builtinEnvironments, CreateEnvironmentInput, previewEnvironmentName, isTerminalRollout, RolloutStrategy, StartRolloutInput, toRolloutView, UpdateEnvironmentInput,
  type AnalysesQuery, type AnalysisRecord, type DeliveryEventPayloads, type Environment, type Rollout, type RolloutCommand, type RolloutPhase, type RolloutStatus, type RolloutView, type WebhookView,
} from './model/index.js';
import * as store from './store.js';

const DEPLOY: Permission = { name: 'deploy services', verb: 'write' };
const READ: Permission = { name: 'read rollouts', verb: 'read' };
const ADMIN: Permission = { name: 'manage environments', verb: 'admin' };

/** Progressive delivery: environments, rollouts (canary, blue/green, direct), their analysis and gates. */
export interface Delivery {
  listEnvironments(principal: Principal): Promise<Environment[]>;
  getEnvironment(principal: Principal, name: string): Promise<Environment>;
  createEnvironment(principal: Principal, input: CreateEnvironmentInput): Promise<Environment>;
  updateEnvironment(principal: Principal, name: string, input: UpdateEnvironmentInput): Promise<Environment>;
  deleteEnvironment(principal: Principal, name: string): Promise<void>;
  /** Starts the new release beside the stable one (admission and readiness run here) and hands it to the controller. */
  startRollout(principal: Principal, input: StartRolloutInput): Promise<RolloutView>;
  getRollout(principal: Principal, id: string): Promise<RolloutView>;
  listRollouts(principal: Principal, filter: { service?: string; environment?: string; phase?: RolloutPhase; active?: boolean; limit: number }): Promise<RolloutView[]>;
  /** The analyses the controller made of a rollout, oldest first (`after`: only newer than that seq). */
  listAnalyses(principal: Principal, id: string, query: AnalysesQuery): Promise<AnalysisRecord[]>;
  /** Records a command (promote, abort, pause, resume, approve) and wakes the controller. */
  command(principal: Principal, id: string, command: RolloutCommand): Promise<RolloutView>;
  /** Aborts the active rollout, or rolls back to the release that was stable before the last promotion. */
  undo(principal: Principal, service: string, environment: string): Promise<RolloutView>;
  listWebhooks(principal: Principal, service: string): Promise<WebhookView[]>;
  addWebhook(principal: Principal, service: string, url: string): Promise<WebhookView>;
  deleteWebhook(principal: Principal, service: string, id: string): Promise<void>;
  /** One controller pass (tests step through it). */
  reconcileOnce(rolloutId: string): Promise<number | null>;
  /** The preview environment of a repository branch, created or with its expiry pushed back (pipelines deploy there). */
  ensurePreview(repository: string, branch: string, ownerRef: string): Promise<Environment>;
  /** Seeds the built-in environments and registers the job handlers. */
  start(): Promise<void>;
  stop(): void;
}

export interface DeliveryDeps {
  runtime: Runtime;
  /** Branch deletions remove their preview environments. */
  git?: Pick<Git, 'subscribePushes'>;
  /** Removes a preview environment's resource claims with it. */
  resources?: ClaimResources;
  /** How long a preview environment lives after its branch's last deploy (default 72 h). */
  previewTtlHours?: number;
}

export const PREVIEW_SWEEP_JOB = 'delivery.preview-sweep';
/** The resources layer's ledger event for a rotated credential (payload `name`: the secret's name). */
const SECRET_ROTATED_EVENT = 'resources.secret.rotated';
const PREVIEW_SWEEP_MS = 60_000;
const DEFAULT_PREVIEW_TTL_HOURS = 72;

/** An owner label (`team-a`) as the entity ref ownership checks compare with. */
const ownerRefOf = (labels: Record<string, string>) => (labels.owner ? `group:default/${labels.owner.toLowerCase()}` : null);

export function createDelivery(kernel: Kernel, deps: DeliveryDeps): Delivery {
  const { store: db, clock, jobs } = kernel;
  const { runtime } = deps;
  const now = () => toIso(clock.now());
  const controller = createController({ kernel, runtime, gatewayPort: () => runtime.gatewayPort() });
  const log = kernel.logger.child({ layer: 'delivery' });
  const previewTtlMs = (deps.previewTtlHours ?? DEFAULT_PREVIEW_TTL_HOURS) * 3_600_000;
  let branchSubscription: Subscription | undefined;

  let rotationSubscription: Subscription | undefined;
  let rotationChain: Promise<void> = Promise.resolve();

  /** Restarts, from the same spec, every stable release that reads secret `name` (`name` or `name/<key>` refs). */
  async function restartReadersOf(name: string): Promise<void> {
    const system: Principal = { kind: 'system', name: 'delivery' };
    for (const release of await runtime.releases(system, { phases: ['ready'] })) {
      if (!release.spec.secrets.some((s) => s.ref === name || s.ref.startsWith(`${name}/`))) continue;
      if (runtime.traffic(system, release.service, release.environment)?.stable !== release.id) continue;
      if (await store.activeRollout(db, release.service, release.environment)) {
        log.warn({ service: release.service, environment: release.environment, secret: name }, 'a rollout is in progress; its release reads the rotated secret at its next start');
        continue;
      }
      const [last] = await store.listRollouts(db, { service: release.service, environment: release.environment }, 1);
      log.info({ service: release.service, environment: release.environment, secret: name }, 'restarting a service for its rotated secret');
      await start(system, release.spec, RolloutStrategy.parse({ kind: 'direct' }), last?.commit ?? null);
    }
  }

  /** Stops everything a preview environment runs, then removes it. */
  async function destroyPreview(env: Environment, reason: string): Promise<void> {
    const system: Principal = { kind: 'system', name: 'delivery' };
    // A rollout still running there is aborted first (its controller stops the new release).
    for (const active of await store.listRollouts(db, { environment: env.name, active: true }, 100)) {
      if (await store.setCommand(db, active.id, { command: 'abort', by: 'system:delivery', at: now() })) await (active.jobId ? jobs.runNow(active.jobId) : undefined);
    }
    for (const release of await runtime.releases(system, { environment: env.name, phases: ['ready', 'starting'] })) {
      await runtime.stopRelease(system, release.id, `preview environment ${env.name} removed: ${reason}`);
    }
    // What its workloads claimed goes with it (each deletion keeps its final backup, as any deprovision).
    for (const claim of await allClaims(system, { environment: env.name })) {
      if (claim.phase !== 'deleting') await deps.resources!.deleteClaim(system, claim.id);
    }
    await store.deleteEnvironment(db, env.name);
    const payload: DeliveryEventPayloads['delivery.preview.removed'] = { environment: env.name, reason };
    await kernel.ledger.append({ kind: 'delivery.preview.removed', subjects: [`environment:${env.name}`, ...(env.preview ? [`repository:${env.preview.repository}`] : [])], actor: 'system:delivery', payload: { ...payload } });
  }

  /** Every claim the query matches, page by page (an environment or a team may hold more than a page). */
  async function allClaims(principal: Principal, query: Omit<ClaimListQuery, 'limit' | 'after'>): Promise<Claim[]> {
    if (!deps.resources) return [];
    const claims: Claim[] = [];
    for (let after: ClaimListQuery['after']; ; ) {
      const page = await deps.resources.listClaims(principal, { ...query, after, limit: MAX_CLAIMS_PAGE });
      claims.push(...page);
      const last = page.at(-1);
      if (page.length < MAX_CLAIMS_PAGE || !last) return claims;
      after = { environment: last.environment, name: last.name };
    }
  }

  async function environment(name: string): Promise<Environment> {
    const env = await store.findEnvironment(db, name);
    if (env) return env;
    const known = (await store.listEnvironments(db)).map((e) => e.name);
    throw new InputError(`environment "${name}" does not exist; use one of ${known.join(', ')} or create it (plinth env create ${name})`);
  }

  async function toSpec(principal: Principal, input: StartRolloutInput): Promise<WorkloadSpec> {
    let raw: unknown = input.spec;
    if (input.score !== undefined) {
      if (!input.environment || !input.version || !input.artifact) throw new InputError('score: a Score file needs environment, version and artifact beside it');
      const artifact = WorkloadSpec.shape.artifact.safeParse(input.artifact);
      if (!artifact.success) throw new InputError(artifact.error.issues.map((i) => `artifact.${i.path.join('.')}: ${i.message}`).join('; '));
      const score = parseScore(input.score, 'score.yaml');
      let resolved: ResolvedResources = { outputs: {}, secrets: {} };
      if (Object.keys(score.resources ?? {}).length > 0) {
        // The workload's resources are claimed for its owner, billed to its cost-center (labels or the Score annotation);
        // `environment` resources are the environment's variables and claim nothing.
        const claims = Object.values(score.resources ?? {}).some((r) => r.type !== ENVIRONMENT_RESOURCE_TYPE);
        const owner = input.labels?.owner;
        const costCenter = input.labels?.['cost-center'] ?? score.metadata.annotations?.[COST_CENTER_ANNOTATION];
        if (claims && (!owner || typeof costCenter !== 'string')) throw new InputError(`score: resources (${Object.keys(score.resources ?? {}).join(', ')}) are claimed for an owner and a cost-center: pass labels owner and cost-center`);
        const { variables } = await environment(input.environment);
        try {
          resolved = await resolveScoreResources({ resources: deps.resources, principal, score, environment: input.environment, environmentVariables: variables, owner: `group:default/${(owner ?? '').toLowerCase()}`, costCenter: typeof costCenter === 'string' ? costCenter : undefined });
        } catch (err) {
          if (err instanceof PlinthError || (err as { statusCode?: number }).statusCode !== undefined) throw err;
          throw new InputError((err as Error).message);
        }
      }
      raw = scoreToWorkload(score, { environment: input.environment, version: input.version, artifact: artifact.data, resourceOutputs: resolved.outputs, resourceSecrets: resolved.secrets });
    } else if (input.spec) {
      raw = { ...input.spec, ...(input.environment ? { environment: input.environment } : {}), ...(input.version ? { version: input.version } : {}) };
    }
    if (input.labels && raw !== null && typeof raw === 'object') {
      const own = (raw as { labels?: Record<string, string> }).labels;
      raw = { ...raw, labels: { ...own, ...input.labels } };
    }
    const parsed = WorkloadSpec.safeParse(raw);
    if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; '));
    await checkVolumes(principal, parsed.data);
    await checkRoutes(principal, parsed.data);
    return parsed.data;
  }

  /**
   * A route claim is the reservation of its host and path (hosts belong to one team): a workload routes
   * only what a ready route claim of its owner in its environment holds.
   */
  async function checkRoutes(principal: Principal, spec: WorkloadSpec): Promise<void> {
    if (spec.routes.length === 0) return;
    const ownerRef = ownerRefOf(spec.labels);
    if (!deps.resources) throw new InputError('spec.routes: this installation has no resources layer, so no route can be claimed');
    if (!ownerRef) throw new InputError('spec.routes: a workload with routes needs an owner label (the team whose route claims hold them)');
    const claims = (await allClaims(principal, { environment: spec.environment, owner: ownerRef, provider: 'route' })).filter((c) => c.phase === 'ready');
    for (const [i, route] of spec.routes.entries()) {
      if (!claims.some((c) => c.outputs.host === route.host.toLowerCase() && c.outputs.path === route.path)) {
        throw new InputError(`spec.routes.${i}: no ready route claim of ${ownerRef} in ${spec.environment} holds ${route.host}${route.path}; claim it first (module route, inputs host and path)`);
      }
    }
  }

  /**
   * A workload mounts only volumes its owner claimed, in its environment: the runtime checks that a
   * source is a volume directory at all, this that it is the owner's (a spec written by hand could name
   * another team's directory).
   */
  async function checkVolumes(principal: Principal, spec: WorkloadSpec): Promise<void> {
    if (spec.volumes.length === 0) return;
    const ownerRef = ownerRefOf(spec.labels);
    if (!deps.resources) throw new InputError('spec.volumes: this installation has no resources layer, so there are no volumes to mount');
    if (!ownerRef) throw new InputError('spec.volumes: a workload that mounts volumes needs an owner label (the team whose volume claims it mounts)');
    for (const [i, volume] of spec.volumes.entries()) {
      const [claim] = await deps.resources.listClaims(principal, { environment: spec.environment, name: volume.name, limit: 1 });
      if (!claim || claim.provider !== 'volume' || claim.outputs.path !== volume.source) {
        throw new InputError(`spec.volumes.${i}: ${volume.source} is not the directory of volume claim ${spec.environment}/${volume.name}; claim a volume (module volume) and mount its path`);
      }
      if (claim.phase !== 'ready') throw new InputError(`spec.volumes.${i}: volume claim ${spec.environment}/${volume.name} is ${claim.phase}`);
      if (claim.owner.toLowerCase() !== ownerRef) throw new NotAllowedError(`spec.volumes.${i}: volume claim ${spec.environment}/${volume.name} belongs to ${claim.owner}, not to ${ownerRef}`);
    }
  }

  async function start(principal: Principal, spec: WorkloadSpec, strategy: RolloutStrategy, commit: string | null): Promise<RolloutView> {
    const ownerRef = ownerRefOf(spec.labels);
    authorize(principal, DEPLOY, { type: 'service', id: spec.service, ...(ownerRef ? { ownerRef } : {}) });
    const busy = await store.activeRollout(db, spec.service, spec.environment);
    if (busy) throw new ConflictError(`service ${spec.service} already has rollout ${busy.rollout.id} (${busy.rollout.version}) in progress in ${spec.environment}; promote or abort it first`);
    const previousReleaseId = runtime.traffic(principal, spec.service, spec.environment)?.stable ?? null;
    const release = await runtime.deploy(principal, { spec, traffic: 'none' });
    const at = now();
    const failed = release.phase !== 'ready';
    const status: RolloutStatus = {
      phase: failed ? 'failed' : 'progressing', stepIndex: -1, weightPercent: 0, stepStartedAt: null, smokeTestPassed: false,
      message: failed ? `release ${release.id} did not become ready: ${release.message ?? release.phase}` : 'smoke test pending',
      lastAnalysis: null, baseline: null, approvals: [], pausedFrom: null, finishedAt: failed ? at : null,
    };
    const rollout: Rollout = {
      id: newId(), service: spec.service, environment: spec.environment, version: spec.version, artifactDigest: spec.artifact.digest, commit, strategy,
      releaseId: release.id, previousReleaseId, ownerRef, status, pendingCommand: null, jobId: null, createdBy: principalRef(principal), createdAt: at, updatedAt: at,
    };
    try {
      await db.transaction(async (tx) => {
        // Checked again inside the transaction: two deploys racing each start a release, one wins.
        if (await store.activeRollout(tx, spec.service, spec.environment)) throw new ConflictError(`service ${spec.service} got another rollout in ${spec.environment} meanwhile; promote or abort it first`);
        await store.insertRollout(tx, rollout);
        await controller.record(tx, 'delivery.rollout.started', rollout, rollout.createdBy, { previousReleaseId, strategy: strategy.kind });
        if (failed) {
          await controller.record(tx, 'delivery.rollout.failed', rollout, 'system:delivery', { reason: status.message ?? release.phase });
          return;
        }
        const { job } = await jobs.enqueue({ kind: RECONCILE_JOB, payload: { rolloutId: rollout.id }, idempotencyKey: `rollout:${rollout.id}`, maxAttempts: 50 }, { db: tx });
        await store.setRolloutJob(tx, rollout.id, job.id);
      });
    } catch (err) {
      if (!failed) await runtime.stopRelease(principal, release.id, 'its rollout could not be recorded').catch(() => undefined);
      throw err;
    }
    return toRolloutView((await store.getRollout(db, rollout.id)).rollout);
  }

  async function owned(principal: Principal, id: string): Promise<Rollout> {
    const { rollout } = await store.getRollout(db, id);
    authorize(principal, DEPLOY, { type: 'service', id: rollout.service, ...(rollout.ownerRef ? { ownerRef: rollout.ownerRef } : {}) });
    return rollout;
  }

  function checkCommand(r: Rollout, command: RolloutCommand): void {
    const phase = r.status.phase;
    if (isTerminalRollout(phase)) throw new ConflictError(`rollout ${r.id} has already ${phase === 'succeeded' ? 'succeeded' : phase}; nothing to ${command}`);
    if (command === 'approve' && phase !== 'awaiting-approval') throw new ConflictError(`rollout ${r.id} is ${phase}, not awaiting approval`);
    if (command === 'pause' && phase === 'paused') throw new ConflictError(`rollout ${r.id} is already paused`);
    if (command === 'resume' && phase !== 'paused') throw new ConflictError(`rollout ${r.id} is ${phase}, not paused`);
  }

  return {
    async listEnvironments(principal) {
      authorize(principal, READ);
      return store.listEnvironments(db);
    },
    async getEnvironment(principal, name) {
      authorize(principal, READ);
      const env = await store.findEnvironment(db, name);
      if (!env) throw new NotFoundError(`environment ${name} does not exist`);
      return env;
    },
    async createEnvironment(principal, input) {
      authorize(principal, ADMIN);
      const parsed = CreateEnvironmentInput.parse(input);
      const at = now();
      const env: Environment = { ...parsed, builtin: false, preview: null, createdBy: principalRef(principal), createdAt: at, updatedAt: at };
      if (!(await store.insertEnvironment(db, env))) throw new ConflictError(`environment ${parsed.name} already exists`);
      return env;
    },
    async updateEnvironment(principal, name, input) {
      authorize(principal, ADMIN);
      const parsed = UpdateEnvironmentInput.parse(input);
      const env = await this.getEnvironment(principal, name);
      const next: Environment = { ...env, ...(parsed.description !== undefined ? { description: parsed.description } : {}), ...(parsed.strategy ? { strategy: parsed.strategy } : {}), ...(parsed.variables ? { variables: parsed.variables } : {}), updatedAt: now() };
      await store.updateEnvironment(db, next);
      return next;
    },
    async deleteEnvironment(principal, name) {
      authorize(principal, ADMIN);
      const env = await this.getEnvironment(principal, name);
      if (env.builtin) throw new ConflictError(`environment ${name} is built in; change its strategy instead of deleting it`);
      const active = await store.listRollouts(db, { environment: name, active: true }, 1);
      if (active.length > 0) throw new ConflictError(`environment ${name} has rollout ${active[0]!.id} in progress; finish or abort it first`);
      const running = await runtime.releases(principal, { environment: name, phases: ['ready', 'starting'] });
      if (running.length > 0) throw new ConflictError(`environment ${name} still runs ${running.length} release(s) (${[...new Set(running.map((r) => r.service))].join(', ')}); stop them first`);
      await store.deleteEnvironment(db, name);
    },
    async startRollout(principal, input) {
      const parsedInput = StartRolloutInput.safeParse(input);
      if (!parsedInput.success) throw new InputError(parsedInput.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
      const spec = await toSpec(principal, parsedInput.data);
      const env = await environment(spec.environment);
      return start(principal, spec, parsedInput.data.strategy ?? env.strategy, parsedInput.data.commit ?? null);
    },
    async getRollout(principal, id) {
      authorize(principal, READ);
      return toRolloutView((await store.getRollout(db, id)).rollout);
    },
    async listRollouts(principal, filter) {
      authorize(principal, READ);
      return (await store.listRollouts(db, filter, filter.limit)).map(toRolloutView);
    },
    async listAnalyses(principal, id, query) {
      authorize(principal, READ);
      await store.getRollout(db, id); // an unknown rollout is a 404, not an empty history
      return store.listAnalyses(db, id, query.after, query.limit);
    },
    async command(principal, id, command) {
      const rollout = await owned(principal, id);
      checkCommand(rollout, command);
      if (!(await store.setCommand(db, id, { command, by: principalRef(principal), at: now() }))) {
        const fresh = (await store.getRollout(db, id)).rollout;
        checkCommand(fresh, command);
        throw new ConflictError(`rollout ${id} already has a pending ${fresh.pendingCommand?.command ?? 'command'}; try again in a moment`);
      }
      if (rollout.jobId) await jobs.runNow(rollout.jobId);
      return toRolloutView((await store.getRollout(db, id)).rollout);
    },
    async undo(principal, service, environmentName) {
      const active = await store.activeRollout(db, service, environmentName);
      if (active) return this.command(principal, active.rollout.id, 'abort');
      const [last] = await store.listRollouts(db, { service, environment: environmentName, phase: 'succeeded' }, 1);
      if (!last?.previousReleaseId) throw new ConflictError(`service ${service} has no earlier release in ${environmentName} to go back to`);
      const previous = await runtime.release(principal, last.previousReleaseId);
      // Going back to a release that already ran is the emergency lane: replace directly, no canary.
      return start(principal, previous.spec, RolloutStrategy.parse({ kind: 'direct' }), null);
    },
    async listWebhooks(principal, service) {
      authorize(principal, READ);
      return store.listWebhooks(db, service);
    },
    async addWebhook(principal, service, url) {
      const [last] = await store.listRollouts(db, { service }, 1);
      authorize(principal, DEPLOY, { type: 'service', id: service, ...(last?.ownerRef ? { ownerRef: last.ownerRef } : {}) });
      const hook: WebhookView = { id: newId(), service, url, createdBy: principalRef(principal), createdAt: now() };
      await store.insertWebhook(db, hook);
      return hook;
    },
    async deleteWebhook(principal, service, id) {
      const [last] = await store.listRollouts(db, { service }, 1);
      authorize(principal, DEPLOY, { type: 'service', id: service, ...(last?.ownerRef ? { ownerRef: last.ownerRef } : {}) });
      await store.deleteWebhook(db, service, id);
    },
    reconcileOnce: (id) => controller.reconcileOnce(id),
    async start() {
      // One millisecond apart: environments list in creation order, staging before production.
      const startMs = clock.now().getTime();
      for (const [i, env] of builtinEnvironments.entries()) {
        const at = toIso(new Date(startMs + i));
        await store.insertEnvironment(db, { ...env, builtin: true, preview: null, createdBy: 'system:delivery', createdAt: at, updatedAt: at });
      }
      jobs.register(RECONCILE_JOB, controller.handler);
      jobs.register(WEBHOOK_JOB, sendWebhook);
      jobs.register(PREVIEW_SWEEP_JOB, async () => {
        for (const env of await store.listEnvironments(db)) {
          if (env.preview && Date.parse(env.preview.expiresAt) <= clock.now().getTime()) await destroyPreview(env, `expired at ${env.preview.expiresAt}`);
        }
        return { kind: 'wait', until: new Date(clock.now().getTime() + PREVIEW_SWEEP_MS) };
      });
      await jobs.enqueue({ kind: PREVIEW_SWEEP_JOB, idempotencyKey: PREVIEW_SWEEP_JOB, maxAttempts: 1_000_000, runAt: new Date(clock.now().getTime() + PREVIEW_SWEEP_MS) });
      // A deleted branch takes its preview environment with it (live pushes; the sweep catches any missed).
      branchSubscription = deps.git?.subscribePushes({}, (push) => {
        if (push.change !== 'deleted' || !push.ref.startsWith('refs/heads/')) return;
        const name = previewEnvironmentName(push.repository, push.ref.slice('refs/heads/'.length));
        void store
          .findEnvironment(db, name)
          .then((env) => (env?.preview ? destroyPreview(env, `branch ${env.preview.branch} of ${env.preview.repository} was deleted`) : undefined))
          .catch((err: unknown) => log.error({ err, environment: name }, 'could not remove a preview environment'));
      });
      await branchSubscription?.ready;
      // A rotated credential reaches the processes that read it: each service whose stable release
      // reads the secret is started again from the same spec (a direct replace, so no request is lost).
      rotationSubscription = kernel.ledger.subscribe({ kinds: [SECRET_ROTATED_EVENT] }, (event) => {
        const name = (event.payload as { name?: unknown }).name;
        if (typeof name !== 'string') return;
        rotationChain = rotationChain.then(() => restartReadersOf(name)).catch((err: unknown) => log.error({ err, secret: name }, 'could not restart the workloads of a rotated secret'));
      });
      await rotationSubscription.ready;
    },
    stop() {
      branchSubscription?.close();
      rotationSubscription?.close();
    },
    async ensurePreview(repository, branch, ownerRef) {
      const name = previewEnvironmentName(repository, branch);
      const at = now();
      const preview = { repository, branch, expiresAt: toIso(new Date(clock.now().getTime() + previewTtlMs)) };
      const existing = await store.findEnvironment(db, name);
      if (existing) {
        if (!existing.preview) throw new ConflictError(`environment ${name} exists and is not a preview environment`);
        const next: Environment = { ...existing, preview, updatedAt: at };
        await store.updateEnvironment(db, next);
        return next;
      }
      const env: Environment = {
        name, description: `Preview of branch ${branch} of ${repository} (${ownerRef}); removed with the branch or at expiry.`,
        strategy: RolloutStrategy.parse({ kind: 'direct' }), builtin: false, preview, createdBy: 'system:delivery', createdAt: at, updatedAt: at,
        // A preview stands in for staging: its Score `environment` resources read staging's variables.
        variables: (await store.findEnvironment(db, 'staging'))?.variables ?? {},
      };
      if (await store.insertEnvironment(db, env)) {
        const payload: DeliveryEventPayloads['delivery.preview.created'] = { environment: name, repository, branch, expiresAt: preview.expiresAt };
        await kernel.ledger.append({ kind: 'delivery.preview.created', subjects: [`environment:${name}`, `repository:${repository}`, ownerRef], actor: 'system:delivery', payload: { ...payload } });
        return env;
      }
      return (await store.findEnvironment(db, name)) ?? env;
    },
  };
}
