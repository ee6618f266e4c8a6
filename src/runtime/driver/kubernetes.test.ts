import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHttpRoute, renderService } from '../model/manifests.js';
import { parseWorkloadSpec } from '../model/workload.js';
import { createKubernetesDriver, deploymentForCluster, renderEnvSecret } from './kubernetes.js';

// What runs here: the manifests the Kubernetes driver applies, checked against the Kubernetes API's own
// schemas (the models @kubernetes/client-node generates from the API's OpenAPI document), and the
// driver's API calls — server-side apply, status reads, deletes — against an HTTP server that records
// them and answers like the API server's discovery and apply endpoints. No cluster runs here.

const digest = `sha256:${'d'.repeat(64)}`;
const spec = (over: Record<string, unknown> = {}) =>
  parseWorkloadSpec({
    service: 'orders', environment: 'staging', version: '2.0.0',
    artifact: { kind: 'directory', path: '/srv/orders', digest, image: 'registry.local/orders@' + digest }, command: ['node', 'main.js'],
    ports: [{ name: 'http', port: 80, targetPort: 8080 }], env: { LOG_LEVEL: 'info' },
    secrets: [{ env: 'API_KEY', ref: 'orders-keys/api' }, { env: 'DATABASE_URL', ref: 'claim.staging.orders-db/password', template: 'postgres://app:${secret}@db/app' }],
    replicas: 2, readiness: { http: { path: '/healthz' } }, limits: { memory: '256Mi', cpu: '500m' }, requests: { memory: '64Mi', cpu: '100m' }, ...over,
  });

/** Every field of `value` is one the Kubernetes model `type` declares, with a value of its type (paths of the misfits). */
function schemaProblems(value: unknown, type: string, path = ''): string[] {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => schemaProblems(v, array[1]!, `${path}[${i}]`)) : [`${path}: expected an array`];
  if (type === '{ [key: string]: string; }') return value !== null && typeof value === 'object' && Object.values(value).every((v) => typeof v === 'string') ? [] : [`${path}: expected a map of strings`];
  if (type === 'string') return typeof value === 'string' ? [] : [`${path}: expected a string`];
  if (type === 'number') return typeof value === 'number' ? [] : [`${path}: expected a number`];
  if (type === 'boolean') return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
  if (type === 'IntOrString') return typeof value === 'number' || typeof value === 'string' ? [] : [`${path}: expected an int or string`];
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => { baseName: string; type: string }[] } | undefined>)[type];
  if (!model?.getAttributeTypeMap) return [`${path}: no model ${type}`];
  if (value === null || typeof value !== 'object') return [`${path}: expected an object (${type})`];
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, v]) => (fields.has(key) ? schemaProblems(v, fields.get(key)!, `${path}.${key}`) : [`${path}.${key}: not a field of ${type}`]));
}

describe('Kubernetes manifests', () => {
  it('are valid against the Kubernetes API schemas, with secret values only in the release’s Secret', () => {
    const deployment = deploymentForCluster(spec());
    expect(schemaProblems(deployment, 'V1Deployment')).toEqual([]);
    expect(schemaProblems(renderService(spec()), 'V1Service')).toEqual([]);
    const { spec: _unused, ...secret } = renderEnvSecret(spec(), { API_KEY: 'k-123', DATABASE_URL_SECRET: 'hunter2' });
    expect(schemaProblems(secret, 'V1Secret')).toEqual([]);
    const env = (deployment.spec.template as { spec: { containers: { env: unknown[] }[] } }).spec.containers[0]!.env;
    expect(env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'orders-2-0-0-env', key: 'API_KEY' } } },
      { name: 'DATABASE_URL_SECRET', valueFrom: { secretKeyRef: { name: 'orders-2-0-0-env', key: 'DATABASE_URL_SECRET' } } },
      { name: 'DATABASE_URL', value: 'postgres://app:$(DATABASE_URL_SECRET)@db/app' },
    ]);
    expect(JSON.stringify(deployment)).not.toContain('hunter2');
    // A field the API does not know is caught (the check is not vacuous).
    expect(schemaProblems({ ...deployment, spec: { ...deployment.spec, replica: 3 } }, 'V1Deployment')).toEqual(['.spec.replica: not a field of V1DeploymentSpec']);
  });

  it('renders the HTTPRoute of a split with Gateway API v1 fields and weights summing to 100', () => {
    const route = renderHttpRoute([{ spec: spec(), weight: 75 }, { spec: spec({ version: '2.1.0' }), weight: 25 }]) as unknown as { apiVersion: string; kind: string; spec: { parentRefs: { name: string }[]; hostnames: string[]; rules: { backendRefs: { name: string; port: number; weight: number }[] }[] } };
    expect(route).toMatchObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' });
    expect(Object.keys(route.spec).sort()).toEqual(['hostnames', 'parentRefs', 'rules']);
    expect(route.spec.rules[0]!.backendRefs).toEqual([{ name: 'orders-2-0-0', port: 80, weight: 75 }, { name: 'orders-2-1-0', port: 80, weight: 25 }]);
  });
});

