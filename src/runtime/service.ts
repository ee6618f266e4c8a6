import { readFile } from 'node:fs/promises';
import { authorize, ConflictError, gatewayHostOwner, InputError, newId, principalRef, toIso, type Kernel, type Permission, type Principal } from '../kernel/index.js';
import { gatewayHost, renderManifests, SECRET_PLACEHOLDER, TrafficSplit, WorkloadSpec, type JsonManifest, type Release, type ReleasePhase, type RuntimeEventPayloads, type WorkloadSpecInput } from './model/index.js';
import type { LogLine } from './driver/logs.js';
import type { RuntimeDriver } from './driver/local.js';
import type { ReplicaStatus } from './driver/replica.js';
import type { Gateway } from './gateway/gateway.js';
import { routeBackends } from './driver/kubernetes.js';
import type { ReleaseTrafficStats } from './gateway/stats.js';
import * as store from './store.js';

const DEPLOY: Permission = { name: 'deploy services', verb: 'write' };
const READ: Permission = { name: 'read runtime state', verb: 'read' };
const SYSTEM = 'system:runtime';

/** Resolves a secret ref (`<name>` or `<name>/<key>`) to its value; undefined when there is none. */
export type SecretSource = (ref: string) => Promise<string | undefined>;

/**
 * Deploy admission: judges a release's rendered manifests before anything starts (the guardrails
 * layer plugs in here). `denials` say what to fix; an empty list admits the release.
 */
export type DeployAdmission = (principal: Principal, manifests: readonly JsonManifest[], spec: WorkloadSpec) => Promise<{ allowed: boolean; denials: string[] }>;

export interface DeployInput {
  spec: WorkloadSpecInput;
  /** `replace` (default): once ready, all traffic moves to it and the previous releases drain. `none`: start beside them, no traffic (for a rollout controller). */
  traffic?: 'replace' | 'none';
}

/** The runtime layer: releases run by a driver, traffic through the gateway. */
export interface Runtime {
  /** Starts a release and waits until it is ready or failed; a failed release leaves the stable one untouched. */
  deploy(principal: Principal, input: DeployInput): Promise<Release>;
  /** Takes the release out of traffic, drains and stops it. */
  stopRelease(principal: Principal, releaseId: string, reason?: string): Promise<Release>;
  /** Sets the absolute traffic split of a service in an environment (what a rollout controller drives). */
  setTraffic(principal: Principal, service: string, environment: string, split: TrafficSplit): Promise<void>;
  traffic(principal: Principal, service: string, environment: string): TrafficSplit | undefined;
  trafficStats(principal: Principal, service: string, environment: string): ReleaseTrafficStats[];
  release(principal: Principal, id: string): Promise<Release>;
  /** Newest first; with `phases` (e.g. what runs now) up to 10,000, else the newest 100. */
  releases(principal: Principal, filter: { service?: string; environment?: string; phases?: readonly ReleasePhase[] }): Promise<Release[]>;
  replicas(principal: Principal, releaseId: string): ReplicaStatus[];
  manifests(principal: Principal, releaseId: string): Promise<JsonManifest[]>;
  logs(principal: Principal, service: string, environment: string, query: { grep?: string; since?: string; limit?: number }): Promise<LogLine[]>;
  followLogs(principal: Principal, service: string, environment: string, query: { grep?: string }, listener: (line: LogLine) => void): () => void;
  /** Cleans up after a crash, restores traffic and restarts (in the background) what should run. */
  start(): Promise<void>;
  /** Starts the gateway; returns its port. */
  listen(): Promise<number>;
  /** The gateway's port while it listens (smoke tests go through it). */
  gatewayPort(): number | undefined;
  /** The host name the gateway routes to a service in an environment (`<service>.<environment>.<base domain>`). */
  gatewayHost(service: string, environment: string): string;
  stop(): Promise<void>;
}

function grepOf(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new InputError(`grep: ${(err as Error).message}`);
  }
}

/** True when `pid` is still the process this server started for `releaseId` (PIDs are reused). */
async function isOurProcess(pid: number, releaseId: string): Promise<boolean> {
  const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
  return environ.split('\0').includes(`PLINTH_RELEASE_ID=${releaseId}`);
}

