import { describe, expect, it } from 'vitest';
import { evaluatePolicy, parseKyvernoPolicies, type JsonObject } from '../../policy/index.js';
import { renderDeployment, renderHttpRoute, renderManifests, renderService, type JsonManifest } from './manifests.js';
import { parseWorkloadSpec } from './workload.js';

const digest = `sha256:${'b'.repeat(64)}`;
const spec = (over: Record<string, unknown> = {}) =>
  parseWorkloadSpec({
    service: 'payments', environment: 'production', version: '1.4.0+build.7',
    artifact: { kind: 'directory', path: '/srv/payments', digest }, command: ['node'], args: ['server.js'],
    ports: [{ name: 'http', port: 80, targetPort: 8080 }], env: { LOG_LEVEL: 'info' }, secrets: [{ env: 'DB_PASSWORD', ref: 'payments-db/password' }],
    replicas: 3, readiness: { http: { path: '/healthz' } }, liveness: { exec: { command: ['true'] }, periodMs: 5000 },
    limits: { memory: '256Mi', cpu: '500m' }, ...over,
  });

const isDnsLabel = (s: unknown) => typeof s === 'string' && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(s) && s.length <= 63;

/** The parts of a rendered manifest's spec that the shape checks read. */
interface ContainerShape {
  name?: unknown;
  image?: unknown;
  ports?: { containerPort: number }[];
  env?: unknown[];
}
interface ManifestSpecShape {
  selector?: { matchLabels?: Record<string, string> };
  template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: ContainerShape[] } };
  ports?: { port: number }[];
  parentRefs?: unknown[];
  rules?: { backendRefs?: { name: unknown; weight: number; port: unknown }[] }[];
}

/** Required fields of apps/v1 Deployment, v1 Service and gateway.networking.k8s.io/v1 HTTPRoute, checked by hand (no schema package here). */
function checkShape(m: JsonManifest): string[] {
  const problems: string[] = [];
  const s = m.spec as ManifestSpecShape;
  if (!isDnsLabel(m.metadata.name)) problems.push(`metadata.name ${m.metadata.name}`);
  if (!isDnsLabel(m.metadata.namespace)) problems.push('metadata.namespace');
  for (const [k, v] of Object.entries(m.metadata.labels)) if (k.length > 253 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v) || v.length > 63) problems.push(`label ${k}=${v}`);
  if (m.kind === 'Deployment') {
    if (m.apiVersion !== 'apps/v1') problems.push('apiVersion');
    const matchLabels = s.selector?.matchLabels;
    const podLabels = s.template?.metadata?.labels;
    if (!matchLabels || Object.entries(matchLabels).some(([k, v]) => podLabels?.[k] !== v)) problems.push('selector must match template labels');
    const containers = s.template?.spec?.containers;
    if (!Array.isArray(containers) || containers.length === 0) problems.push('containers');
    for (const c of containers ?? []) {
      if (!isDnsLabel(c.name)) problems.push('container name');
      if (typeof c.image !== 'string' || c.image === '') problems.push('container image');
      for (const p of c.ports ?? []) if (!(p.containerPort >= 1 && p.containerPort <= 65535)) problems.push('containerPort');
    }
  } else if (m.kind === 'Service') {
    if (m.apiVersion !== 'v1') problems.push('apiVersion');
    if (!Array.isArray(s.ports) || s.ports.length === 0) problems.push('ports');
    for (const p of s.ports ?? []) if (!(p.port >= 1 && p.port <= 65535)) problems.push('port');
  } else if (m.kind === 'HTTPRoute') {
    if (m.apiVersion !== 'gateway.networking.k8s.io/v1') problems.push('apiVersion');
    if (!Array.isArray(s.parentRefs) || s.parentRefs.length === 0) problems.push('parentRefs');
    for (const b of s.rules?.[0]?.backendRefs ?? []) if (!isDnsLabel(b.name) || !(b.weight >= 0 && b.weight <= 1_000_000) || typeof b.port !== 'number') problems.push(`backendRef ${JSON.stringify(b)}`);
  } else problems.push(`kind ${m.kind}`);
  return problems;
}

