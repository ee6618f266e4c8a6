import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from './engine.js';
import type { JsonObject } from './json.js';
import { parseKyvernoPolicies } from './load.js';

// Auto-generated rules for Pod controllers, as Kyverno's autogen docs describe them
// (../shared/conformance/kyverno/SEMANTICS.md §9).

function policy(rule: string, annotations = '', name = 'require-team-label') {
  return parseKyvernoPolicies(
    `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: autogen-sample
${annotations}spec:
  rules:
  - name: ${name}
${rule}`,
    `autogen-${name}-${annotations.length}.yaml`,
  )[0]!;
}

const podPattern = `    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "{{ request.object.metadata.name }} needs a team label"
      pattern:
        metadata:
          labels:
            team: "?*"
`;

function deployment(templateLabels: Record<string, string>): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { team: 'on-the-deployment-only' } },
    spec: { template: { metadata: { labels: templateLabels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  };
}

function cronJob(templateLabels: Record<string, string>): JsonObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace: 'default' },
    spec: { schedule: '@daily', jobTemplate: { spec: { template: { metadata: { labels: templateLabels }, spec: { containers: [] } } } } },
  };
}

describe('autogen', () => {
  it('validates the pod template of a Deployment through autogen-<rule>', () => {
    const compiled = policy(podPattern);
    const good = evaluatePolicy(compiled, { operation: 'CREATE', resource: deployment({ team: 'a' }) });
    expect(good.results).toEqual([expect.objectContaining({ rule: 'autogen-require-team-label', status: 'pass' })]);
    // The Deployment's own label does not count: the pattern is checked against spec.template.
    const bad = evaluatePolicy(compiled, { operation: 'CREATE', resource: deployment({}) });
    expect(bad.results[0]!.status).toBe('fail');
  });

  it('rewrites request.object.metadata to the template metadata in variables', () => {
    const compiled = policy(podPattern);
    const bad = evaluatePolicy(compiled, { operation: 'CREATE', resource: { ...deployment({}), spec: { template: { metadata: { name: 'tpl', labels: {} }, spec: {} } } } });
    expect(bad.results[0]!.message).toMatch(/^validation error: tpl needs a team label\./);
  });

  it('validates CronJobs under spec.jobTemplate.spec.template through autogen-cronjob-<rule>', () => {
    const compiled = policy(podPattern);
    expect(evaluatePolicy(compiled, { operation: 'CREATE', resource: cronJob({ team: 'a' }) }).results).toEqual([expect.objectContaining({ rule: 'autogen-cronjob-require-team-label', status: 'pass' })]);
    expect(evaluatePolicy(compiled, { operation: 'CREATE', resource: cronJob({}) }).results[0]!.status).toBe('fail');
  });

  it('follows the autogen-controllers annotation, and "none" turns it off', () => {
    const onlyDeployments = policy(podPattern, '  annotations:\n    pod-policies.kyverno.io/autogen-controllers: Deployment\n');
    expect(evaluatePolicy(onlyDeployments, { operation: 'CREATE', resource: deployment({}) }).results).toHaveLength(1);
    expect(evaluatePolicy(onlyDeployments, { operation: 'CREATE', resource: cronJob({}) }).results).toHaveLength(0);
    const none = policy(podPattern, '  annotations:\n    pod-policies.kyverno.io/autogen-controllers: none\n');
    expect(evaluatePolicy(none, { operation: 'CREATE', resource: deployment({}) }).results).toHaveLength(0);
  });

  it('is off for a policy that selects by name or mixes Pod with other kinds', () => {
    const byName = policy(podPattern.replace('kinds: [Pod]', 'kinds: [Pod]\n          names: ["web-*"]'));
    expect(evaluatePolicy(byName, { operation: 'CREATE', resource: deployment({}) }).results).toHaveLength(0);
    const mixed = policy(podPattern.replace('kinds: [Pod]', 'kinds: [Pod, Service]'));
    expect(evaluatePolicy(mixed, { operation: 'CREATE', resource: deployment({}) }).results).toHaveLength(0);
  });

  it('truncates generated rule names to 63 characters', () => {
    const long = 'a-rule-name-that-is-long-enough-to-need-truncation-x1234567';
    const compiled = policy(podPattern, '', long);
    const result = evaluatePolicy(compiled, { operation: 'CREATE', resource: cronJob({}) }).results[0]!;
    expect(result.rule).toBe(`autogen-cronjob-${long}`.slice(0, 63));
    expect(result.rule).toHaveLength(63);
  });

  it('rewrites object.spec in CEL expressions to the template', () => {
    const compiled = policy(`    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      cel:
        expressions:
        - expression: "object.spec.containers.all(c, c.image.startsWith('registry.example/'))"
          message: images must come from registry.example
`);
    const resource = deployment({});
    expect(evaluatePolicy(compiled, { operation: 'CREATE', resource }).results[0]).toMatchObject({ rule: 'autogen-require-team-label', status: 'fail', message: 'images must come from registry.example' });
  });
});