export function createRuntime(kernel: Kernel, deps: { driver: RuntimeDriver; gateway: Gateway; secrets?: SecretSource; admit?: DeployAdmission }): Runtime {
  const { store: db, ledger, clock, logger } = kernel;
  const { driver, gateway } = deps;
  const { baseDomain } = kernel.config;
  const log = logger.child({ layer: 'runtime' });
  const now = () => toIso(clock.now());
  const secrets: SecretSource = deps.secrets ?? (() => Promise.resolve(undefined));
  const event = <K extends keyof RuntimeEventPayloads>(kind: K, release: Release, payload: RuntimeEventPayloads[K], actor: string) => ({
    kind,
    subjects: [`service:default/${release.service}`, `environment:${release.environment}`, `release:${release.id}`],
    actor,
    payload,
  });
  const base = (r: Release) => ({ releaseId: r.id, service: r.service, environment: r.environment, version: r.version });

  async function setPhase(release: Release, phase: Release['phase'], message: string | null, ev: ReturnType<typeof event>): Promise<Release> {
    const at = now();
    await db.transaction(async (tx) => {
      await store.updateReleasePhase(tx, release.id, phase, message, at);
      await ledger.append(ev, { db: tx });
    });
    return { ...release, phase, message, updatedAt: at };
  }

  async function applySplit(service: string, environment: string, split: TrafficSplit | undefined, actor: string): Promise<void> {
    await db.transaction(async (tx) => {
      if (split) await store.upsertTraffic(tx, service, environment, split, now());
      else await store.deleteTraffic(tx, service, environment);
      await ledger.append(
        {
          kind: 'runtime.traffic.changed',
          subjects: [`service:default/${service}`, `environment:${environment}`],
          actor,
          payload: { service, environment, stable: split?.stable ?? '', canary: split?.canary ?? null, canaryWeightPercent: split?.canaryWeightPercent ?? 0 } satisfies RuntimeEventPayloads['runtime.traffic.changed'],
        },
        { db: tx },
      );
    });
    const specs = new Map<string, WorkloadSpec>();
    for (const id of split ? [split.stable, ...(split.canary !== undefined ? [split.canary] : [])] : []) specs.set(id, (await store.getRelease(db, id)).spec);
    gateway.setSplit(service, environment, split);
    setRoutes(service, environment, split ? specs.get(split.stable)!.routes : []);
    if (driver.applyTraffic) await driver.applyTraffic(service, environment, split ? routeBackends(split, (id) => specs.get(id)) : []);
  }

  /** The stable release's routes go to the gateway; one another service took meanwhile is logged, not fatal (its traffic keeps flowing). */
  function setRoutes(service: string, environment: string, routes: WorkloadSpec['routes']): void {
    try {
      gateway.setRoutes(service, environment, routes);
    } catch (err) {
      log.warn({ service, environment, reason: (err as Error).message }, 'routes not applied');
    }
  }

  async function stopRunning(release: Release, reason: string, actor: string): Promise<Release> {
    const split = gateway.split(release.service, release.environment);
    if (split?.canary === release.id) await applySplit(release.service, release.environment, { ...split, canary: undefined, canaryWeightPercent: 0 }, actor);
    else if (split?.stable === release.id) await applySplit(release.service, release.environment, undefined, actor);
    const stopping = await setPhase(release, 'stopping', reason, event('runtime.release.stopped', release, { ...base(release), reason }, actor));
    await driver.stop(release.id);
    await store.deleteProcesses(db, release.id);
    await store.updateReleasePhase(db, release.id, 'stopped', reason, now());
    return { ...stopping, phase: 'stopped' };
  }

  async function run(release: Release, resolved: ResolvedSecrets, actor: string): Promise<Release> {
    const startedMs = Date.now();
    try {
      await driver.start({ id: release.id, spec: release.spec }, resolved.env, resolved.values);
    } catch (err) {
      const reason = (err as Error).message;
      await store.deleteProcesses(db, release.id);
      return setPhase(release, 'failed', reason, event('runtime.release.failed', release, { ...base(release), reason }, actor));
    }
    return setPhase(release, 'ready', null, event('runtime.release.ready', release, { ...base(release), readyMs: Date.now() - startedMs }, actor));
  }

  /** The secret env variables (templates filled in) and the raw secret values, which logs mask. */
  interface ResolvedSecrets { env: Record<string, string>; values: string[] }
  async function resolveSecrets(spec: WorkloadSpec): Promise<ResolvedSecrets> {
    const out: ResolvedSecrets = { env: {}, values: [] };
    const missing: string[] = [];
    for (const [i, s] of spec.secrets.entries()) {
      const value = await secrets(s.ref);
      if (value === undefined) {
        missing.push(`secrets[${i}] (${s.env}): secret "${s.ref}" does not exist`);
        continue;
      }
      out.env[s.env] = s.template === undefined ? value : s.template.replace(SECRET_PLACEHOLDER, () => value);
      out.values.push(value);
    }
    if (missing.length > 0) throw new InputError(`${missing.join('; ')}; create it before deploying`);
    return out;
  }

  /**
   * A route may not take another service's host (`<service>.<environment>.<base domain>` names one
   * service) nor a host and path another service routes (the gateway keeps the live ones).
   */
  function checkRoutes(spec: WorkloadSpec): void {
    for (const r of spec.routes) {
      const host = r.host.toLowerCase();
      const owner = gatewayHostOwner(host, baseDomain);
      if (owner && (owner.service !== spec.service || owner.environment !== spec.environment)) {
        throw new InputError(`spec.routes: ${host} is the host of service ${owner.service} in ${owner.environment}; route a host of ${spec.service}'s own (${gatewayHost(spec.service, spec.environment, baseDomain)}) or a name of your own`);
      }
      const other = gateway.routedBy(host, r.path);
      if (other && (other.service !== spec.service || other.environment !== spec.environment)) throw new ConflictError(`spec.routes: ${host}${r.path} is routed to ${other.service} in ${other.environment}`);
    }
  }

  return {
    async deploy(principal, input) {
      authorize(principal, DEPLOY, { type: 'service' });
      const parsed = WorkloadSpec.safeParse(input.spec);
      if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; '));
      const spec = parsed.data;
      checkRoutes(spec);
      const resolved = await resolveSecrets(spec);
      if (deps.admit) {
        const verdict = await deps.admit(principal, renderManifests(spec, undefined, baseDomain), spec);
        // Refused before any record or process exists, as a Kubernetes admission webhook refuses (400).
        if (!verdict.allowed) throw new InputError(`the release of ${spec.service} to ${spec.environment} was denied by policy: ${verdict.denials.join('; ')}`);
      }
      const actor = principalRef(principal);
      const at = now();
      let release: Release = { id: newId(), service: spec.service, environment: spec.environment, version: spec.version, spec, phase: 'starting', message: null, createdBy: actor, createdAt: at, updatedAt: at };
      await db.transaction(async (tx) => {
        await store.insertRelease(tx, release);
        await ledger.append(event('runtime.release.started', release, { ...base(release), artifactDigest: spec.artifact.digest, replicas: spec.replicas }, actor), { db: tx });
      });
      release = await run(release, resolved, actor);
      if (release.phase !== 'ready') return release;
      const previous = gateway.split(spec.service, spec.environment);
      if ((input.traffic ?? 'replace') === 'replace' || previous === undefined) {
        await applySplit(spec.service, spec.environment, { stable: release.id, canaryWeightPercent: 0, sticky: previous?.sticky ?? false }, actor);
        for (const old of [previous?.stable, previous?.canary]) {
          if (old === undefined || old === release.id) continue;
          const oldRelease = await store.getRelease(db, old).catch(() => undefined);
          if (oldRelease && oldRelease.phase === 'ready') await stopRunning(oldRelease, `replaced by release ${release.id} (${release.version})`, actor);
        }
      }
      return release;
    },
    async stopRelease(principal, releaseId, reason) {
      authorize(principal, DEPLOY, { type: 'release', id: releaseId });
      const release = await store.getRelease(db, releaseId);
      if (release.phase === 'stopped' || release.phase === 'failed') return release;
      return stopRunning(release, reason ?? 'stopped on request', principalRef(principal));
    },
    async setTraffic(principal, service, environment, input) {
      authorize(principal, DEPLOY, { type: 'service', id: service });
      const split = TrafficSplit.parse(input);
      for (const id of [split.stable, split.canary]) {
        if (id === undefined) continue;
        const r = await store.getRelease(db, id);
        if (r.service !== service || r.environment !== environment) throw new InputError(`release ${id} is ${r.service} in ${r.environment}, not ${service} in ${environment}`);
        if (r.phase !== 'ready') throw new InputError(`release ${id} is ${r.phase}; only a ready release takes traffic`);
      }
      await applySplit(service, environment, split, principalRef(principal));
    },
    traffic(principal, service, environment) {
      authorize(principal, READ);
      return gateway.split(service, environment);
    },
    trafficStats(principal, service, environment) {
      authorize(principal, READ);
      return gateway.stats(service, environment);
    },
    async release(principal, id) {
      authorize(principal, READ);
      return store.getRelease(db, id);
    },
    async releases(principal, filter) {
      authorize(principal, READ);
      return store.listReleases(db, filter, filter.phases ? 10_000 : 100);
    },
    replicas(principal, releaseId) {
      authorize(principal, READ);
      return driver.replicas(releaseId);
    },
    async manifests(principal, releaseId) {
      authorize(principal, READ);
      const release = await store.getRelease(db, releaseId);
      const split = gateway.split(release.service, release.environment);
      if (split?.canary === release.id) {
        const stable = await store.getRelease(db, split.stable);
        return renderManifests(stable.spec, { spec: release.spec, weightPercent: split.canaryWeightPercent }, baseDomain);
      }
      return renderManifests(release.spec, undefined, baseDomain);
    },
    async logs(principal, service, environment, query) {
      authorize(principal, READ);
      return driver.logs(service, environment, { grep: grepOf(query.grep), since: query.since, limit: query.limit });
    },
    followLogs(principal, service, environment, query, listener) {
      authorize(principal, READ);
      return driver.followLogs(service, environment, { grep: grepOf(query.grep) }, listener);
    },
    async start() {
      // Re-adopting is impossible: a child's stdout/stderr pipes die with the server that held them, and
      // its logs with them. So processes left by a crash are killed and the releases restarted.
      for (const p of await store.listProcesses(db)) {
        if (await isOurProcess(p.pid, p.releaseId)) {
          try {
            process.kill(-p.pid, 'SIGKILL');
          } catch {
            // gone in between
          }
        }
      }
      await store.deleteProcesses(db);
      const splits = await store.listTraffic(db);
      for (const s of splits) {
        gateway.setSplit(s.service, s.environment, s.split);
        const stable = await store.getRelease(db, s.split.stable).catch(() => undefined);
        if (stable) setRoutes(s.service, s.environment, stable.spec.routes);
      }
      for (const r of await store.listReleases(db, { phases: ['starting', 'stopping'] }, 1000)) {
        await store.updateReleasePhase(db, r.id, r.phase === 'starting' ? 'failed' : 'stopped', `the server restarted while it was ${r.phase}`, now());
      }
      const toRestart = await store.listReleases(db, { phases: ['ready'] }, 1000);
      // Restarted in the background: serving the API does not wait for workloads' readiness.
      void Promise.all(
        toRestart.map(async (r) => {
          try {
            const restarted = await run(r, await resolveSecrets(r.spec), SYSTEM);
            if (restarted.phase === 'failed') log.warn({ releaseId: r.id, reason: restarted.message }, 'release did not come back after restart');
          } catch (err) {
            log.error({ err, releaseId: r.id }, 'could not restart release');
          }
        }),
      );
    },
    listen: () => gateway.listen(),
    gatewayPort: () => gateway.port(),
    gatewayHost: (service, environment) => gatewayHost(service, environment, baseDomain),
    async stop() {
      await gateway.close();
      await driver.stopAll();
      await store.deleteProcesses(db).catch(() => undefined);
    },
  };
}
