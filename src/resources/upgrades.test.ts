import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { until } from '../../test/helpers/kernel.js';
import type { Principal } from '../kernel/index.js';
import type { Claim, PlanView } from './index.js';
import { pgQuery } from './testing/services.js';

// Issue 8: "A claim pins a module version; upgrades are explicit and planned."

const dialects = await testDialects();
const system: Principal = { kind: 'system', name: 'test' };
const tags = { owner: 'group:default/team-up', 'cost-center': 'cc-up' };

/** postgres@1.1.0: the shipped module with a larger small preset at a higher price. */
const postgres110 = `apiVersion: plinth.dev/v1alpha1
kind: Module
metadata: { name: postgres, version: 1.1.0 }
spec:
  provider: postgres
  scoreTypes: [postgres]
  inputs:
    type: object
    additionalProperties: false
    properties:
      connectionLimit: { type: integer, minimum: 1, maximum: 200, default: 10 }
      extensions: { type: array, uniqueItems: true, maxItems: 5, default: [], items: { enum: [pgcrypto, citext] } }
  presets: { small: { connectionLimit: 25 }, medium: { connectionLimit: 50 }, large: { connectionLimit: 150 } }
  outputs: [host, port, database, username, passwordRef, urlRef, url]
  cost: { currency: EUR, monthly: { small: 20, medium: 60, large: 240 } }
`;

describe.each(dialects)('claim upgrades (store: %s)', (dialect) => {
  const env = `u${Date.now().toString(36)}${dialect[0]}`;
  const role = `pl_${env}__orders`;
  let t: TestApp;
  const call = (url: string, payload: Record<string, unknown>, token = t.adminToken) => t.app.server.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload });
  const connLimit = async () => (await pgQuery<{ rolconnlimit: number }>('select rolconnlimit from pg_roles where rolname = $1', [role])).rows[0]?.rolconnlimit;

  beforeAll(async () => {
    t = await startTestApp({ dialect });
  });
  afterAll(async () => {
    await pgQuery(`drop database if exists "${role}" with (force)`);
    await pgQuery(`drop role if exists "${role}"`);
    await t?.close();
  });

  it('plans an upgrade to another version, refuses it over budget, then applies it on the server', { timeout: 60_000 }, async () => {
    const { claim } = await t.app.resources.claim(system, { module: 'postgres', version: '1.0.0', name: 'orders', environment: env, inputs: {}, tags });
    await until(async () => (await t.app.resources.getClaim(system, claim.id)).phase === 'ready', 20_000, 25);
    const ready = await t.app.resources.getClaim(system, claim.id);
    const password = await t.app.resources.secretSource(`claim.${env}.orders/password`);
    expect(await connLimit()).toBe(10);
    await t.app.resources.publishModule(system, postgres110);

    // Pinned: a new version changes nothing until asked for; asking for nothing new is refused.
    expect((await t.app.resources.getClaim(system, claim.id)).version).toBe('1.0.0');
    const same = await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '1.0.0' });
    expect(same.statusCode, same.body).toBe(400);
    expect(same.json<{ error: { message: string } }>().error.message).toBe(`claim ${env}/orders already runs postgres@1.0.0 (small) with these inputs; name another version, preset or inputs`);
    expect((await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '9' })).statusCode).toBe(404);
    expect((await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '1.1.0', inputs: { connectionLimit: 500 } })).statusCode).toBe(400);
    expect((await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '1.1.0', extra: true })).statusCode).toBe(400);
    const stranger = (await t.createUser('upgrader', 'member')).token;
    expect((await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '1.1.0' }, stranger)).statusCode).toBe(403);

    // The plan: the new version and preset values, its price, and the decision on what it adds.
    const planned = await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '1.1.0', preset: 'small', dryRun: true });
    expect(planned.statusCode, planned.body).toBe(200);
    expect(planned.json<{ plan: PlanView }>().plan).toMatchObject({ version: '1.1.0', preset: 'small', inputs: { connectionLimit: 25, extensions: [] }, cost: { monthly: 20, currency: 'EUR' }, decision: { allowed: true, denials: [] } });
    expect(await t.app.kernel.ledger.query({ kinds: ['resources.claim.upgrade-requested'] }, 10)).toEqual([]);

    // The budget sees what the upgrade adds (60 − 15 = 45 on top of 15), not the claim twice.
    await t.app.policy.putBudget(system, 'team', 'team-up', { monthlyLimit: 40, currency: 'EUR' });
    const over = await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '1.1.0', preset: 'medium' });
    expect(over.statusCode, over.body).toBe(403);
    expect(over.json<{ error: { message: string } }>().error.message).toMatch(/^upgrade of claim .*team team-up has a budget of 40 EUR\/month; 15 is committed and this claim adds 45, which would make 60 \(over by 20\)/);
    expect((await t.app.resources.getClaim(system, claim.id)).version).toBe('1.0.0');

    const upgraded = await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '1.1.0', preset: 'small' });
    expect(upgraded.statusCode, upgraded.body).toBe(202);
    expect(upgraded.json<{ claim: Claim }>().claim).toMatchObject({ phase: 'provisioning', version: '1.1.0', cost: { monthly: 20 } });
    // Not ready while its steps run again: other operations wait.
    expect((await call(`/api/resources/claims/${claim.id}/upgrade`, { version: '1.1.0', preset: 'medium' })).statusCode).toBe(409);
    await until(async () => (await t.app.resources.getClaim(system, claim.id)).phase !== 'provisioning', 20_000, 25);
    const after = await t.app.resources.getClaim(system, claim.id);
    expect(after).toMatchObject({ phase: 'ready', version: '1.1.0', preset: 'small', inputs: { connectionLimit: 25 }, readyAt: ready.readyAt, provisionMs: ready.provisionMs, outputs: ready.outputs });
    expect(await connLimit()).toBe(25);
    expect(await t.app.resources.secretSource(`claim.${env}.orders/password`)).toBe(password);
    expect(await t.app.resources.spend('team', 'team-up')).toBe(20);
    expect((await t.app.kernel.ledger.query({ kinds: ['resources.claim.upgrade-requested', 'resources.claim.upgraded', 'resources.claim.provisioned'], subject: `resource:${env}/orders` }, 10)).map((e) => e.kind)).toEqual([
      'resources.claim.provisioned',
      'resources.claim.upgrade-requested',
      'resources.claim.upgraded',
    ]);
    expect(await t.app.resources.controller.checkDrift(after)).toEqual([]);
    await t.app.policy.deleteBudget(system, 'team', 'team-up');
  });
});
