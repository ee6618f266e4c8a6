import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';

const dialects = await testDialects();

const latestDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
  namespace: production
  labels: { owner: payments, cost-center: cc-42 }
spec:
  selector: { matchLabels: { app: payments } }
  template:
    metadata: { labels: { app: payments } }
    spec:
      containers:
        - name: web
          image: nginx:latest
          resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { memory: 128Mi } }
`;

const requireReplicas = `apiVersion: policy.plinth.dev/v1alpha1
kind: GuardrailPolicy
metadata:
  name: production-needs-two-replicas
spec:
  points: [deploy]
  kinds: [DeployRequest]
  failureAction: Enforce
  validations:
    - expression: object.spec.replicas >= 2
      messageExpression: "'production runs at least 2 replicas; got ' + string(object.spec.replicas)"
`;

describe.each(dialects)('/api/policy (%s)', (dialect) => {
  let t: TestApp;
  let member: string;

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    member = (await t.createUser('mia', 'member')).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string, payload?: unknown) =>
    t.app.server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });

  it('lists the built-in policies with their mode and points', async () => {
    const res = await call('GET', '/api/policy/policies', member);
    expect(res.statusCode, res.body).toBe(200);
    const items = (res.json() as { items: { name: string; source: string; failureAction: string; points: string[]; enabled: boolean }[] }).items;
    expect(items.map((p) => p.name)).toEqual(expect.arrayContaining(['disallow-latest-tag', 'team-budget', 'critical-vulnerabilities-block-production', 'require-labels']));
    expect(items.find((p) => p.name === 'disallow-latest-tag')).toMatchObject({ source: 'builtin', failureAction: 'Enforce', points: ['deploy', 'scan'], enabled: true });
    expect(items.find((p) => p.name === 'team-budget')).toMatchObject({ kind: 'GuardrailPolicy', points: ['provisioning'] });
  });

  it('checks YAML in the playground, recording nothing', async () => {
    const res = await call('POST', '/api/policy/check', member, { point: 'deploy', yaml: latestDeployment });
    expect(res.statusCode, res.body).toBe(200);
    const [decision] = (res.json() as { decisions: { allowed: boolean; object: string; denials: { policy: string; message: string }[] }[] }).decisions;
    expect(decision).toMatchObject({ allowed: false, object: 'Deployment production/payments' });
    expect(decision!.denials.map((d) => d.policy)).toEqual(['disallow-latest-tag']);
    const violations = await call('GET', '/api/policy/violations', member);
    expect((violations.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('refuses bad check input with a 400 that says what to fix', async () => {
    const cases: [unknown, RegExp][] = [
      [{ point: 'deploy' }, /give the object to check/],
      [{ point: 'deploy', yaml: 'a: [1' }, /YAML|yaml/],
      [{ point: 'launch', yaml: latestDeployment }, /point/],
      [{ point: 'deploy', object: { metadata: { name: 'x' } } }, /needs a kind/],
    ];
    for (const [body, message] of cases) {
      const res = await call('POST', '/api/policy/check', member, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect((res.json() as { error: { message: string } }).error.message).toMatch(message);
    }
  });

  it('lets admins add, edit and delete a policy; members may not; a bad policy is refused with its field path', async () => {
    expect((await call('PUT', '/api/policy/policies/production-needs-two-replicas', member, { yaml: requireReplicas })).statusCode).toBe(403);
    const broken = await call('PUT', '/api/policy/policies/production-needs-two-replicas', t.adminToken, { yaml: requireReplicas.replace('object.spec.replicas >= 2', 'object.spec.replicas >=') });
    expect(broken.statusCode).toBe(400);
    expect((broken.json() as { error: { message: string } }).error.message).toMatch(/spec\.validations\[0\]\.expression: invalid CEL expression/);
    const misnamed = await call('PUT', '/api/policy/policies/other-name', t.adminToken, { yaml: requireReplicas });
    expect(misnamed.statusCode).toBe(400);
    expect((await call('GET', '/api/policy/policies/production-needs-two-replicas', member)).statusCode).toBe(404);

    const created = await call('PUT', '/api/policy/policies/production-needs-two-replicas', t.adminToken, { yaml: requireReplicas });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ source: 'custom', failureAction: 'Enforce', updatedBy: 'user:default/admin' });
    const request = { kind: 'DeployRequest', metadata: { name: 'payments' }, spec: { replicas: 1 } };
    const denied = await call('POST', '/api/policy/check', member, { point: 'deploy', object: request });
    expect((denied.json() as { decisions: { denials: { message: string }[] }[] }).decisions[0]!.denials.map((d) => d.message)).toEqual(['production runs at least 2 replicas; got 1']);

    const audit = await call('PUT', '/api/policy/policies/production-needs-two-replicas', t.adminToken, { yaml: requireReplicas.replace('failureAction: Enforce', 'failureAction: Audit') });
    expect(audit.statusCode).toBe(200);
    const audited = await call('POST', '/api/policy/check', member, { point: 'deploy', object: request });
    expect((audited.json() as { decisions: { allowed: boolean }[] }).decisions[0]!.allowed).toBe(true);

    expect((await call('DELETE', '/api/policy/policies/production-needs-two-replicas', t.adminToken)).statusCode).toBe(204);
    expect((await call('GET', '/api/policy/policies/production-needs-two-replicas', member)).statusCode).toBe(404);
  });

  it('disabling a built-in policy stops it from applying; editing one detaches it from the shipped file', async () => {
    expect((await call('DELETE', '/api/policy/policies/disallow-latest-tag', t.adminToken)).statusCode).toBe(204);
    const off = await call('POST', '/api/policy/check', member, { point: 'deploy', yaml: latestDeployment });
    expect((off.json() as { decisions: { allowed: boolean }[] }).decisions[0]!.allowed).toBe(true);
    const shown = await call('GET', '/api/policy/policies/disallow-latest-tag', member);
    expect(shown.json()).toMatchObject({ enabled: false, modified: false, source: 'builtin' });
    const yaml = (shown.json() as { yaml: string }).yaml;
    const edited = await call('PUT', '/api/policy/policies/disallow-latest-tag', t.adminToken, { yaml: yaml.replace('validationFailureAction: Enforce', 'validationFailureAction: Audit'), enabled: true });
    expect(edited.json()).toMatchObject({ enabled: true, modified: true, failureAction: 'Audit' });
    // Restarting seeds the shipped files again, and leaves the edited policy as the admin left it.
    await t.app.policy.start();
    expect((await call('GET', '/api/policy/policies/disallow-latest-tag', member)).json()).toMatchObject({ modified: true, failureAction: 'Audit' });
    await call('PUT', '/api/policy/policies/disallow-latest-tag', t.adminToken, { yaml });
  });

  it('grants exceptions (admins, with reason and expiry), applies them, and refuses bad ones', async () => {
    const body = { policy: 'disallow-latest-tag', rules: ['validate-image-tag'], match: { kinds: ['Deployment'], names: ['payments'] }, reason: 'vendor image has no versioned tags yet', expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString() };
    expect((await call('POST', '/api/policy/exceptions', member, body)).statusCode).toBe(403);
    const refused: [unknown, RegExp][] = [
      [{ ...body, expiresAt: '2020-01-01T00:00:00Z' }, /in the past/],
      [{ ...body, expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() }, /at most 366 days/],
      [{ ...body, rules: ['no-such-rule'] }, /has no rule no-such-rule/],
      [{ ...body, match: {} }, /name at least one kind, name or namespace/],
    ];
    for (const [input, message] of refused) {
      const res = await call('POST', '/api/policy/exceptions', t.adminToken, input);
      expect(res.statusCode, JSON.stringify(input)).toBe(400);
      expect((res.json() as { error: { message: string } }).error.message).toMatch(message);
    }
    expect((await call('POST', '/api/policy/exceptions', t.adminToken, { ...body, policy: 'nope' })).statusCode).toBe(404);

    const created = await call('POST', '/api/policy/exceptions', t.adminToken, body);
    expect(created.statusCode, created.body).toBe(201);
    const exception = created.json() as { id: string; approvedBy: string };
    expect(exception.approvedBy).toBe('user:default/admin');
    const checked = await call('POST', '/api/policy/check', member, { point: 'deploy', yaml: latestDeployment });
    const decision = (checked.json() as { decisions: { allowed: boolean; results: { rule: string; status: string; exception?: string }[] }[] }).decisions[0]!;
    expect(decision.allowed).toBe(true);
    expect(decision.results).toContainEqual(expect.objectContaining({ rule: 'autogen-validate-image-tag', status: 'skip', exception: exception.id }));

    expect((await call('GET', '/api/policy/exceptions', member)).json()).toMatchObject({ items: [{ id: exception.id }] });
    expect((await call('DELETE', `/api/policy/exceptions/${exception.id}`, t.adminToken)).statusCode).toBe(204);
    expect((await call('DELETE', `/api/policy/exceptions/${exception.id}`, t.adminToken)).statusCode).toBe(404);
    const again = await call('POST', '/api/policy/check', member, { point: 'deploy', yaml: latestDeployment });
    expect((again.json() as { decisions: { allowed: boolean }[] }).decisions[0]!.allowed).toBe(false);
  });

  it('enforces team budgets at provisioning with the numbers, and records decisions in the ledger and reports', async () => {
    expect((await call('PUT', '/api/policy/budgets/team/payments', member, { monthlyLimit: 100 })).statusCode).toBe(403);
    const set = await call('PUT', `/api/policy/budgets/team/${encodeURIComponent('group:default/payments')}`, t.adminToken, { monthlyLimit: 100, currency: 'EUR' });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ scope: 'team', name: 'payments', monthlyLimit: 100, currency: 'EUR' });
    const claim = (monthly: number) => ({ kind: 'ResourceClaim', metadata: { name: 'orders-db', labels: { owner: 'payments', 'cost-center': 'cc-1', environment: 'staging' } }, spec: { cost: { monthly } } });
    const checked = await call('POST', '/api/policy/check', member, { point: 'provisioning', object: claim(30), context: { teamSpend: 80 } });
    expect((checked.json() as { decisions: { denials: { message: string }[] }[] }).decisions[0]!.denials.map((d) => d.message)).toEqual([
      'team payments has a budget of 100 EUR/month; 80 is committed and this claim adds 30, which would make 110 (over by 10)',
    ]);

    // The service API, as the resources layer will call it: a real decision is recorded.
    const system = { kind: 'system', name: 'resources' } as const;
    const decision = await t.app.policy.decide(system, { point: 'provisioning', object: claim(130), subjects: ['service:default/orders'] });
    expect(decision.allowed).toBe(false);
    const events = await t.app.kernel.ledger.query({ kinds: ['policy.decision.made'], subject: 'group:default/payments' }, 10);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'system:resources', subjects: expect.arrayContaining(['point:provisioning', 'service:default/orders']), payload: { allowed: false, object: 'ResourceClaim orders-db' } });
    const violations = await call('GET', '/api/policy/violations?owner=payments', member);
    expect((violations.json() as { items: unknown[] }).items).toEqual([expect.objectContaining({ policy: 'team-budget', status: 'fail', owner: 'group:default/payments', subject: 'ResourceClaim orders-db' })]);
    const listed = (await call('GET', '/api/policy/policies', member)).json() as { items: { name: string; violations: number }[] };
    expect(listed.items.find((p) => p.name === 'team-budget')!.violations).toBe(1);

    // A later passing decision for the same subject clears the violation.
    await t.app.policy.decide(system, { point: 'provisioning', object: claim(10) });
    expect(((await call('GET', '/api/policy/violations?owner=payments', member)).json() as { items: unknown[] }).items).toEqual([]);

    expect((await call('DELETE', '/api/policy/budgets/team/payments', t.adminToken)).statusCode).toBe(204);
    expect((await call('DELETE', '/api/policy/budgets/team/payments', t.adminToken)).statusCode).toBe(404);
  });

  it('records decisions on one subject made at the same moment (two runs of a repository at their gates together)', async () => {
    const system = { kind: 'system', name: 'resources' } as const;
    const claim = { kind: 'ResourceClaim', metadata: { name: 'cache', labels: { owner: 'payments', 'cost-center': 'cc-1', environment: 'staging' } }, spec: { cost: { monthly: 1 } } };
    const decisions = await Promise.all(Array.from({ length: 6 }, () => t.app.policy.decide(system, { point: 'provisioning', object: claim })));
    expect(decisions.every((d) => d.object === decisions[0]!.object)).toBe(true);
  });

  it('answers 401 without a token', async () => {
    const res = await t.app.server.inject({ method: 'GET', url: '/api/policy/policies' });
    expect(res.statusCode).toBe(401);
  });
});
