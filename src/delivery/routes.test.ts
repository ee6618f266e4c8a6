import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { get as httpGet, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../bench/rollout/load.js';
import { buildApp, type App } from '../app.js';
import { startTestApp, testConfig, type TestApp } from '../../test/helpers/app.js';
import { createTestDatabase, testDialects } from '../../test/helpers/dialects.js';
import { until } from '../../test/helpers/kernel.js';
import { signFixtureArtifact } from '../../test/helpers/signing.js';
import { createLogger } from '../kernel/index.js';
import type { WorkloadSpecInput } from '../runtime/index.js';
import type { RolloutView } from './index.js';

// The delivery API through the very app `npm start` runs: guardrails, signed artifacts, the job worker.
const fixtureDir = new URL('../../test/fixtures/runtime/', import.meta.url).pathname;
const spec = (digest: string, service: string, version: string, over: Partial<WorkloadSpecInput> = {}): WorkloadSpecInput => ({
  service, environment: 'production', version, artifact: { kind: 'directory', path: fixtureDir, digest }, command: [process.execPath, 'server.mjs'],
  readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 10_000 }, liveness: { http: { path: '/healthz' } },
  requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' }, labels: { owner: 'shop', 'cost-center': 'cc-1' }, terminationGraceMs: 1000, ...over,
});

