import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyLoadError } from '../kyverno/errors.js';
import type { JsonObject } from '../kyverno/json.js';
import { compileStoredPolicy } from '../service.js';
import { decide, exceptionApplies, type ActiveException, type LoadedPolicy } from './decide.js';
import type { EnforcementPoint } from './model.js';

const policiesDir = join(import.meta.dirname, '..', '..', '..', 'policies');
const builtins: LoadedPolicy[] = readdirSync(policiesDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => compileStoredPolicy(readFileSync(join(policiesDir, f), 'utf8'), f).loaded);

function run(point: EnforcementPoint, object: JsonObject, options: { context?: JsonObject; exceptions?: ActiveException[]; policies?: LoadedPolicy[] } = {}) {
  return decide(options.policies ?? builtins, options.exceptions ?? [], { point, object, operation: 'CREATE', context: options.context ?? {}, now: new Date('2026-11-26T12:00:00Z'), dryRun: true });
}

const goodContainer = {
  name: 'web',
  image: 'registry.local/payments@sha256:' + 'a'.repeat(64),
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
  livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
  securityContext: { runAsNonRoot: true },
};

function deployment(container: JsonObject, labels: Record<string, string> = { owner: 'payments', 'cost-center': 'cc-42' }): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'payments', namespace: 'production', labels },
    spec: { replicas: 2, selector: { matchLabels: { app: 'payments' } }, template: { metadata: { labels: { app: 'payments' } }, spec: { containers: [container] } } },
  };
}

function claim(monthly: number, labels: Record<string, string> = { owner: 'payments', 'cost-center': 'cc-42', environment: 'production' }): JsonObject {
  return { apiVersion: 'plinth.dev/v1alpha1', kind: 'ResourceClaim', metadata: { name: 'orders-db', labels }, spec: { module: 'postgres', cost: { monthly } } };
}

describe('the built-in policy set', () => {
  it('lets a well-formed Deployment through at deploy admission, every applicable rule passing', () => {
    const decision = run('deploy', deployment(goodContainer));
    expect(decision.denials).toEqual([]);
    expect(decision.allowed).toBe(true);
    const policies = new Set(decision.results.map((r) => r.policy));
    for (const name of ['require-resource-limits', 'require-probes', 'require-run-as-non-root', 'disallow-privileged-containers', 'disallow-latest-tag', 'require-labels']) expect(policies).toContain(name);
    expect(decision.results.filter((r) => r.status !== 'pass')).toEqual([]);
  });

  it('denies a privileged container on latest with no limits, naming each Enforce rule; Audit rules only report', () => {
    const { resources: _r, readinessProbe: _p, ...bare } = goodContainer;
    const decision = run('deploy', deployment({ ...bare, image: 'nginx:latest', securityContext: { privileged: true } }, { owner: 'payments' }));
    expect(decision.allowed).toBe(false);
    const denied = decision.denials.map((d) => `${d.policy}/${d.rule}`).sort();
    expect(denied).toEqual([
      'disallow-latest-tag/autogen-validate-image-tag',
      'disallow-privileged-containers/autogen-privileged-containers',
      'require-labels/check-owner-and-cost-center',
      'require-resource-limits/autogen-validate-resources',
    ]);
    // Probes are Audit: a failure is reported and does not deny.
    expect(decision.results).toContainEqual(expect.objectContaining({ policy: 'require-probes', status: 'fail', failureAction: 'Audit' }));
  });

  it('refuses a claim that would take the team past its budget, with the numbers', () => {
    const context = { budget: { team: { name: 'payments', limit: 500, currency: 'USD', spent: 420 } } };
    const within = run('provisioning', claim(80), { context });
    expect(within.allowed).toBe(true);
    const over = run('provisioning', claim(95.5), { context });
    expect(over.allowed).toBe(false);
    expect(over.denials).toHaveLength(1);
    expect(over.denials[0]!.message).toBe('team payments has a budget of 500 USD/month; 420 is committed and this claim adds 95.5, which would make 515.5 (over by 15.5)');
    // No budget for the team: nothing to check.
    expect(run('provisioning', claim(10_000), { context: { budget: {} } }).allowed).toBe(true);
  });

  it('requires owner, cost-center and environment tags on claims, naming the missing ones', () => {
    const decision = run('provisioning', claim(5, { owner: 'payments' }), { context: { budget: {} } });
    expect(decision.denials.map((d) => d.message)).toEqual(['the claim lacks the tag(s) cost-center, environment: set them in metadata.labels']);
  });

  it('blocks a production pipeline result with a critical finding, and lets staging through', () => {
    const result = (environment: string): JsonObject => ({
      apiVersion: 'plinth.dev/v1alpha1',
      kind: 'PipelineResult',
      metadata: { name: 'payments' },
      spec: { environment, findings: [{ severity: 'high', rule: 'GHSA-1' }, { severity: 'critical', rule: 'GHSA-2', file: 'package-lock.json' }] },
    });
    const production = run('ci', result('production'));
    expect(production.allowed).toBe(false);
    expect(production.denials.find((d) => d.policy === 'critical-vulnerabilities-block-production')!.message).toBe('1 critical finding(s) block production: GHSA-2 in package-lock.json');
    expect(run('ci', result('staging')).results.filter((r) => r.policy === 'critical-vulnerabilities-block-production')).toEqual([]);
  });

  it('reports but never blocks at the background scan', () => {
    const decision = run('scan', deployment({ ...goodContainer, image: 'nginx:latest' }));
    expect(decision.allowed).toBe(true);
    expect(decision.denials).toEqual([]);
    expect(decision.results).toContainEqual(expect.objectContaining({ policy: 'disallow-latest-tag', status: 'fail' }));
  });
});

