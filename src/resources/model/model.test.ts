import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../kernel/index.js';
import { claimObject, CreateClaimBody, describeCreates, normalizeOwner, physicalNames, spendKeysOf, sumCosts, upgradeBody, type Claim } from './claim.js';
import { monthlyCost, ownInputs, parseModule, pickVersion, resolveInputs, type Module } from './module.js';
import { claimsFromScore } from './score.js';
import { parseSecretRef } from './secret.js';

const modulesDir = join(import.meta.dirname, '..', '..', '..', 'modules');
const builtins = readdirSync(modulesDir).filter((f) => f.endsWith('.yaml')).map((f) => parseModule(readFileSync(join(modulesDir, f), 'utf8'), f));
const postgres = builtins.find((m) => m.name === 'postgres')!;

const moduleYaml = (overrides: { version?: string; inputs?: string; small?: string; deprecation?: string } = {}) => `apiVersion: plinth.dev/v1alpha1
kind: Module
metadata: { name: cache, version: ${overrides.version ?? '1.0.0'} }
spec:
  provider: redis
  inputs: ${overrides.inputs ?? '{ type: object, additionalProperties: false, properties: { size: { type: integer, minimum: 1, maximum: 10, default: 1 } } }'}
  presets: { small: ${overrides.small ?? '{ size: 1 }'}, medium: { size: 4 }, large: { size: 10 } }
  outputs: [host]
  cost: { currency: EUR, monthly: { small: 1, medium: 4, large: 10 } }
${overrides.deprecation ?? ''}`;