for (const dialect of await testDialects()) {
  describe(`delivery API (${dialect})`, () => {
    let t: TestApp;
    let digest: string;
    let member: string;
    let viewer: string;
    const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string | undefined, payload?: unknown) =>
      t.app.server.inject({ method, url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(payload !== undefined ? { payload: payload as object } : {}) });

    beforeAll(async () => {
      t = await startTestApp({ dialect, listen: true });
      digest = await signFixtureArtifact(t.app, { kind: 'directory', path: fixtureDir });
      member = (await t.createUser('mo', 'member')).token;
      viewer = (await t.createUser('vi', 'viewer')).token;
    }, 60_000);
    afterAll(async () => t?.close(), 30_000);

    it('lists the built-in environments; admins create, change and delete others', async () => {
      const list = await call('GET', '/api/delivery/environments', viewer);
      expect(list.statusCode).toBe(200);
      expect((list.json() as { items: { name: string; strategy: { kind: string } }[] }).items.map((e) => [e.name, e.strategy.kind])).toEqual([['staging', 'direct'], ['production', 'canary']]);
      expect((await call('POST', '/api/delivery/environments', member, { name: 'qa' })).statusCode).toBe(403);
      const created = await call('POST', '/api/delivery/environments', t.adminToken, { name: 'qa', strategy: { kind: 'blueGreen', approval: true } });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ name: 'qa', builtin: false, strategy: { kind: 'blueGreen', approval: true, smokeTest: { path: '/' } } });
      expect((await call('POST', '/api/delivery/environments', t.adminToken, { name: 'qa' })).json()).toMatchObject({ error: { name: 'ConflictError', message: 'environment qa already exists' } });
      const patched = await call('PATCH', '/api/delivery/environments/qa', t.adminToken, { strategy: { kind: 'canary', steps: [{ weightPercent: 50 }] } });
      expect(patched.json()).toMatchObject({ strategy: { kind: 'canary', steps: [{ weightPercent: 50, analysis: true, approval: false }], bakeMs: 60_000 } });
      expect((await call('DELETE', '/api/delivery/environments/production', t.adminToken)).json()).toMatchObject({ error: { name: 'ConflictError', message: expect.stringMatching(/built in/) } });
      expect((await call('DELETE', '/api/delivery/environments/qa', t.adminToken)).statusCode).toBe(204);
      expect((await call('GET', '/api/delivery/environments/qa', viewer)).statusCode).toBe(404);
    });

    it('refuses bad input with a 4xx that says what to fix, recording nothing', async () => {
      expect((await call('POST', '/api/delivery/rollouts', undefined, { spec: spec(digest, 'web', '1.0.0') })).statusCode).toBe(401);
      const unknownField = await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'web', '1.0.0'), force: true });
      expect(unknownField.statusCode).toBe(400);
      expect(unknownField.json()).toMatchObject({ error: { name: 'InputError' } });
      const badEnv = await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'web', '1.0.0', { environment: 'moon' }) });
      expect(badEnv.json()).toMatchObject({ error: { name: 'InputError', message: 'environment "moon" does not exist; use one of staging, production or create it (plinth env create moon)' }, response: { statusCode: 400 } });
      const badSpec = await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: { ...spec(digest, 'web', '1.0.0'), replicas: -1 } });
      expect(badSpec.json()).toMatchObject({ error: { name: 'InputError', message: expect.stringMatching(/spec\.replicas/) } });
      const { labels: _labels, ...unlabelled } = spec(digest, 'web', '1.0.0');
      const denied = await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: unlabelled });
      expect(denied.statusCode).toBe(400);
      expect(denied.json()).toMatchObject({ error: { message: expect.stringMatching(/denied by policy: .*require-labels/) } });
      const notOwner = await call('POST', '/api/delivery/rollouts', member, { spec: spec(digest, 'web', '1.0.0') });
      expect(notOwner.json()).toMatchObject({ error: { name: 'NotAllowedError', message: 'deploy services on service web is reserved to its owner group:default/shop' } });
      expect((await call('POST', '/api/delivery/rollouts', viewer, { spec: spec(digest, 'web', '1.0.0') })).statusCode).toBe(403);
      expect((await call('GET', '/api/delivery/rollouts?service=web', viewer)).json()).toEqual({ items: [] });
      expect((await call('GET', '/api/delivery/rollouts/nope', viewer)).statusCode).toBe(404);
      expect((await call('POST', '/api/delivery/rollouts/abc/explode', t.adminToken)).statusCode).toBe(400);
      expect((await call('POST', '/api/delivery/services/web/webhooks', t.adminToken, { url: 'ftp://x' })).statusCode).toBe(400);
    });

    it('deploys a Score file (given the labels the guardrails need) and lists it in the service history', { timeout: 40_000 }, async () => {
      const score = [
        'apiVersion: score.dev/v1b1', 'metadata:', '  name: catalogue', '  annotations: {}', 'containers:', '  main:', '    image: catalogue:1.0.0',
        `    command: ["${process.execPath}", "server.mjs"]`, '    resources:', '      requests: { cpu: 100m, memory: 64Mi }', '      limits: { memory: 256Mi }',
        '    readinessProbe:', '      httpGet: { path: /healthz, port: 8080 }', '    livenessProbe:', '      httpGet: { path: /healthz, port: 8080 }',
        'service:', '  ports:', '    web: { port: 8080 }',
      ].join('\n');
      const input = { score, environment: 'staging', version: '1.0.0', artifact: { kind: 'directory', path: fixtureDir, digest } };
      // A Score file has no labels of its own: without them the guardrails refuse it, saying why.
      expect((await call('POST', '/api/delivery/rollouts', t.adminToken, input)).json()).toMatchObject({ error: { message: expect.stringMatching(/denied by policy: .*require-labels/) } });
      const started = await call('POST', '/api/delivery/rollouts', t.adminToken, { ...input, labels: { owner: 'shop', 'cost-center': 'cc-1' } });
      expect(started.statusCode, started.body).toBe(201);
      const view = started.json() as RolloutView;
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${view.id}`, viewer)).json() as RolloutView).phase === 'succeeded', 15_000, 50);
      const history = (await call('GET', '/api/delivery/rollouts?service=catalogue', viewer)).json() as { items: RolloutView[] };
      expect(history.items.map((r) => [r.version, r.phase])).toEqual([['1.0.0', 'succeeded']]);
    });

    it('keeps variables per environment, which a Score `environment` resource reads', { timeout: 40_000 }, async () => {
      const refused = await call('POST', '/api/delivery/environments', t.adminToken, { name: 'qa', variables: { '1BAD': 'x' } });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ error: { message: expect.stringMatching(/variables.*must be a variable name/) } });
      const created = await call('POST', '/api/delivery/environments', t.adminToken, { name: 'qa', variables: { GREETING: 'hello' } });
      expect(created.statusCode, created.body).toBe(201);
      expect((await call('PATCH', '/api/delivery/environments/qa', viewer, { variables: {} })).statusCode).toBe(403);
      const patched = await call('PATCH', '/api/delivery/environments/qa', t.adminToken, { variables: { GREETING: 'hello', WHO: 'qa team' } });
      expect(patched.json()).toMatchObject({ name: 'qa', variables: { GREETING: 'hello', WHO: 'qa team' } });
      const score = (variable: string) => [
        'apiVersion: score.dev/v1b1', 'metadata:', '  name: greeter', 'containers:', '  main:', '    image: greeter:1.0.0',
        `    command: ["${process.execPath}", "server.mjs"]`, '    variables:', `      GREETING: "\${resources.env.${variable}} from \${metadata.name}"`,
        '    resources:', '      requests: { cpu: 100m, memory: 64Mi }', '      limits: { memory: 256Mi }',
        '    readinessProbe:', '      httpGet: { path: /healthz, port: 8080 }', '    livenessProbe:', '      httpGet: { path: /healthz, port: 8080 }',
        'service:', '  ports:', '    web: { port: 8080 }', 'resources:', '  env:', '    type: environment',
      ].join('\n');
      const input = (variable: string) => ({ score: score(variable), environment: 'qa', version: '1.0.0', artifact: { kind: 'directory', path: fixtureDir, digest }, labels: { owner: 'shop', 'cost-center': 'cc-1' } });
      const missing = await call('POST', '/api/delivery/rollouts', t.adminToken, input('NOPE'));
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toMatchObject({ error: { message: expect.stringMatching(/resources\.env\.NOPE.*has no output "NOPE"/) } });
      const started = await call('POST', '/api/delivery/rollouts', t.adminToken, input('GREETING'));
      expect(started.statusCode, started.body).toBe(201);
      const view = started.json() as RolloutView;
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${view.id}`, viewer)).json() as RolloutView).phase === 'succeeded', 15_000, 50);
      // The release's Deployment carries the resolved value.
      const manifests = (await call('GET', `/api/runtime/releases/${view.releaseId}/manifests`, viewer)).json() as { items: { kind: string; spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } }[] };
      const env = manifests.items.find((m) => m.kind === 'Deployment')?.spec?.template?.spec?.containers?.[0]?.env ?? [];
      expect(env).toContainEqual({ name: 'GREETING', value: 'hello from greeter' });
    });

    it('routes a Score `route` resource\'s host and path to its workload through the gateway; another team cannot take them', { timeout: 60_000 }, async () => {
      const score = (name: string, resources: string[]) => [
        'apiVersion: score.dev/v1b1', 'metadata:', `  name: ${name}`, 'containers:', '  main:', `    image: ${name}:1.0.0`,
        `    command: ["${process.execPath}", "server.mjs"]`, '    resources:', '      requests: { cpu: 100m, memory: 64Mi }', '      limits: { memory: 256Mi }',
        '    readinessProbe:', '      httpGet: { path: /healthz, port: 8080 }', 'service:', '  ports:', '    web: { port: 8080 }', 'resources:', ...resources,
      ].join('\n');
      const deploy = (name: string, resources: string[], owner = 'shop') =>
        call('POST', '/api/delivery/rollouts', t.adminToken, { score: score(name, resources), environment: 'staging', version: '1.0.0', artifact: { kind: 'directory', path: fixtureDir, digest }, labels: { owner, 'cost-center': 'cc-1' } });
      const waitLive = async (started: Awaited<ReturnType<typeof call>>) => {
        expect(started.statusCode, started.body).toBe(201);
        const id = (started.json() as RolloutView).id;
        await until(async () => ((await call('GET', `/api/delivery/rollouts/${id}`, viewer)).json() as RolloutView).phase === 'succeeded', 20_000, 50);
      };
      // score-compose's 09-dns-and-route shape: the route's host is the dns resource's output, its path a pattern.
      // A second route puts it at the root of a shared host, where cart takes /cart.
      await waitLive(await deploy('storefront', ['  dns:', '    type: dns', '  route:', '    type: route', '    params:', '      host: ${resources.dns.host}', '      path: /my/[^/]+/path', '      port: web', '  shop:', '    type: route', '    params: { host: shop.localhost }']));
      await waitLive(await deploy('cart', ['  route:', '    type: route', '    params: { host: shop.localhost, path: /cart }']));
      const port = t.app.runtime.gatewayPort()!;
      // node:http, not fetch: fetch does not let a caller set Host.
      const get = (host: string, path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          httpGet({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          }).on('error', reject);
        });
      expect(JSON.parse((await get('storefront.staging.localhost', '/my/fizz/path')).body)).toMatchObject({ service: 'storefront', path: '/my/fizz/path' });
      expect(JSON.parse((await get('shop.localhost', '/cart/items')).body)).toMatchObject({ service: 'cart', path: '/cart/items' });
      expect(JSON.parse((await get('Shop.localhost', '/carton')).body)).toMatchObject({ service: 'storefront', path: '/carton' });
      expect(JSON.parse((await get('cart.staging.localhost', '/x')).body)).toMatchObject({ service: 'cart' });
      // The claims hold the routes: another team's route on that host and path is refused, and nothing is deployed.
      const taken = await deploy('thief', ['  route:', '    type: route', '    params: { host: shop.localhost, path: /cart }'], 'other-team');
      expect(taken.statusCode, taken.body).toBe(409);
      expect(taken.json()).toMatchObject({ error: { message: expect.stringMatching(/shop\.localhost\/cart is routed by claim staging\/cart-route of group:default\/shop/) } });
      // A route on another service's own host is refused before anything is claimed.
      const hijack = await deploy('hijack', ['  route:', '    type: route', '    params: { host: cart.staging.localhost, path: / }']);
      expect(hijack.statusCode).toBe(400);
      expect(hijack.json()).toMatchObject({ error: { message: expect.stringMatching(/cart\.staging\.localhost is the host of service cart in staging/) } });
      const claims = (await call('GET', '/api/resources/claims?environment=staging', t.adminToken)).json() as { items: { name: string }[] };
      expect(claims.items.map((c) => c.name).filter((n) => n.startsWith('thief') || n.startsWith('hijack'))).toEqual([]);
      // A spec written by hand routes only what its owner's route claims hold.
      const unclaimed = await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'sneaky', '1.0.0', { environment: 'staging', routes: [{ host: 'shop.localhost', path: '/checkout' }], labels: { owner: 'shop', 'cost-center': 'cc-1' } }) });
      expect(unclaimed.statusCode).toBe(400);
      expect(unclaimed.json()).toMatchObject({ error: { message: 'spec.routes.0: no ready route claim of group:default/shop in staging holds shop.localhost/checkout; claim it first (module route, inputs host and path)' } });
    });

    it('deploys Score files and a volume: the replica reads its files and writes to the volume\'s directory, and the host keeps neither path', { timeout: 60_000 }, async () => {
      const score = [
        'apiVersion: score.dev/v1b1', 'metadata:', '  name: notes', 'containers:', '  main:', '    image: notes:1.0.0',
        `    command: ["${process.execPath}", "server.mjs"]`, '    resources:', '      requests: { cpu: 100m, memory: 64Mi }', '      limits: { memory: 256Mi }',
        '    readinessProbe:', '      httpGet: { path: /healthz, port: 8080 }',
        '    files:', '      /etc/plinth-notes/greeting.txt: { content: "hello from ${metadata.name}" }', '      /etc/plinth-notes/raw.txt: { content: "${metadata.name}", noExpand: true }',
        '    volumes:', '      /srv/plinth-notes-data: { source: "${resources.data}" }',
        'service:', '  ports:', '    web: { port: 8080 }', 'resources:', '  data:', '    type: volume', '    class: medium',
      ].join('\n');
      const started = await call('POST', '/api/delivery/rollouts', t.adminToken, { score, environment: 'staging', version: '1.0.0', artifact: { kind: 'directory', path: fixtureDir, digest }, labels: { owner: 'shop', 'cost-center': 'cc-1' } });
      expect(started.statusCode, started.body).toBe(201);
      const id = (started.json() as RolloutView).id;
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${id}`, viewer)).json() as RolloutView).phase === 'succeeded', 20_000, 50);
      const port = t.app.runtime.gatewayPort()!;
      const send = (method: 'GET' | 'PUT', path: string, body?: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host: 'notes.staging.localhost' } }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          });
          req.on('error', reject);
          req.end(body);
        });
      expect(await send('GET', '/file?path=/etc/plinth-notes/greeting.txt')).toEqual({ status: 200, body: 'hello from notes' });
      expect(await send('GET', '/file?path=/etc/plinth-notes/raw.txt')).toEqual({ status: 200, body: '${metadata.name}' });
      expect((await send('PUT', '/file?path=/srv/plinth-notes-data/kept.txt', 'kept')).status).toBe(204);
      expect(await send('PUT', '/file?path=/etc/plinth-notes/greeting.txt', 'changed')).toMatchObject({ status: 500, body: 'EROFS' });
      const claim = ((await call('GET', '/api/resources/claims?environment=staging&name=notes-data', t.adminToken)).json() as { items: { outputs: Record<string, string>; cost: { monthly: number } }[] }).items[0]!;
      expect(claim.cost.monthly).toBe(1);
      expect(await readFile(join(claim.outputs.path!, 'kept.txt'), 'utf8')).toBe('kept');
      expect(existsSync('/etc/plinth-notes')).toBe(false);
      expect(existsSync('/srv/plinth-notes-data')).toBe(false);
      // A spec written by hand mounts only its owner's volume claims.
      const mount = (owner: string, source: string) =>
        call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'borrower', '1.0.0', { environment: 'staging', volumes: [{ name: 'notes-data', target: '/data', source }], labels: { owner, 'cost-center': 'cc-1' } }) });
      const foreign = await mount('other-team', claim.outputs.path!);
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json()).toMatchObject({ error: { message: 'spec.volumes.0: volume claim staging/notes-data belongs to group:default/shop, not to group:default/other-team' } });
      const elsewhere = await mount('shop', join(claim.outputs.path!, '..', 'elsewhere'));
      expect(elsewhere.statusCode).toBe(400);
      expect(elsewhere.json()).toMatchObject({ error: { message: expect.stringMatching(/is not the directory of volume claim staging\/notes-data/) } });
    });

    it('canary through the API: approve gate recorded in the audit log, conflict on a second deploy, promote', { timeout: 40_000 }, async () => {
      const first = (await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'shop', '1.0.0') })).json() as RolloutView;
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${first.id}`, viewer)).json() as RolloutView).phase === 'succeeded', 15_000, 50);
      const canary = await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'shop', '1.1.0'), commit: 'abc1234', strategy: { kind: 'canary', steps: [{ weightPercent: 10, approval: true }] } });
      expect(canary.statusCode, canary.body).toBe(201);
      const id = (canary.json() as RolloutView).id;
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${id}`, viewer)).json() as RolloutView).phase === 'awaiting-approval', 15_000, 50);
      const second = await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'shop', '1.2.0') });
      expect(second.json()).toMatchObject({ error: { name: 'ConflictError', message: expect.stringMatching(/already has rollout .* in progress in production; promote or abort it first/) } });
      expect((await call('POST', `/api/delivery/rollouts/${id}/approve`, viewer)).statusCode).toBe(403);
      expect((await call('POST', `/api/delivery/rollouts/${id}/approve`, t.adminToken)).statusCode).toBe(202);
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${id}`, viewer)).json() as RolloutView).stepIndex === 0, 15_000, 50);
      expect((await call('POST', `/api/delivery/rollouts/${id}/promote`, t.adminToken)).statusCode).toBe(202);
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${id}`, viewer)).json() as RolloutView).phase === 'succeeded', 15_000, 50);
      const audit = await call('GET', '/api/audit?limit=50', t.adminToken);
      expect(audit.body).toContain('delivery.rollout.command');
      const promoted = await t.app.kernel.ledger.query({ kinds: ['delivery.rollout.promoted'], subject: 'service:default/shop' }, 10);
      expect(promoted.map((e) => e.payload)).toContainEqual(expect.objectContaining({ version: '1.1.0', commit: 'abc1234', artifactDigest: digest, manual: true }));
      const traffic = await call('GET', '/api/runtime/services/shop/environments/production/traffic', viewer);
      expect(traffic.json()).toMatchObject({ split: { stable: (canary.json() as RolloutView).releaseId, canaryWeightPercent: 0 } });
      const logs = await call('GET', '/api/runtime/services/shop/environments/production/logs?grep=listening', viewer);
      expect((logs.json() as { items: unknown[] }).items.length).toBeGreaterThan(0);
      expect((await call('GET', '/api/runtime/services/shop/environments/production/logs?grep=(', viewer)).statusCode).toBe(400);
      const releases = (await call('GET', '/api/runtime/releases?service=shop', viewer)).json() as { items: { version: string; phase: string }[] };
      expect(releases.items.map((r) => `${r.version} ${r.phase}`).sort()).toEqual(['1.0.0 stopped', '1.1.0 ready']);

      // Following the logs over SSE: undo replaces 1.1.0, whose replica logs "draining" as it stops.
      const stream = await fetch(`${t.url}/api/runtime/services/shop/environments/production/logs/stream?grep=draining`, { headers: { authorization: `Bearer ${viewer}`, accept: 'text/event-stream' } });
      expect(stream.status).toBe(200);
      const reader = stream.body!.getReader();
      const undo = await call('POST', '/api/delivery/services/shop/environments/production/undo', t.adminToken);
      expect(undo.statusCode, undo.body).toBe(201);
      expect(undo.json()).toMatchObject({ version: '1.0.0', strategy: { kind: 'direct' } });
      let text = '';
      while (!text.includes('event: line')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      expect(text).toMatch(/"text":"draining"/);
    });

    it('serves the analysis history of a rollout to readers, oldest first, newer ones after a seq', { timeout: 40_000 }, async () => {
      const first = (await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'stock', '1.0.0') })).json() as RolloutView;
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${first.id}`, viewer)).json() as RolloutView).phase === 'succeeded', 15_000, 50);
      // No traffic: every look is inconclusive and the canary waits, judged every 200 ms.
      const strategy = { kind: 'canary', steps: [{ weightPercent: 10, bakeMs: 60_000 }], analysisIntervalMs: 200, analysis: { minRequests: 1000 } };
      const canary = (await call('POST', '/api/delivery/rollouts', t.adminToken, { spec: spec(digest, 'stock', '1.1.0'), strategy })).json() as RolloutView;
      const url = `/api/delivery/rollouts/${canary.id}/analyses`;
      type Analyses = { items: { seq: number; at: string; stepIndex: number; weightPercent: number; verdict: string; canary: { requests: number }; stable: unknown; checks: { name: string }[] }[] };
      await until(async () => ((await call('GET', url, viewer)).json() as Analyses).items.length >= 3, 15_000, 50);
      const all = await call('GET', url, viewer);
      expect(all.statusCode).toBe(200);
      const items = (all.json() as Analyses).items;
      expect(items.map((a) => a.seq)).toEqual(items.map((_, i) => i + 1));
      expect(items[0]).toMatchObject({ stepIndex: 0, weightPercent: 10, verdict: 'inconclusive', canary: { requests: 0 }, checks: [{ name: 'min-requests' }] });
      const newer = (await call('GET', `${url}?after=2&limit=1`, viewer)).json() as Analyses;
      expect(newer.items.map((a) => a.seq)).toEqual([3]);
      expect(((await call('GET', `${url}?after=100000`, member)).json() as Analyses).items).toEqual([]);

      expect((await call('GET', url, undefined)).statusCode).toBe(401);
      expect((await call('GET', `${url}?after=-1`, viewer)).json()).toMatchObject({ error: { name: 'InputError', message: expect.stringMatching(/after/) }, response: { statusCode: 400 } });
      expect((await call('GET', `${url}?limit=2001`, viewer)).statusCode).toBe(400);
      expect((await call('GET', `${url}?since=1`, viewer)).statusCode).toBe(400);
      expect((await call('GET', '/api/delivery/rollouts/nope/analyses', viewer)).json()).toMatchObject({ error: { name: 'NotFoundError', message: 'rollout nope does not exist' } });
      expect((await call('POST', `/api/delivery/rollouts/${canary.id}/abort`, t.adminToken)).statusCode).toBe(202);
      await until(async () => ((await call('GET', `/api/delivery/rollouts/${canary.id}`, viewer)).json() as RolloutView).phase === 'rolled-back', 15_000, 50);
    });
  });
}

