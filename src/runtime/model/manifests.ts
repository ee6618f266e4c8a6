import { createHash } from 'node:crypto';
import { compileRoutePath } from './route-path.js';
import { gatewayHost, SECRET_PLACEHOLDER, type Probe, type WorkloadSpec } from './workload.js';

/**
 * Kubernetes-shaped manifests rendered from a workload spec, for every runtime (DESIGN principle 5):
 * the guardrail policies check this document whether the local driver or a cluster runs it.
 * Plain JSON-compatible objects; nothing here talks to a cluster.
 */
export type JsonManifest = { apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> };

export const GATEWAY_NAME = 'plinth-gateway';
/** Served when a spec lists no ports: workloads serve HTTP on $PORT. */
const DEFAULT_PORT = { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' as const };

/** `1.4.0+build.7` → `1-4-0-build-7`: a version as part of a DNS-1035 name. */
export function versionSlug(version: string): string {
  return version.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'v';
}

/** The name of one version's Deployment and Service: `<service>-<version>`, at most 63 characters. */
export function workloadName(spec: Pick<WorkloadSpec, 'service' | 'version'>): string {
  return `${spec.service}-${versionSlug(spec.version)}`.slice(0, 63).replace(/-+$/, '');
}

function labelsOf(spec: WorkloadSpec): Record<string, string> {
  return {
    ...spec.labels,
    'app.kubernetes.io/name': spec.service,
    'app.kubernetes.io/version': versionSlug(spec.version).slice(0, 63),
    'app.kubernetes.io/managed-by': 'plinth',
    'plinth.dev/environment': spec.environment,
  };
}

const portsOf = (spec: WorkloadSpec) => (spec.ports.length > 0 ? spec.ports : [DEFAULT_PORT]);

function renderProbe(probe: Probe, defaultPort: number): Record<string, unknown> {
  const action = probe.http ? { httpGet: { path: probe.http.path, port: probe.http.port ?? defaultPort } } : { exec: { command: probe.exec!.command } };
  return {
    ...action,
    periodSeconds: Math.max(1, Math.round(probe.periodMs / 1000)),
    timeoutSeconds: Math.max(1, Math.round(probe.timeoutMs / 1000)),
    failureThreshold: probe.failureThreshold,
  };
}

function quantities(q: WorkloadSpec['limits']): Record<string, string> | undefined {
  const out = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function renderDeployment(spec: WorkloadSpec): JsonManifest {
  const labels = labelsOf(spec);
  const ports = portsOf(spec);
  const containerPort = ports[0]!.targetPort ?? ports[0]!.port;
  const env = [
    ...Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    ...spec.secrets.flatMap((s) => {
      const [name, key] = s.ref.split('/');
      const fromSecret = (env: string) => ({ name: env, valueFrom: { secretKeyRef: { name: name!, key: key ?? s.env } } });
      if (s.template === undefined) return [fromSecret(s.env)];
      // A template is a dependent variable: Kubernetes expands $(VAR) from variables defined before it.
      return [fromSecret(`${s.env}_SECRET`), { name: s.env, value: s.template.replace(SECRET_PLACEHOLDER, () => `$(${s.env}_SECRET)`) }];
    }),
  ];
  const resources = { limits: quantities(spec.limits), requests: quantities(spec.requests) };
  const container: Record<string, unknown> = {
    name: spec.service,
    image: spec.artifact.image ?? `plinth.local/${spec.service}@${spec.artifact.digest}`,
    command: spec.command,
    ...(spec.args.length > 0 ? { args: spec.args } : {}),
    ports: ports.map((p) => ({ name: p.name, containerPort: p.targetPort ?? p.port, protocol: p.protocol })),
    ...(env.length > 0 ? { env } : {}),
    ...(resources.limits || resources.requests ? { resources: Object.fromEntries(Object.entries(resources).filter(([, v]) => v)) } : {}),
    ...(spec.readiness ? { readinessProbe: renderProbe(spec.readiness, containerPort) } : {}),
    ...(spec.liveness ? { livenessProbe: renderProbe(spec.liveness, containerPort) } : {}),
    ...(spec.files.length + spec.volumes.length > 0
      ? {
          volumeMounts: [
            ...spec.files.map((f, i) => ({ name: 'files', mountPath: f.target, subPath: `file-${i}`, readOnly: true })),
            ...spec.volumes.map((v) => ({ name: `volume-${v.name}`, mountPath: v.target, ...(v.readOnly ? { readOnly: true } : {}) })),
          ],
        }
      : {}),
  };
  const volumes = [
    ...(spec.files.length > 0 ? [{ name: 'files', configMap: { name: filesConfigMapName(spec), defaultMode: 0o444 } }] : []),
    ...spec.volumes.map((v) => ({ name: `volume-${v.name}`, persistentVolumeClaim: { claimName: v.name, ...(v.readOnly ? { readOnly: true } : {}) } })),
  ];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: workloadName(spec),
      namespace: spec.environment,
      labels,
      annotations: { 'plinth.dev/artifact-digest': spec.artifact.digest, 'plinth.dev/version': spec.version, ...resourceAnnotations(spec) },
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': spec.service, 'app.kubernetes.io/version': labels['app.kubernetes.io/version']! } },
      template: {
        metadata: { labels },
        spec: { containers: [container], ...(volumes.length > 0 ? { volumes } : {}), terminationGracePeriodSeconds: Math.ceil(spec.terminationGraceMs / 1000) },
      },
    },
  };
}