describe('manifests', () => {
  it('renders a Deployment, Service and HTTPRoute of the required shape', () => {
    const manifests = renderManifests(spec());
    expect(manifests.map((m) => m.kind)).toEqual(['Deployment', 'Service', 'HTTPRoute']);
    for (const m of manifests) expect(checkShape(m), m.kind).toEqual([]);
    const d = renderDeployment(spec());
    expect(d.metadata.name).toBe('payments-1-4-0-build-7');
    const container = (d.spec as ManifestSpecShape).template?.spec?.containers?.[0];
    expect(container).toMatchObject({
      command: ['node'], args: ['server.js'], ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      resources: { limits: { memory: '256Mi', cpu: '500m' } },
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, failureThreshold: 3 },
      livenessProbe: { exec: { command: ['true'] }, periodSeconds: 5 },
    });
    expect(container?.env).toContainEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'payments-db', key: 'password' } } });
    expect(renderService(spec()).spec).toMatchObject({ ports: [{ port: 80, targetPort: 8080 }] });
  });

  it('renders a secret template as a Kubernetes dependent variable, and refuses a template without ${secret}', () => {
    const templated = spec({ secrets: [{ env: 'DATABASE_URL', ref: 'payments-db/password', template: 'postgres://app:${secret}@db/app' }] });
    const env = (renderDeployment(templated).spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec.containers[0]!.env;
    expect(env).toEqual(expect.arrayContaining([
      { name: 'DATABASE_URL_SECRET', valueFrom: { secretKeyRef: { name: 'payments-db', key: 'password' } } },
      { name: 'DATABASE_URL', value: 'postgres://app:$(DATABASE_URL_SECRET)@db/app' },
    ]));
    expect(() => spec({ secrets: [{ env: 'X', ref: 'a/b', template: 'no placeholder' }] })).toThrow(/must contain \$\{secret\} exactly once/);
  });

  it('splits an HTTPRoute between two versions by weight', () => {
    const manifests = renderManifests(spec(), { spec: spec({ version: '1.5.0' }), weightPercent: 10 });
    expect(manifests.map((m) => m.kind)).toEqual(['Deployment', 'Service', 'Deployment', 'Service', 'HTTPRoute']);
    for (const m of manifests) expect(checkShape(m), m.kind).toEqual([]);
    expect(manifests[4]!.spec).toMatchObject({
      hostnames: ['payments.production.localhost'],
      rules: [{ backendRefs: [{ name: 'payments-1-4-0-build-7', weight: 90 }, { name: 'payments-1-5-0', weight: 10 }] }],
    });
    expect(() => renderHttpRoute([{ spec: spec(), weight: 50 }, { spec: spec({ service: 'orders' }), weight: 50 }])).toThrow(/same service/);
  });

  it('mounts files from a ConfigMap and volumes from claims, and routes hosts and paths with their own HTTPRoutes', () => {
    const withMounts = spec({
      files: [{ target: '/etc/app/config.json', content: Buffer.from('{}').toString('base64') }],
      volumes: [{ name: 'payments-data', target: '/data', source: '/var/lib/plinth/volumes/production/payments-data', readOnly: true }],
      routes: [{ host: 'shop.example.com', path: '/pay' }, { host: 'shop.example.com', path: '/v[0-9]+/pay', port: 'http' }, { host: 'pay.example.com', path: '/' }],
    });
    const manifests = renderManifests(withMounts, { spec: spec({ version: '1.5.0', routes: withMounts.routes }), weightPercent: 25 });
    expect(manifests.map((m) => m.kind)).toEqual(['Deployment', 'Service', 'ConfigMap', 'Deployment', 'Service', 'HTTPRoute', 'HTTPRoute', 'HTTPRoute']);
    const pod = (manifests[0]!.spec as { template: { spec: { volumes: unknown[]; containers: { volumeMounts: unknown[] }[] } } }).template.spec;
    expect(pod.containers[0]!.volumeMounts).toEqual([
      { name: 'files', mountPath: '/etc/app/config.json', subPath: 'file-0', readOnly: true },
      { name: 'volume-payments-data', mountPath: '/data', readOnly: true },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'files', configMap: { name: 'payments-1-4-0-build-7-files', defaultMode: 0o444 } },
      { name: 'volume-payments-data', persistentVolumeClaim: { claimName: 'payments-data', readOnly: true } },
    ]);
    expect(manifests[2]).toMatchObject({ kind: 'ConfigMap', binaryData: { 'file-0': 'e30=' } });
    const [, shop, pay] = manifests.filter((m) => m.kind === 'HTTPRoute');
    expect(shop!.spec).toMatchObject({
      hostnames: ['shop.example.com'],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/pay' } }], backendRefs: [{ name: 'payments-1-4-0-build-7', port: 80, weight: 75 }, { name: 'payments-1-5-0', port: 80, weight: 25 }] },
        { matches: [{ path: { type: 'RegularExpression', value: '/v[0-9]+/pay(/.*)?' } }] },
      ],
    });
    expect(pay!.spec).toMatchObject({ hostnames: ['pay.example.com'] });
    expect(() => spec({ routes: [{ host: 'shop.example.com', port: 'grpc' }] })).toThrow(/routes\.0\.port: names no port of the service \(http:80\)/);
    expect(() => spec({ files: [{ target: '/data/x', content: '' }], volumes: [{ name: 'd', target: '/data', source: '/v/d' }] })).toThrow(/\/data overlaps \/data\/x/);
    expect(() => spec({ files: [{ target: '/etc/../etc/passwd', content: '' }] })).toThrow(/normalized absolute path/);
    expect(() => spec({ files: [{ target: '/proc/self/x', content: '' }] })).toThrow(/must not be under \/proc/);
  });

  it('a Kyverno policy requiring limits passes the rendered Deployment with limits and fails it without', () => {
    const [policy] = parseKyvernoPolicies(
      `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: { name: require-limits }
spec:
  validationFailureAction: Enforce
  rules:
    - name: memory-and-cpu-limits
      match: { any: [ { resources: { kinds: [Pod] } } ] }
      validate:
        message: "every container needs memory and cpu limits"
        pattern:
          spec:
            containers:
              - resources:
                  limits:
                    memory: "?*"
                    cpu: "?*"
`,
      'require-limits.yaml',
    );
    const verdict = (m: JsonManifest) => evaluatePolicy(policy!, { operation: 'CREATE', resource: m as unknown as JsonObject }).results.map((r) => r.status);
    expect(verdict(renderDeployment(spec()))).toEqual(['pass']);
    expect(verdict(renderDeployment(spec({ limits: { cpu: '1' } })))).toEqual(['fail']);
  });
});