describe('restart mid-rollout (the real app, on PostgreSQL when it is available)', () => {
  it('resumes from the recorded step with the weights as they were', { timeout: 90_000 }, async () => {
    const db = await createTestDatabase((await testDialects()).includes('postgres') ? 'postgres' : 'sqlite');
    const config = testConfig(db);
    const boot = async () => {
      const app = await buildApp(config, { logger: createLogger({ level: 'silent', pretty: false }) });
      await app.start();
      await app.listen();
      return app;
    };
    const system = { kind: 'system', name: 'test' } as const;
    let app: App = await boot();
    try {
      const digest = await signFixtureArtifact(app, { kind: 'directory', path: fixtureDir });
      const first = await app.delivery.startRollout(system, { spec: spec(digest, 'cart', '1.0.0') as Record<string, unknown> });
      await until(async () => (await app.delivery.getRollout(system, first.id)).phase === 'succeeded', 15_000, 50);
      // Step 2 is judged without traffic until the restart: its inconclusive analyses are stored history.
      const steps = [{ weightPercent: 10, analysis: false, bakeMs: 200 }, { weightPercent: 25, analysis: true, bakeMs: 4000 }, { weightPercent: 50, analysis: false, bakeMs: 200 }];
      const strategy = { kind: 'canary', steps, analysisIntervalMs: 200, analysis: { minRequests: 5 } };
      const canary = await app.delivery.startRollout(system, { spec: spec(digest, 'cart', '1.1.0') as Record<string, unknown>, strategy: strategy as never });
      await until(async () => (await app.delivery.getRollout(system, canary.id)).stepIndex === 1, 15_000, 50);
      await until(async () => (await app.delivery.listAnalyses(system, canary.id, { limit: 2000 })).length >= 2, 15_000, 50);
      const before = await app.delivery.listAnalyses(system, canary.id, { limit: 2000 });
      expect(before.every((a) => a.verdict === 'inconclusive' && a.stepIndex === 1 && a.weightPercent === 25)).toBe(true);
      expect(app.runtime.traffic(system, 'cart', 'production')).toMatchObject({ canary: canary.releaseId, canaryWeightPercent: 25 });
      await app.stop();

      app = await boot();
      const resumed = await app.delivery.getRollout(system, canary.id);
      expect(resumed).toMatchObject({ phase: 'progressing', stepIndex: 1, weightPercent: 25 });
      expect(app.runtime.traffic(system, 'cart', 'production')).toMatchObject({ stable: first.releaseId, canary: canary.releaseId, canaryWeightPercent: 25 });
      // Traffic flows through the new gateway to both releases again once the replicas are back.
      const load = startLoad(app.runtime.gatewayPort()!, 'cart.production.localhost');
      await until(async () => (await app.delivery.getRollout(system, canary.id)).phase !== 'progressing', 30_000, 100);
      await load.stop();
      const settled = await app.delivery.getRollout(system, canary.id);
      expect({ phase: settled.phase, message: settled.message }).toEqual({ phase: 'succeeded', message: 'promoted' });
      const stepped = await app.kernel.ledger.query({ subject: `rollout:${canary.id}`, kinds: ['delivery.rollout.stepped'] }, 10);
      expect(stepped.map((e) => (e.payload as { weightPercent: number }).weightPercent)).toEqual([10, 25, 50]);
      expect(load.byRelease().get(canary.releaseId)?.total ?? 0).toBeGreaterThan(0);
      // The history from before the restart is still there, followed by the passing analyses after it.
      const history = await app.delivery.listAnalyses(system, canary.id, { limit: 2000 });
      expect(history.slice(0, before.length)).toEqual(before);
      expect(history.at(-1)).toMatchObject({ verdict: 'pass', stepIndex: 1, weightPercent: 25 });
    } finally {
      await app.stop();
      await db.drop();
    }
  });
});