/** Resource refs travel as an annotation: the resources layer (not Kubernetes) provisions them. */
function resourceAnnotations(spec: WorkloadSpec): Record<string, string> {
  return Object.keys(spec.resources).length > 0 ? { 'plinth.dev/resources': JSON.stringify(spec.resources) } : {};
}

export function renderService(spec: WorkloadSpec): JsonManifest {
  const labels = labelsOf(spec);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: workloadName(spec), namespace: spec.environment, labels },
    spec: {
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': spec.service, 'app.kubernetes.io/version': labels['app.kubernetes.io/version']! },
      ports: portsOf(spec).map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol })),
    },
  };
}

const filesConfigMapName = (spec: WorkloadSpec) => `${workloadName(spec).slice(0, 57).replace(/-+$/, '')}-files`;

/** The ConfigMap a version's files are mounted from (binary data: Score files may be binary). */
export function renderFilesConfigMap(spec: WorkloadSpec): JsonManifest & { binaryData: Record<string, string> } {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: filesConfigMapName(spec), namespace: spec.environment, labels: labelsOf(spec) },
    spec: {},
    binaryData: Object.fromEntries(spec.files.map((f, i) => [`file-${i}`, f.content])),
  };
}

/**
 * The HTTPRoutes of a service's `routes`: one per host, each rule matching its paths (a literal path as
 * PathPrefix, a pattern as RegularExpression), sending to the same weighted backends as the service's own.
 */
export function renderRouteHttpRoutes(backends: readonly { spec: WorkloadSpec; weight: number }[]): JsonManifest[] {
  const first = backends[0];
  if (!first) return [];
  const { service, environment } = first.spec;
  const hosts = [...new Set(first.spec.routes.map((r) => r.host))];
  return hosts.map((host) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name: `${service.slice(0, 50)}-${createHash('sha256').update(host).digest('hex').slice(0, 8)}`,
      namespace: environment,
      labels: { 'app.kubernetes.io/name': service, 'app.kubernetes.io/managed-by': 'plinth', 'plinth.dev/route-of': service },
    },
    spec: {
      parentRefs: [{ name: GATEWAY_NAME }],
      hostnames: [host],
      rules: first.spec.routes
        .filter((r) => r.host === host)
        .map((r) => ({
          matches: [{ path: compileRoutePath(r.path).pattern ? { type: 'RegularExpression', value: `${r.path}(/.*)?` } : { type: 'PathPrefix', value: r.path } }],
          backendRefs: backends.map((b) => ({ name: workloadName(b.spec), port: routePort(b.spec, b.spec.routes.find((x) => x.host === r.host && x.path === r.path)?.port), weight: b.weight })),
        })),
    },
  }));
}

/** The Service port a route sends to: the one it names, else the first. */
function routePort(spec: WorkloadSpec, port: string | number | undefined): number {
  const ports = portsOf(spec);
  return (ports.find((p) => p.name === port || p.port === port) ?? ports[0]!).port;
}

/** A Gateway API HTTPRoute splitting `<service>.<environment>.<baseDomain>` between versions by weight. */
export function renderHttpRoute(backends: readonly { spec: WorkloadSpec; weight: number }[], baseDomain?: string): JsonManifest {
  const first = backends[0];
  if (!first) throw new Error('an HTTPRoute needs at least one backend');
  const { service, environment } = first.spec;
  if (backends.some((b) => b.spec.service !== service || b.spec.environment !== environment)) {
    throw new Error('every backend of an HTTPRoute must be a version of the same service in the same environment');
  }
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: service, namespace: environment, labels: { 'app.kubernetes.io/name': service, 'app.kubernetes.io/managed-by': 'plinth' } },
    spec: {
      parentRefs: [{ name: GATEWAY_NAME }],
      hostnames: [gatewayHost(service, environment, baseDomain)],
      rules: [{ backendRefs: backends.map((b) => ({ name: workloadName(b.spec), port: portsOf(b.spec)[0]!.port, weight: b.weight })) }],
    },
  };
}

/** Deployment + Service (+ files ConfigMap) per version, and the HTTPRoutes splitting traffic between the versions. */
export function renderManifests(stable: WorkloadSpec, canary?: { spec: WorkloadSpec; weightPercent: number }, baseDomain?: string): JsonManifest[] {
  const versionManifests = (spec: WorkloadSpec) => [renderDeployment(spec), renderService(spec), ...(spec.files.length > 0 ? [renderFilesConfigMap(spec)] : [])];
  const backends = canary
    ? [
        { spec: stable, weight: 100 - canary.weightPercent },
        { spec: canary.spec, weight: canary.weightPercent },
      ]
    : [{ spec: stable, weight: 100 }];
  return [...versionManifests(stable), ...(canary ? versionManifests(canary.spec) : []), renderHttpRoute(backends, baseDomain), ...renderRouteHttpRoutes(backends)];
}