describe('policy exceptions', () => {
  const exception: ActiveException = { id: 'pex-1', policy: 'disallow-latest-tag', rules: ['validate-image-tag'], match: { kinds: ['Deployment'], names: ['pay*'] } };

  it('turn a matching failure into a skip naming the exception, for the rule and its autogen variants', () => {
    const decision = run('deploy', deployment({ ...goodContainer, image: 'nginx:latest' }), { exceptions: [exception] });
    expect(decision.allowed).toBe(true);
    expect(decision.results).toContainEqual(expect.objectContaining({ policy: 'disallow-latest-tag', rule: 'autogen-validate-image-tag', status: 'skip', exception: 'pex-1' }));
  });

  it('do not cover other names, kinds or rules', () => {
    const other = { ...deployment({ ...goodContainer, image: 'nginx:latest' }), metadata: { name: 'orders', labels: { owner: 'x', 'cost-center': 'y' } } };
    expect(run('deploy', other, { exceptions: [exception] }).allowed).toBe(false);
    expect(exceptionApplies(exception, { policy: 'disallow-latest-tag', rule: 'require-image-tag' }, deployment(goodContainer))).toBe(false);
    expect(exceptionApplies(exception, { policy: 'disallow-latest-tag', rule: 'autogen-cronjob-validate-image-tag' }, deployment(goodContainer))).toBe(true);
  });
});

describe('GuardrailPolicy loading and evaluation', () => {
  const policy = (spec: string) => `apiVersion: policy.plinth.dev/v1alpha1
kind: GuardrailPolicy
metadata:
  name: test-policy
spec:
${spec}`;

  it('refuses unknown fields, bad points and broken CEL with the field path', () => {
    const cases: [string, RegExp][] = [
      ['  points: [deploy]\n  validations: [{ expression: "true" }]\n  extra: 1', /spec: unknown field "extra"/],
      ['  points: [launch]\n  validations: [{ expression: "true" }]', /spec\.points\[0\]/],
      ['  points: [deploy]\n  validations: [{ expression: "object.x ==" }]', /spec\.validations\[0\]\.expression: invalid CEL expression/],
      ['  points: [deploy]\n  validations: []', /spec\.validations: name at least one validation/],
    ];
    for (const [spec, reason] of cases) {
      let error: unknown;
      try {
        compileStoredPolicy(policy(spec), 'test.yaml');
      } catch (err) {
        error = err;
      }
      expect(error, spec).toBeInstanceOf(PolicyLoadError);
      expect((error as Error).message).toMatch(reason);
    }
    expect(() => compileStoredPolicy('kind: Secret\napiVersion: v1\n', 'x.yaml')).toThrow(/expected a Kyverno ClusterPolicy/);
    expect(() => compileStoredPolicy(policy('  points: [deploy]\n  validations: [{ expression: "true" }]') + '\n---\n' + policy('  points: [deploy]\n  validations: [{ expression: "true" }]'), 'x.yaml')).toThrow(/exactly one policy document, found 2/);
  });

  it('fails closed on an evaluation error, and lets it through under failurePolicy Ignore', () => {
    const loaded = (failurePolicy: string) => [compileStoredPolicy(policy(`  points: [deploy]\n  failureAction: Enforce\n  failurePolicy: ${failurePolicy}\n  validations: [{ expression: "object.spec.replicas > 1" }]`), 'x.yaml').loaded];
    const object = { kind: 'Thing', metadata: { name: 'a' }, spec: {} };
    const failClosed = run('deploy', object, { policies: loaded('Fail') });
    expect(failClosed.allowed).toBe(false);
    expect(failClosed.denials[0]).toMatchObject({ status: 'error' });
    const ignored = run('deploy', object, { policies: loaded('Ignore') });
    expect(ignored.allowed).toBe(true);
  });

  it('selects by kind wildcard and match conditions, and sees the request', () => {
    const loaded = [
      compileStoredPolicy(
        policy(`  points: [deploy]\n  kinds: ["Deploy*"]\n  failureAction: Enforce\n  matchConditions: [{ name: prod, expression: "object.spec.environment == 'production'" }]\n  validations: [{ expression: "request.user.role == 'platform-admin'", message: only admins deploy to production }]`),
        'x.yaml',
      ).loaded,
    ];
    const request = (environment: string) => ({ kind: 'DeployRequest', metadata: { name: 'a' }, spec: { environment } });
    const asMember = (object: JsonObject) => decide(loaded, [], { point: 'deploy', object, operation: 'CREATE', user: { username: 'alice', role: 'member' }, context: {}, now: new Date(), dryRun: true });
    expect(asMember(request('production')).denials.map((d) => d.message)).toEqual(['only admins deploy to production']);
    expect(asMember(request('staging')).results).toEqual([]);
    expect(asMember({ kind: 'PipelineResult', metadata: { name: 'a' }, spec: { environment: 'production' } }).results).toEqual([]);
  });
});
