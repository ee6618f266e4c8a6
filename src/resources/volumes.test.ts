import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKernel } from '../../test/helpers/kernel.js';
import { InputError, type Kernel, type Principal } from '../kernel/index.js';
import { physicalNames } from './model/claim.js';
import { createVolumeProvider } from './providers/volume.js';
import { createResources, resourcesMigrations, type Resources } from './index.js';

// Volumes (Score `volume`) and routes (Score `route`) as claims: what they create, cost, drift,
// backups, orphans, and the names they refuse.

const system: Principal = { kind: 'system', name: 'test' };
const tags = { owner: 'group:default/team-a', 'cost-center': 'cc-1' };
const modulesDir = join(new URL('../../', import.meta.url).pathname, 'modules');

describe('volume and route claims', () => {
  let kernel: Kernel & { close(): Promise<void> };
  let resources: Resources;
  beforeAll(async () => {
    kernel = await createTestKernel('sqlite', { migrations: resourcesMigrations });
    resources = createResources(kernel, { modulesDir });
    await resources.start();
  });
  afterAll(async () => {
    await resources?.stop();
    await kernel?.close();
  });

  async function ready(module: string, name: string, inputs: Record<string, unknown> = {}, preset?: 'small' | 'medium' | 'large', owner = tags.owner) {
    const { claim, plan } = await resources.claim(system, { module, name, environment: 'staging', inputs, preset, tags: { ...tags, owner } });
    while ((await resources.controller.applyOnce(claim.id)) === 'progress');
    const done = await resources.getClaim(system, claim.id);
    expect(done.phase, done.lastError ?? '').toBe('ready');
    return { claim: done, plan };
  }

  it('makes a volume directory, bills it per GiB, reports it gone as drift, and removes it on delete', async () => {
    const plan = await resources.plan(system, { module: 'volume', name: 'big', environment: 'staging', inputs: { sizeGi: 25 }, tags });
    expect(plan.cost).toEqual({ monthly: 2.5, currency: 'EUR' });
    expect((await resources.plan(system, { module: 'volume', name: 'big', environment: 'staging', preset: 'large', inputs: {}, tags })).cost.monthly).toBe(10);
    const { claim, plan: made } = await ready('volume', 'orders-data', {}, 'medium');
    const dir = join(kernel.config.dataDir, 'volumes', 'staging', 'orders-data');
    expect(made.creates).toEqual([`a 10 GiB volume directory volumes/staging/orders-data`]);
    expect(claim.outputs).toEqual({ name: 'orders-data', path: dir, sizeGi: '10' });
    expect(claim.cost.monthly).toBe(1);
    expect(existsSync(dir)).toBe(true);
    expect(await resources.controller.checkDrift(claim)).toEqual([]);
    await rm(dir, { recursive: true });
    expect(await resources.controller.checkDrift(claim)).toEqual([`volume directory ${dir} is gone`]);
    await mkdir(dir);
    await resources.deleteClaim(system, claim.id);
    while ((await resources.controller.deleteOnce(claim.id)) === 'progress');
    expect(existsSync(dir)).toBe(false);
  });

  it('backs a volume up as a tarball and restores it in place', async () => {
    const provider = createVolumeProvider(join(kernel.config.dataDir, 'volumes'));
    const { claim } = await ready('volume', 'files');
    const ctx = { claim, names: physicalNames(claim.environment, claim.name), secrets: { ensureClaimSecret: () => Promise.reject(new Error('unused')) } };
    await mkdir(join(claim.outputs.path!, 'sub'));
    await writeFile(join(claim.outputs.path!, 'sub', 'a.txt'), 'kept');
    const backup = await provider.backup(ctx, join(kernel.config.dataDir, 'test-backups', 'files'));
    expect(backup?.bytes).toBeGreaterThan(0);
    await writeFile(join(claim.outputs.path!, 'sub', 'a.txt'), 'changed');
    await writeFile(join(claim.outputs.path!, 'stray.txt'), 'gone after restore');
    await provider.restore!(ctx, backup!.path);
    expect(await readFile(join(claim.outputs.path!, 'sub', 'a.txt'), 'utf8')).toBe('kept');
    expect(existsSync(join(claim.outputs.path!, 'stray.txt'))).toBe(false);
  });

  it('reports a volume directory no claim holds as an orphan', async () => {
    await mkdir(join(kernel.config.dataDir, 'volumes', 'staging', 'left-behind'), { recursive: true });
    const report = await resources.orphans(system);
    expect(report.items).toContainEqual({ provider: 'volume', kind: 'volume', name: 'volumes/staging/left-behind' });
    expect(report.items.filter((i) => i.name === 'volumes/staging/files')).toEqual([]);
  });

  it('reserves a route per host and path for one team, and refuses hosts and paths that are not', async () => {
    const { claim, plan } = await ready('route', 'shop-api', { service: 'api', host: 'shop.localhost', path: '/api', port: 'web' });
    expect(plan.creates).toEqual(['the gateway route shop.localhost/api to api port web']);
    expect(claim.outputs).toEqual({ host: 'shop.localhost', path: '/api', port: 'web' });
    await ready('route', 'shop-web', { service: 'web', host: 'shop.localhost' });
    await expect(resources.claim(system, { module: 'route', name: 'shop-api2', environment: 'staging', inputs: { service: 'api2', host: 'shop.localhost', path: '/api' }, tags })).rejects.toThrow(
      'shop.localhost/api is routed by claim staging/shop-api of group:default/team-a',
    );
    // One gateway serves every environment: the same host and path in another is taken too.
    await expect(resources.claim(system, { module: 'route', name: 'shop-api', environment: 'production', inputs: { service: 'api', host: 'shop.localhost', path: '/api' }, tags })).rejects.toThrow(
      'shop.localhost/api is routed by claim staging/shop-api of group:default/team-a',
    );
    await expect(resources.claim(system, { module: 'route', name: 'steal', environment: 'staging', inputs: { service: 'x', host: 'shop.localhost', path: '/x' }, tags: { ...tags, owner: 'group:default/team-b' } })).rejects.toThrow(
      'host shop.localhost belongs to group:default/team-a (claim staging/shop-api); name a host of your own',
    );
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ service: 'x', host: 'Shop.localhost' }, /inputs\.host: "Shop\.localhost" is not a host name \(it has the label "Shop"/],
      [{ service: 'x', host: 'shop.localhost', path: '/a(b|c)' }, /inputs\.path: route path "\/a\(b\|c\)" holds "\|"/],
      [{ service: 'x', host: 'shop.localhost', path: 'api' }, /inputs\.path: route path "api" must start with "\/"/],
      [{ service: 'x', host: 'orders.staging.localhost' }, /inputs\.host: orders\.staging\.localhost is the host of service orders in staging/],
      [{ service: 'x', host: 'x.production.localhost' }, /is the host of service x in production/],
    ];
    for (const [inputs, expected] of cases) {
      const attempt = resources.claim(system, { module: 'route', name: 'bad', environment: 'staging', inputs, tags });
      await expect(attempt).rejects.toBeInstanceOf(InputError);
      await expect(attempt).rejects.toThrow(expected);
    }
    expect(await resources.listClaims(system, { environment: 'staging', name: 'bad', limit: 1 })).toEqual([]);
  });
});
