import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { until } from '../../test/helpers/kernel.js';

// The catalog's audit point: an ingested entity is judged by the policies watching `catalog`; what
// fails is reported as a violation and nothing is refused.

const dialects = await testDialects();

const entities = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: billing, annotations: { backstage.io/techdocs-ref: dir:. } }
spec: { type: service, lifecycle: production, owner: group:default/team-a, system: payments }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger }
spec: { type: service, lifecycle: production, owner: group:default/team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: slugs }
spec: { type: library, lifecycle: production, owner: group:default/team-a }
`;

describe.each(dialects)('catalog audit point (%s)', (dialect) => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plinth-catalog-audit-'));
    writeFileSync(join(dir, 'catalog-info.yaml'), entities);
    t = await startTestApp({ dialect, config: { catalog: { fileRoot: dir, refreshIntervalS: 3600 } } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the services an ingestion brought in that break a catalog policy, and blocks none', async () => {
    await t.app.catalog.addLocation({ kind: 'system', name: 'test' }, { type: 'file', target: join(dir, 'catalog-info.yaml') }, { dryRun: false });
    const violations = async () =>
      ((await t.app.server.inject({ url: '/api/policy/violations?policy=catalog-services-belong-to-a-system', headers: { authorization: `Bearer ${t.adminToken}` } })).json() as { items: { point: string; subject: string; owner: string | null; message: string; failureAction: string }[] }).items;
    await until(async () => (await violations()).length >= 1, 15_000);
    const found = await violations();
    // One verdict per policy and entity: the first validation that fails names what to fix.
    expect(found).toEqual([expect.objectContaining({ point: 'catalog', owner: 'group:default/team-a', failureAction: 'Audit', subject: expect.stringContaining('ledger'), message: 'service ledger names no system: set spec.system' })]);
    // Audit only: every entity is in the catalog, the failing one included.
    for (const name of ['billing', 'ledger', 'slugs']) expect(await t.app.catalog.getEntityByRef({ kind: 'system', name: 'test' }, `component:default/${name}`), name).toBeDefined();
    const decisions = await t.app.kernel.ledger.query({ kinds: ['policy.decision.made'], subject: 'point:catalog' }, 20);
    expect(decisions.length).toBeGreaterThanOrEqual(2);
  });
});