interface Recorded { method: string; path: string; contentType: string | undefined; body: string }

describe('Kubernetes driver against an API endpoint', () => {
  let server: Server;
  let dir: string;
  const recorded: Recorded[] = [];
  let readyAfterReads = 2;
  const discovery: Record<string, { name: string; kind: string }[]> = {
    '/api/v1': [{ name: 'secrets', kind: 'Secret' }, { name: 'services', kind: 'Service' }],
    '/apis/apps/v1': [{ name: 'deployments', kind: 'Deployment' }],
    '/apis/gateway.networking.k8s.io/v1': [{ name: 'httproutes', kind: 'HTTPRoute' }],
  };
  const bodyOf = (req: IncomingMessage) => new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      void bodyOf(req).then((body) => {
        const url = new URL(req.url!, 'http://x');
        res.setHeader('content-type', 'application/json');
        const list = discovery[url.pathname];
        if (req.method === 'GET' && list) {
          res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: url.pathname.replace(/^\/apis?\//, ''), resources: list.map((r) => ({ ...r, namespaced: true, singularName: '', verbs: ['get', 'patch', 'delete'] })) }));
          return;
        }
        recorded.push({ method: req.method!, path: `${url.pathname}${url.search}`, contentType: req.headers['content-type'], body });
        if (req.method === 'GET' && url.pathname.includes('/deployments/')) {
          readyAfterReads -= 1;
          res.end(JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, status: { readyReplicas: readyAfterReads <= 0 ? 2 : 0 } }));
          return;
        }
        res.end(req.method === 'PATCH' ? body || '{}' : JSON.stringify({ kind: 'Status', status: 'Success' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), 'plinth-kube-'));
    writeFileSync(join(dir, 'config'), `apiVersion: v1
kind: Config
clusters: [{ name: local, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: plinth, user: { token: t0k3n } }]
contexts: [{ name: local, context: { cluster: local, user: plinth } }]
current-context: local
`);
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies Secret, Deployment and Service with server-side apply, waits for ready replicas, weights the HTTPRoute, deletes on stop', async () => {
    const driver = await createKubernetesDriver({ kubeconfig: join(dir, 'config'), pollMs: 20, verifyArtifact: async () => undefined });
    const release = { id: 'rel-1', spec: spec() };
    await driver.start(release, { API_KEY: 'k-123', DATABASE_URL_SECRET: 'hunter2' });
    const patches = recorded.filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => p.path)).toEqual([
      '/api/v1/namespaces/staging/secrets/orders-2-0-0-env?fieldManager=plinth&force=true',
      '/apis/apps/v1/namespaces/staging/deployments/orders-2-0-0?fieldManager=plinth&force=true',
      '/api/v1/namespaces/staging/services/orders-2-0-0?fieldManager=plinth&force=true',
    ]);
    for (const p of patches) expect(p.contentType).toBe('application/apply-patch+yaml');
    // The secret value goes to the Secret only.
    expect(patches[0]!.body).toContain('hunter2');
    expect(patches[1]!.body).not.toContain('hunter2');
    expect(recorded.filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(2);
    expect(driver.replicas('rel-1').map((r) => r.phase)).toEqual(['ready', 'ready']);
    expect(driver.readyEndpoints('rel-1')).toEqual([]);

    await driver.applyTraffic('orders', 'staging', [{ spec: spec(), weight: 90 }, { spec: spec({ version: '2.1.0' }), weight: 10 }]);
    const route = recorded.at(-1)!;
    expect(route.path).toBe('/apis/gateway.networking.k8s.io/v1/namespaces/staging/httproutes/orders?fieldManager=plinth&force=true');
    expect(route.body).toMatch(/"weight":90/);

    recorded.length = 0;
    await driver.stop('rel-1');
    expect(recorded.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'DELETE /api/v1/namespaces/staging/services/orders-2-0-0',
      'DELETE /apis/apps/v1/namespaces/staging/deployments/orders-2-0-0',
      'DELETE /api/v1/namespaces/staging/secrets/orders-2-0-0-env',
    ]);
    expect(driver.isRunning('rel-1')).toBe(false);
  });

  it('refuses a release whose artifact does not verify before anything reaches the cluster', async () => {
    recorded.length = 0;
    const driver = await createKubernetesDriver({ kubeconfig: join(dir, 'config'), verifyArtifact: async () => { throw new Error('artifact does not verify'); } });
    await expect(driver.start({ id: 'rel-2', spec: spec() }, {})).rejects.toThrow(/artifact does not verify/);
    expect(recorded).toEqual([]);
  });
});
