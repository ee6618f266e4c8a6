import { describe, expect, it } from 'vitest';
import { PolicyLoadError } from './errors.js';
import { parseKyvernoPolicies } from './load.js';

// A policy that cannot be evaluated correctly is refused when it is loaded, with the field path and
// the reason, never discovered later as a silent pass.

function policyWith(rule: string, spec = ''): string {
  return `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: sample
spec:
${spec}  rules:
  - name: check
    match:
      any:
      - resources:
          kinds: [Pod]
${rule}`;
}

function refusal(text: string): PolicyLoadError {
  try {
    parseKyvernoPolicies(text, 'policy.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyLoadError);
    return err as PolicyLoadError;
  }
  throw new Error('the policy was accepted');
}

describe('loading policies', () => {
  it('compiles a valid policy once and returns the cached result for the same text', () => {
    const text = policyWith(`    validate:
      message: privileged containers are not allowed
      pattern:
        spec:
          containers:
          - =(securityContext):
              =(privileged): false
`);
    const first = parseKyvernoPolicies(text, 'policy.yaml');
    expect(first).toHaveLength(1);
    expect(first[0]!.name).toBe('sample');
    expect(parseKyvernoPolicies(text, 'policy.yaml')).toBe(first);
  });

  it('refuses an unknown field with its path', () => {
    const error = refusal(policyWith(`    validate:
      patern:
        spec: {}
`));
    expect(error.name).toBe('InputError');
    expect(error.problems).toContainEqual({ path: 'spec.rules[0].validate', reason: 'unknown field "patern"' });
  });

  it('refuses a bad pattern', () => {
    const error = refusal(policyWith(`    validate:
      pattern:
        spec:
          containers: []
          ^(volumes): {name: data}
`));
    expect(error.problems).toEqual([
      { path: 'spec.rules[0].validate.pattern.spec.^(volumes)', reason: 'an existence anchor ^() needs a list of maps' },
      { path: 'spec.rules[0].validate.pattern.spec.containers', reason: 'a list pattern needs at least one element' },
    ]);
  });

  it('refuses an invalid JMESPath expression in a variable', () => {
    const error = refusal(policyWith(`    validate:
      deny:
        conditions:
          any:
          - key: "{{ request.object.metadata.name | | }}"
            operator: Equals
            value: x
`));
    expect(error.problems[0]!.path).toBe('spec.rules[0].validate.deny.conditions.any[0].key');
    expect(error.problems[0]!.reason).toMatch(/invalid JMESPath expression/);
  });

  it('refuses an invalid CEL expression and an unknown operator', () => {
    expect(refusal(policyWith(`    validate:
      cel:
        expressions:
        - expression: "object.spec.("
`)).problems[0]!.path).toBe('spec.rules[0].validate.cel.expressions[0].expression');
    expect(refusal(policyWith(`    validate:
      deny:
        conditions:
          all:
          - key: a
            operator: Bigger
            value: b
`)).problems).toEqual([{ path: 'spec.rules[0].validate.deny.conditions.all[0].operator', reason: 'unknown operator "Bigger"' }]);
  });

  it('refuses what it cannot evaluate instead of ignoring it', () => {
    expect(refusal(policyWith(`    mutate:
      patchStrategicMerge: {}
`)).problems[0]!.reason).toMatch(/mutate rules are not supported/);
    expect(refusal(policyWith(`    context:
    - name: cm
      configMap: {name: x, namespace: y}
    validate:
      deny: {}
`)).problems[0]!.reason).toMatch(/configMap are not supported/);
  });

  it('refuses user-info variables in a background policy, as Kyverno does', () => {
    const rule = `    validate:
      deny:
        conditions:
          any:
          - key: "{{ request.userInfo.username }}"
            operator: Equals
            value: admin
`;
    expect(refusal(policyWith(rule)).problems[0]!.reason).toMatch(/needs background: false/);
    expect(parseKyvernoPolicies(policyWith(rule, '  background: false\n'), 'policy.yaml')).toHaveLength(1);
  });

  it('refuses a document that is not a Kyverno policy, and bad YAML with its line', () => {
    expect(refusal('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n').problems[0]!.reason).toMatch(/expected a kyverno.io ClusterPolicy or Policy/);
    expect(refusal('apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: [\n').message).toMatch(/policy.yaml/);
  });
});
