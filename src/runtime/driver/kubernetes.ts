/**
 * The Kubernetes driver: the same workload spec, rendered as the same manifests the guardrails judge
 * (Deployment, Service, Gateway API HTTPRoute), applied to a cluster with server-side apply.
 *
 * - start: the release's secret env goes into a Secret of its own (`<workload>-env`; the Deployment's
 *   secretKeyRefs point there, so no value is in the Deployment), then the Deployment and its Service
 *   are applied and the Deployment's status is watched until every replica is ready (or the readiness
 *   deadline passes: the release is deleted and refused, as the local driver does).
 * - traffic: the rollout controller's split becomes the HTTPRoute's backend weights.
 * - stop: the Deployment, Service and Secret are deleted (Kubernetes drains the pods with the pod's
 *   termination grace period).
 *
 * The cluster's Gateway serves the traffic, so the built-in gateway has no endpoints for these
 * releases, and replica logs stay in the cluster (`kubectl logs`). What was run: the rendering, checked
 * against the Kubernetes API's own schemas, and the API calls against a recording HTTP server; no
 * cluster was available to run against (README, Runtime and gateway).
 */
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { renderDeployment, renderFilesConfigMap, renderHttpRoute, renderRouteHttpRoutes, renderService, workloadName, type JsonManifest } from '../model/manifests.js';
import type { TrafficSplit } from '../model/traffic.js';
import type { WorkloadSpec } from '../model/workload.js';
import { verifyDigest, type ArtifactVerifier } from './artifact.js';
import type { LogLine, LogQuery } from './logs.js';
import { ReleaseStartError, type Endpoint, type RuntimeDriver } from './local.js';
import type { ReplicaStatus } from './replica.js';

export interface KubernetesDriverOptions {
  /** A kubeconfig file; its current context names the cluster and credentials. */
  kubeconfig: string;
  /** Who owns the fields Plinth sets (server-side apply). */
  fieldManager?: string;
  /** How often a starting release's Deployment status is read. */
  pollMs?: number;
  /** Checks the release's artifact (digest, signature, provenance) before anything reaches the cluster. */
  verifyArtifact?: ArtifactVerifier;
  /** HTTPRoute host names are `<service>.<environment>.<baseDomain>` (default `localhost`). */
  baseDomain?: string;
}