describe('modules', () => {
  it('parses every built-in module with its presets, defaults and prices', () => {
    expect(builtins.map((m) => m.name).sort()).toEqual(['dns', 'nats-stream', 'postgres', 'rabbitmq-vhost', 'redis', 'route', 'secret', 'tls-certificate', 'volume']);
    expect(postgres).toMatchObject({ provider: 'postgres', defaultPreset: 'small', requiredTags: ['owner', 'cost-center', 'environment'], backup: { retentionDays: 7 } });
    expect(monthlyCost(postgres, 'medium')).toBe(60);
  });

  it('reads drift repair and a cron backup schedule, and refuses a schedule that is not one', () => {
    expect(parseModule(moduleYaml({ deprecation: '  drift: { repair: true }\n  backup: { schedule: "0 3 * * *", retentionDays: 3 }' }), 'm.yaml')).toMatchObject({ drift: { repair: true }, backup: { schedule: '0 3 * * *', retentionDays: 3 } });
    expect(parseModule(moduleYaml(), 'm.yaml').drift).toEqual({ repair: false });
    expect(() => parseModule(moduleYaml({ deprecation: '  backup: { schedule: "daily", retentionDays: 1 }' }), 'm.yaml')).toThrow(/spec\.backup\.schedule: a cron schedule of five fields/);
  });

  it('refuses a module whose preset falls outside its own input schema, naming the preset and field', () => {
    expect(() => parseModule(moduleYaml({ small: '{ size: 50 }' }), 'cache.yaml')).toThrow(/cache\.yaml: spec\.presets\.small\.size: must be <= 10/);
  });

  it('refuses an invalid schema, a bad version and unknown fields, listing each problem', () => {
    expect(() => parseModule(moduleYaml({ inputs: '{ type: object, properties: { size: { type: integr } } }' }), 'm.yaml')).toThrow(/not a valid JSON Schema/);
    const problems = (() => {
      try {
        parseModule(moduleYaml({ version: 'v1' }).replace('outputs: [host]', 'outputs: [host]\n  colour: blue'), 'm.yaml');
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(problems).toMatch(/metadata\.version: a semantic version/);
    expect(problems).toMatch(/spec: Unrecognized key.*colour/);
  });

  it('resolves inputs as schema defaults, then preset, then the claim, and validates the result', () => {
    expect(resolveInputs(postgres, 'medium', {})).toEqual({ connectionLimit: 40, extensions: [] });
    expect(resolveInputs(postgres, 'small', { extensions: ['citext'] })).toEqual({ connectionLimit: 10, extensions: ['citext'] });
    expect(() => resolveInputs(postgres, 'small', { connectionLimit: 5000 })).toThrow(/inputs\.connectionLimit: must be <= 200/);
    expect(() => resolveInputs(postgres, 'small', { extensions: ['plpython3u'] })).toThrow(InputError);
    expect(() => resolveInputs(postgres, 'small', { superuser: true })).toThrow(/unknown input "superuser"/);
  });

  it('picks the newest non-deprecated version matching a range', () => {
    const v1 = parseModule(moduleYaml({ version: '1.0.0' }), 'a');
    const v11 = parseModule(moduleYaml({ version: '1.1.0', deprecation: '  deprecation: { successor: cache@2.0.0 }' }), 'b');
    const v2 = parseModule(moduleYaml({ version: '2.0.0' }), 'c');
    const all: Module[] = [v1, v11, v2];
    expect(pickVersion(all, undefined)?.version).toBe('2.0.0');
    expect(pickVersion(all, '1')?.version).toBe('1.0.0');
    expect(pickVersion(all, '1.1.0')?.version).toBe('1.1.0');
    expect(pickVersion(all, '3')).toBeUndefined();
    expect(pickVersion(all, 'drop table')).toBeUndefined();
  });
});

describe('claims', () => {
  it('derives physical names that cannot collide across (environment, name) pairs', () => {
    expect(physicalNames('staging', 'orders-db')).toEqual({ identifier: 'pl_staging__orders_db', redisKeyPrefix: 'staging:orders-db:', natsStream: 'PL_STAGING__ORDERS_DB', natsSubjects: 'staging.orders-db.>', secretName: 'claim.staging.orders-db', gatewayHost: 'orders-db.staging.localhost', volumeDir: 'volumes/staging/orders-db' });
    expect(physicalNames('x', 'y-z').identifier).not.toBe(physicalNames('x-y', 'z').identifier);
  });

  it('rejects names that would inject SQL or ACL syntax, or make identifiers ambiguous', () => {
    for (const name of ['orders"; drop role x; --', 'a b', 'Orders', 'a--b', 'a_b', 'x'.repeat(31), 'db>', '~all']) {
      expect(CreateClaimBody.safeParse({ module: 'postgres', name, environment: 'dev' }).success, name).toBe(false);
    }
    expect(CreateClaimBody.safeParse({ module: 'postgres', name: 'orders-db', environment: 'dev' }).success).toBe(true);
  });

  it('normalizes owners to group refs and refuses what is not one', () => {
    expect(normalizeOwner('team-a')).toBe('group:default/team-a');
    expect(normalizeOwner('group:default/Team-A')).toBe('group:default/team-a');
    expect(() => normalizeOwner('team a; drop')).toThrow(/tags\.owner/);
  });

  it('builds the object the built-in provisioning policies read', () => {
    const object = claimObject({ name: 'db', environment: 'dev', module: postgres, preset: 'small', tags: { owner: 'group:default/a', 'cost-center': 'cc-1', environment: 'dev' }, monthly: 15 });
    expect(object).toMatchObject({ kind: 'ResourceClaim', metadata: { labels: { 'cost-center': 'cc-1' } }, spec: { module: 'postgres', version: '1.0.0', cost: { monthly: 15 } } });
  });

  it('plans what a postgres claim creates', () => {
    expect(describeCreates('postgres', physicalNames('dev', 'db'), { connectionLimit: 10, extensions: ['citext'] })).toEqual([
      'secret claim.dev.db with a generated password',
      'PostgreSQL role pl_dev__db (LOGIN, connection limit 10)',
      'PostgreSQL database pl_dev__db owned by pl_dev__db, PUBLIC access revoked',
      'extensions citext',
    ]);
  });

  it('sums monthly costs per key and currency', () => {
    const lines = sumCosts(
      [{ cost: { monthly: 15, currency: 'EUR' }, k: 'a' }, { cost: { monthly: 8.1, currency: 'EUR' }, k: 'a' }, { cost: { monthly: 60, currency: 'EUR' }, k: 'b' }],
      (c) => c.k,
    );
    expect(lines).toEqual([{ key: 'b', monthly: 60, currency: 'EUR', claims: 1 }, { key: 'a', monthly: 23.1, currency: 'EUR', claims: 2 }]);
  });
});

describe('score resources', () => {
  it('turns resources into claims by module type, and names the unsupported ones', () => {
    const result = claimsFromScore(
      { metadata: { name: 'orders' }, resources: { db: { type: 'postgres', class: 'medium' }, cache: { type: 'redis' }, dns: { type: 'dns' }, big: { type: 'postgres', class: 'huge' } } },
      builtins,
      { environment: 'staging', owner: 'group:default/team-a', costCenter: 'cc-1' },
    );
    expect(result.claims.map((c) => [c.resource, c.claim.name, c.claim.module, c.claim.preset])).toEqual([
      ['db', 'orders-db', 'postgres', 'medium'],
      ['cache', 'orders-cache', 'redis', undefined],
      ['dns', 'orders-dns', 'dns', undefined],
    ]);
    expect(result.claims[2]!.claim.inputs).toEqual({ service: 'orders' });
    // Each claim says which workload it serves, for costs per service.
    for (const { claim } of result.claims) expect(claim.tags).toEqual({ owner: 'group:default/team-a', 'cost-center': 'cc-1', service: 'orders' });
    expect(result.unsupported).toEqual([
      { resource: 'big', type: 'postgres', reason: 'class "huge" is not a preset of module postgres; use small, medium, large' },
    ]);
    for (const { claim } of result.claims) expect(CreateClaimBody.safeParse(claim).success).toBe(true);
  });

  it('claims every resource of the Score corpus that a built-in module provides, and names each type none does', () => {
    const corpus = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'conformance', 'score');
    // From reading the files: the types score-compose provisions that Plinth has no module for (mongodb, mysql, …).
    const unsupported: Record<string, string[]> = {
      '08-service-port-resource--scoreB.yaml': ['service-port'],
      '11-mongodb-document-database--score.yaml': ['mongodb'],
      '12-mysql-database--score.yaml': ['mysql'],
      '13-kafka-topic--score.yaml': ['kafka-topic'],
      '14-elasticsearch--score.yaml': ['elasticsearch'],
      '15-mssql-database--score.yaml': ['mssql'],
      'score-full.yaml': ['Resource-One', 'Resource-Two', 'Type-Three'],
    };
    const files = ['score-compose-examples', 'spec-samples'].flatMap((dir) => readdirSync(join(corpus, dir)).filter((f) => f.endsWith('.yaml')).map((f) => [dir, f] as const));
    expect(files).toHaveLength(21);
    for (const [dir, file] of files) {
      const score = parseYaml(readFileSync(join(corpus, dir, file), 'utf8')) as { metadata: { name: string }; resources?: Record<string, { type: string; class?: string }> };
      // `environment` resources are the environment's variables: the delivery layer never claims them.
      const claimed = Object.fromEntries(Object.entries(score.resources ?? {}).filter(([, r]) => r.type !== 'environment'));
      const result = claimsFromScore({ metadata: score.metadata, resources: claimed }, builtins, { environment: 'staging', owner: 'group:default/team-a', costCenter: 'cc-1' });
      expect(result.unsupported.map((u) => u.type), file).toEqual(unsupported[file] ?? []);
      for (const u of result.unsupported) expect(u.reason).toBe(`no module provides resource type "${u.type}"`);
      expect(result.claims.length + result.unsupported.length, file).toBe(Object.keys(claimed).length);
    }
  });

  it('gives resources with the same id one claim, whichever workload declares them (06-resource-provisioning)', () => {
    const context = { environment: 'staging', owner: 'group:default/team-a', costCenter: 'cc-1' };
    const one = claimsFromScore({ metadata: { name: 'workload-one' }, resources: { 'cache-a': { type: 'redis', id: 'main-cache' } } }, builtins, context);
    const two = claimsFromScore({ metadata: { name: 'workload-two' }, resources: { 'cache-b': { type: 'redis', id: 'main-cache' }, 'cache-c': { type: 'redis' } } }, builtins, context);
    expect([...one.claims, ...two.claims].map((c) => [c.resource, c.claim.name])).toEqual([
      ['cache-a', 'main-cache'],
      ['cache-b', 'main-cache'],
      ['cache-c', 'workload-two-cache-c'],
    ]);
  });
});

describe('upgrades and budgets', () => {
  const claim = { module: 'postgres', version: '1.0.0', name: 'orders', environment: 'staging', preset: 'small', owner: 'group:default/team-a', tags: { owner: 'group:default/team-a', 'cost-center': 'cc-1', environment: 'staging', service: 'shop' } } as const;

  it('keeps the inputs a claim set itself and lets the rest follow the new preset', () => {
    expect(ownInputs(postgres, 'small', { connectionLimit: 10, extensions: [] })).toEqual({});
    expect(ownInputs(postgres, 'small', { connectionLimit: 30, extensions: ['citext'] })).toEqual({ connectionLimit: 30, extensions: ['citext'] });
    expect(ownInputs(postgres, 'medium', { connectionLimit: 40, extensions: ['citext'] })).toEqual({ extensions: ['citext'] });
    const own = { connectionLimit: 30 };
    expect(upgradeBody({ ...claim, inputs: { connectionLimit: 30, extensions: [] } } as unknown as Claim, { version: '1.1.0', dryRun: false }, own)).toEqual({
      module: 'postgres', version: '1.1.0', name: 'orders', environment: 'staging', preset: 'small', inputs: { connectionLimit: 30 }, tags: { owner: 'group:default/team-a', 'cost-center': 'cc-1', service: 'shop' },
    });
    expect(upgradeBody({ ...claim, inputs: {} } as unknown as Claim, { preset: 'large', inputs: { connectionLimit: 5 }, dryRun: false }, own)).toMatchObject({ version: '1.0.0', preset: 'large', inputs: { connectionLimit: 5 } });
  });

  it('decides a claim against its team’s and its cost-center’s budgets', () => {
    expect(spendKeysOf({ module: 'postgres', name: 'a', environment: 'dev', inputs: {}, tags: { owner: 'group:default/Team-A', 'cost-center': 'CC-1' } })).toEqual(['team:team-a', 'cost-center:cc-1']);
    expect(spendKeysOf({ module: 'postgres', name: 'a', environment: 'dev', inputs: {}, tags: { owner: 'team-b' } })).toEqual(['team:team-b']);
    expect(spendKeysOf({ module: 'postgres', name: 'a', environment: 'dev', inputs: {}, tags: { owner: 'not a group!' } })).toEqual([]);
  });
});

describe('secret refs', () => {
  it('reads name and name/key; the key defaults to value', () => {
    expect(parseSecretRef('api-key')).toEqual({ name: 'api-key', key: 'value' });
    expect(parseSecretRef('claim.dev.db/password')).toEqual({ name: 'claim.dev.db', key: 'password' });
    expect(parseSecretRef('../etc/passwd')).toBeUndefined();
    expect(parseSecretRef('db/')).toBeUndefined();
  });
});
