import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKernel } from '../../test/helpers/kernel.js';
import { hostNameProblem, InputError, type Kernel, parseBaseDomain, type Principal } from '../kernel/index.js';
import { certificateHosts } from './providers/tls.js';
import { createResources, resourcesMigrations, type Resources } from './index.js';

// Gateway host names under a configurable base domain (issue 8: "DNS names — gateway host names for
// the service and environment"), and RFC 1123 checks on every name a claim brings.

const system: Principal = { kind: 'system', name: 'test' };
const tags = { owner: 'group:default/team-a', 'cost-center': 'cc-1' };
const modulesDir = join(new URL('../../', import.meta.url).pathname, 'modules');

describe('host names', () => {
  it.each([
    ['shop.staging.localhost', undefined],
    ['a.b', undefined],
    ['x1-y.apps.example.com', undefined],
    ['Shop.staging.localhost', /label "Shop"/],
    ['shop..localhost', /empty label/],
    ['-shop.staging.localhost', /label "-shop"/],
    ['shop_db.staging.localhost', /label "shop_db"/],
    ['shop.staging.localhost,DNS:evil.example.com', /label "localhost,DNS:evil"/],
    ['shop.staging.localhost\nbasicConstraints = critical,CA:TRUE', /label "localhost\nbasicConstraints = critical,CA:TRUE"/],
    ['10.0.0.1', /ends in a number/],
    [`${'a'.repeat(64)}.localhost`, /label "a{64}"/],
    [`${'abcdefgh.'.repeat(28)}com`, /longer than 253/],
    ['*.api.staging.localhost', /label "\*"/],
  ])('%j: %s', (host, expected) => {
    const problem = hostNameProblem(host);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('takes a leading wildcard label only where asked', () => {
    expect(hostNameProblem('*.api.staging.localhost', { wildcard: true })).toBeUndefined();
    expect(hostNameProblem('api.*.localhost', { wildcard: true })).toMatch(/label "\*"/);
  });

  it('parses a base domain, and refuses one that is not a domain with the reason', () => {
    expect(parseBaseDomain('localhost')).toBe('localhost');
    expect(parseBaseDomain(' Apps.Example.COM. ')).toBe('apps.example.com');
    expect(() => parseBaseDomain('apps..example.com', 'PLINTH_BASE_DOMAIN')).toThrow(new InputError('PLINTH_BASE_DOMAIN: "apps..example.com" has an empty label; use a domain such as localhost or apps.example.com'));
    expect(() => parseBaseDomain('')).toThrow(/has an empty label/);
    expect(() => parseBaseDomain('127.0.0.1')).toThrow(/ends in a number/);
    expect(() => parseBaseDomain('example.com/evil')).toThrow(/label "com\/evil"/);
    expect(() => parseBaseDomain(`${'abcdefgh.'.repeat(20)}com`)).toThrow(/longer than 168 characters/);
  });
});

describe('claims under a configured base domain', () => {
  let kernel: Kernel & { close(): Promise<void> };
  let resources: Resources;
  beforeAll(async () => {
    kernel = await createTestKernel('sqlite', { migrations: resourcesMigrations });
    resources = createResources(kernel, { modulesDir, baseDomain: 'Apps.Example.TEST' });
    await resources.start();
  });
  afterAll(async () => {
    await resources?.stop();
    await kernel?.close();
  });

  async function ready(module: string, name: string, inputs: Record<string, unknown> = {}) {
    const { claim, plan } = await resources.claim(system, { module, name, environment: 'staging', inputs, tags });
    while ((await resources.controller.applyOnce(claim.id)) === 'progress');
    const done = await resources.getClaim(system, claim.id);
    expect(done.phase, done.lastError ?? '').toBe('ready');
    return { claim: done, plan };
  }

  it('reserves <service>.<environment>.<base domain>, and says so in the plan', async () => {
    const { claim, plan } = await ready('dns', 'shop');
    expect(plan.creates).toEqual(['the gateway host name shop.staging.apps.example.test']);
    expect(claim.outputs).toEqual({ host: 'shop.staging.apps.example.test' });
    const alias = await resources.plan(system, { module: 'dns', name: 'shop-www', environment: 'staging', inputs: { service: 'www' }, tags });
    expect(alias.creates).toEqual(['the gateway host name www.staging.apps.example.test']);
  });

  it('issues certificates for the base domain’s names and refuses names outside it', async () => {
    const { claim } = await ready('tls-certificate', 'web');
    expect(claim.outputs.hosts).toBe('web.staging.apps.example.test');
    expect(certificateHosts(new X509Certificate((await resources.secretSource('claim.staging.web/tls.crt'))!))).toEqual(['web.staging.apps.example.test']);
    await expect(resources.plan(system, { module: 'tls-certificate', name: 'old', environment: 'staging', inputs: { hosts: ['old.staging.localhost'] }, tags })).rejects.toThrow(
      'inputs of tls-certificate@1.0.0: inputs.hosts: "old.staging.localhost" is not a host name of environment staging; use <service>.staging.apps.example.test',
    );
  });

  it('checks names itself when a published module’s schema lets anything through, and creates nothing', async () => {
    const loose = (name: string, provider: string, inputs: string) => `apiVersion: plinth.dev/v1alpha1
kind: Module
metadata: { name: ${name}, version: 1.0.0 }
spec:
  provider: ${provider}
  inputs: { type: object, properties: ${inputs} }
  presets: { small: {}, medium: {}, large: {} }
  outputs: [host]
  cost: { currency: EUR, monthly: { small: 0, medium: 0, large: 0 } }
`;
    await resources.publishModule(system, loose('loose-cert', 'tls-certificate', '{ hosts: { type: array, items: { type: string } } }'));
    await resources.publishModule(system, loose('loose-dns', 'dns', '{ service: { type: string } }'));
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['loose-cert', { hosts: ['x.staging.apps.example.test\nbasicConstraints = critical,CA:TRUE\n#.staging.apps.example.test'] }, /inputs\.hosts: "x\.staging\.apps\.example\.test\\nbasicConstraints/],
      ['loose-cert', { hosts: ['a.staging.apps.example.test,DNS:bank.example.com,DNS:b.staging.apps.example.test'] }, /has the label "test,DNS:bank"/],
      ['loose-dns', { service: 'a.other' }, /inputs\.service: "a\.other" is not a DNS label/],
      ['loose-dns', { service: 'x\ny' }, /inputs\.service: "x\\ny" is not a DNS label/],
      ['loose-dns', { service: 'UPPER' }, /is not a DNS label/],
    ];
    for (const [module, inputs, expected] of cases) {
      const attempt = resources.claim(system, { module, name: 'bad', environment: 'staging', inputs, tags });
      await expect(attempt).rejects.toBeInstanceOf(InputError);
      await expect(attempt).rejects.toThrow(expected);
    }
    expect(await resources.listClaims(system, { environment: 'staging', name: 'bad', limit: 1 })).toEqual([]);
  });

  it('refuses to start with a base domain that is not one', () => {
    expect(() => createResources(kernel, { baseDomain: 'apps.example.com:8080' })).toThrow('PLINTH_BASE_DOMAIN: "apps.example.com:8080" has the label "com:8080"; a label is 1 to 63 lower-case letters, digits and inner "-"; use a domain such as localhost or apps.example.com');
  });
});