/** The secret env of a release, by variable: a Secret of the release's own. */
export function renderEnvSecret(spec: WorkloadSpec, values: Readonly<Record<string, string>>): JsonManifest & { stringData: Record<string, string>; type: string } {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${workloadName(spec)}-env`, namespace: spec.environment, labels: { 'app.kubernetes.io/name': spec.service, 'app.kubernetes.io/managed-by': 'plinth' } },
    spec: {},
    type: 'Opaque',
    stringData: { ...values },
  };
}

/**
 * The Deployment with its secret variables read from the release's own Secret (keys are variable
 * names; a template's secret is under `<VAR>_SECRET`, as renderDeployment names it).
 */
export function deploymentForCluster(spec: WorkloadSpec): JsonManifest {
  const deployment = renderDeployment(spec);
  const template = deployment.spec.template as { spec: { containers: { env?: { name: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[] }[] } };
  const secretName = `${workloadName(spec)}-env`;
  for (const container of template.spec.containers) {
    for (const variable of container.env ?? []) {
      if (variable.valueFrom) variable.valueFrom = { secretKeyRef: { name: secretName, key: variable.name } };
    }
  }
  return deployment;
}

/** A cluster object without the fields the API does not take (`spec: {}` on a Secret). */
const toObject = (m: JsonManifest & Record<string, unknown>): KubernetesObject => {
  const { spec, ...rest } = m;
  return (m.kind === 'Secret' ? rest : { ...rest, spec }) as KubernetesObject;
};

export async function createKubernetesDriver(options: KubernetesDriverOptions): Promise<RuntimeDriver & { applyTraffic(service: string, environment: string, backends: { spec: WorkloadSpec; weight: number }[]): Promise<void> }> {
  // Loaded only when a kubeconfig is configured: the client is large, and most installations run locally.
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  config.loadFromFile(options.kubeconfig);
  const api: KubernetesObjectApi = k8s.KubernetesObjectApi.makeApiClient(config);
  const fieldManager = options.fieldManager ?? 'plinth';
  const pollMs = options.pollMs ?? 1000;
  const releases = new Map<string, { spec: WorkloadSpec; ready: number }>();

  const apply = (object: KubernetesObject) => api.patch(object, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply);
  const remove = async (object: KubernetesObject) => {
    try {
      await api.delete(object, undefined, undefined, undefined, undefined, 'Background');
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  };
  const objectsOf = (spec: WorkloadSpec, secrets: Readonly<Record<string, string>>) => [
    ...(Object.keys(secrets).length > 0 ? [toObject(renderEnvSecret(spec, secrets))] : []),
    ...(spec.files.length > 0 ? [toObject(renderFilesConfigMap(spec))] : []),
    toObject(deploymentForCluster(spec)),
    toObject(renderService(spec)),
  ];

  /** The route HTTPRoutes applied per service and environment (this process's view: a restart forgets them until the next split). */
  const routeNames = new Map<string, string[]>();

  async function stopRelease(id: string) {
    const release = releases.get(id);
    if (!release) return;
    for (const object of objectsOf(release.spec, { present: '' }).reverse()) await remove(object);
    releases.delete(id);
  }

  return {
    async start(release, secrets) {
      if (releases.has(release.id)) return;
      const { spec } = release;
      try {
        await (options.verifyArtifact ?? verifyDigest)(spec.artifact);
      } catch (err) {
        throw new ReleaseStartError((err as Error).message, { cause: err });
      }
      releases.set(release.id, { spec, ready: 0 });
      try {
        for (const object of objectsOf(spec, secrets)) await apply(object);
      } catch (err) {
        await stopRelease(release.id).catch(() => undefined);
        throw new ReleaseStartError(`the cluster refused the release: ${(err as Error).message}`, { cause: err });
      }
      const deadline = Date.now() + (spec.readiness?.deadlineMs ?? 30_000) + 60_000;
      const name = workloadName(spec);
      for (;;) {
        const status = await api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: spec.environment } }).then((d) => (d as { status?: { readyReplicas?: number } }).status);
        const ready = status?.readyReplicas ?? 0;
        releases.set(release.id, { spec, ready });
        if (ready >= spec.replicas) return;
        if (Date.now() > deadline) {
          await stopRelease(release.id).catch(() => undefined);
          throw new ReleaseStartError(`${ready} of ${spec.replicas} replicas of ${name} became ready in the cluster before the deadline`);
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    async stop(releaseId) {
      await stopRelease(releaseId);
    },
    async applyTraffic(service, environment, backends) {
      // The routes' HTTPRoutes of the previous stable go when the new one routes other hosts (or none).
      const wanted = renderRouteHttpRoutes(backends).map((r) => r.metadata.name);
      for (const old of routeNames.get(`${service}.${environment}`) ?? []) {
        if (!wanted.includes(old)) await remove({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: old, namespace: environment } });
      }
      routeNames.set(`${service}.${environment}`, wanted);
      if (backends.length === 0) {
        await remove({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: service, namespace: environment } });
        return;
      }
      await apply(toObject(renderHttpRoute(backends, options.baseDomain)));
      for (const route of renderRouteHttpRoutes(backends)) await apply(toObject(route));
    },
    // The cluster's Gateway routes to the pods; the built-in gateway has nothing to send there.
    readyEndpoints: (): readonly Endpoint[] => [],
    markUnreachable() {},
    replicas(releaseId): ReplicaStatus[] {
      const release = releases.get(releaseId);
      return release
        ? Array.from({ length: release.spec.replicas }, (_, ordinal): ReplicaStatus => ({ ordinal, port: 0, pid: undefined, phase: ordinal < release.ready ? 'ready' : 'starting', restarts: 0, lastExit: undefined, lastProbe: undefined }))
        : [];
    },
    isRunning: (releaseId) => releases.has(releaseId),
    logs: async (): Promise<LogLine[]> => [],
    followLogs: (_service: string, _environment: string, _query: LogQuery) => () => undefined,
    async stopAll() {
      // The cluster keeps running what it runs when Plinth stops: releases are the cluster's, not this process's.
      releases.clear();
    },
  };
}

/** The backends of an HTTPRoute for a split: stable and canary with their weights. */
export function routeBackends(split: TrafficSplit, specOf: (releaseId: string) => WorkloadSpec | undefined): { spec: WorkloadSpec; weight: number }[] {
  const stable = specOf(split.stable);
  const canary = split.canary !== undefined ? specOf(split.canary) : undefined;
  return [
    ...(stable ? [{ spec: stable, weight: 100 - (canary ? split.canaryWeightPercent : 0) }] : []),
    ...(canary ? [{ spec: canary, weight: split.canaryWeightPercent }] : []),
  ];
}
