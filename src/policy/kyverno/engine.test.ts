import { describe, expect, it } from 'vitest';
import { decideAdmission } from './admission.js';
import { evaluatePolicy, type EvaluationInput } from './engine.js';
import type { JsonObject } from './json.js';
import { parseKyvernoPolicies } from './load.js';

// End-to-end behaviour of rules, following Kyverno's policy documentation; the corpus does not
// exercise nested foreach, applyRules: One, failureActionOverrides or allowExistingViolations.

let counter = 0;
function load(spec: string, metadata = 'name: sample') {
  return parseKyvernoPolicies(`apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  ${metadata}\nspec:\n${spec}`, `engine-${counter++}.yaml`)[0]!;
}

function pod(spec: JsonObject, metadata: JsonObject = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...metadata }, spec };
}

function statuses(policy: ReturnType<typeof load>, input: EvaluationInput) {
  return evaluatePolicy(policy, input).results.map((r) => `${r.rule}:${r.status}`);
}

const matchPods = `    match:
      any:
      - resources:
          kinds: [Pod]
`;

describe('rule flow', () => {
  it('skips on false preconditions and errors on a precondition that reads a missing key', () => {
    const policy = load(`  background: false
  rules:
  - name: only-prod
${matchPods}    preconditions:
      all:
      - key: "{{ request.object.metadata.labels.env }}"
        operator: Equals
        value: prod
    validate:
      deny: {}
`);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}, { labels: { env: 'dev' } }) })).toEqual(['only-prod:skip']);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}, { labels: { env: 'prod' } }) })).toEqual(['only-prod:fail']);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}) })).toEqual(['only-prod:error']);
  });

  it('gives no result when match/exclude do not select the resource', () => {
    const policy = load(`  rules:
  - name: not-system
${matchPods}    exclude:
      any:
      - resources:
          namespaces: ["kube-*"]
    validate:
      deny: {}
`);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}, { namespace: 'kube-system' }) })).toEqual([]);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}) })).toEqual(['not-system:fail']);
  });

  it('on DELETE reads request.object as the deleted object and gives no result for patterns', () => {
    const policy = load(`  rules:
  - name: protect
${matchPods}    validate:
      message: "{{ request.object.metadata.name }} is protected"
      deny:
        conditions:
          any:
          - key: "{{ request.object.metadata.labels.protected || '' }}"
            operator: Equals
            value: "true"
  - name: shape
${matchPods}    validate:
      pattern:
        spec:
          containers: [{name: "?*"}]
`);
    const result = evaluatePolicy(policy, { operation: 'DELETE', resource: pod({ containers: [] }, { labels: { protected: 'true' } }) });
    expect(result.results).toEqual([expect.objectContaining({ rule: 'protect', status: 'fail', message: 'p is protected' })]);
  });

  it('loads variable context entries in order, with defaults', () => {
    const policy = load(`  rules:
  - name: replicas
    match:
      any:
      - resources:
          kinds: [Deployment]
    context:
    - name: replicas
      variable:
        jmesPath: request.object.spec.replicas
        default: 1
    - name: limit
      variable:
        value: {max: 3}
        jmesPath: max
    validate:
      deny:
        conditions:
          any:
          - key: "{{ replicas }}"
            operator: GreaterThan
            value: "{{ limit }}"
`);
    const deployment = (spec: JsonObject): JsonObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec });
    expect(statuses(policy, { operation: 'CREATE', resource: deployment({ replicas: 5 }) })).toEqual(['replicas:fail']);
    expect(statuses(policy, { operation: 'CREATE', resource: deployment({}) })).toEqual(['replicas:pass']);
  });

  it('reports fail as warn when the policy is not scored', () => {
    const policy = load(`  rules:\n  - name: r\n${matchPods}    validate:\n      deny: {}\n`, 'name: sample\n  annotations:\n    policies.kyverno.io/scored: "false"');
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}) })).toEqual(['r:warn']);
  });

  it('stops after the first pass or fail with applyRules: One', () => {
    const policy = load(`  applyRules: One
  rules:
  - name: first
${matchPods}    preconditions:
      all:
      - key: a
        operator: Equals
        value: b
    validate:
      deny: {}
  - name: second
${matchPods}    validate:
      deny: {}
  - name: third
${matchPods}    validate:
      deny: {}
`);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}) })).toEqual(['first:skip', 'second:fail']);
  });
});

describe('foreach', () => {
  const nested = load(`  rules:
  - name: no-root-ports
${matchPods}    validate:
      message: "{{ element0.name }} exposes {{ element1.containerPort }}"
      foreach:
      - list: request.object.spec.containers
        foreach:
        - list: element.ports
          deny:
            conditions:
              any:
              - key: "{{ element1.containerPort }}"
                operator: LessThan
                value: 1024
`);

  it('nests, with element<N> naming each level', () => {
    const bad = evaluatePolicy(nested, { operation: 'CREATE', resource: pod({ containers: [{ name: 'web', ports: [{ containerPort: 8080 }, { containerPort: 80 }] }] }) });
    expect(bad.results[0]).toMatchObject({ status: 'fail', message: 'validation failure: validation failure: web exposes 80' });
    expect(statuses(nested, { operation: 'CREATE', resource: pod({ containers: [{ name: 'web', ports: [{ containerPort: 8080 }] }] }) })).toEqual(['no-root-ports:pass']);
  });

  it('gives no result when no element is evaluated', () => {
    expect(statuses(nested, { operation: 'CREATE', resource: pod({ containers: [{ name: 'web', ports: [] }] }) })).toEqual([]);
  });

  it('applies patterns to each element (element scope), with foreach preconditions', () => {
    const policy = load(`  rules:
  - name: pinned
${matchPods}    validate:
      foreach:
      - list: request.object.spec.containers
        preconditions:
          all:
          - key: "{{ element.name }}"
            operator: NotEquals
            value: debug
        pattern:
          image: "*@sha256:*"
`);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({ containers: [{ name: 'app', image: 'a@sha256:1' }, { name: 'debug', image: 'busybox' }] }) })).toEqual(['pinned:pass']);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({ containers: [{ name: 'app', image: 'a:1' }] }) })).toEqual(['pinned:fail']);
  });

  it('errors when elementScope is true for elements that are not maps', () => {
    const policy = load(`  rules:
  - name: images
${matchPods}    validate:
      foreach:
      - list: request.object.spec.containers[].image
        elementScope: true
        pattern:
          x: y
`);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({ containers: [{ name: 'a', image: 'x' }] }) })).toEqual(['images:error']);
  });
});

describe('failure actions', () => {
  it('lets failureActionOverrides change the action per namespace, never the verdict', () => {
    const policy = load(`  validationFailureAction: Audit
  validationFailureActionOverrides:
  - action: Enforce
    namespaces: [prod]
  rules:
  - name: r
${matchPods}    validate:
      deny: {}
`);
    expect(evaluatePolicy(policy, { operation: 'CREATE', resource: pod({}, { namespace: 'prod' }) }).results[0]).toMatchObject({ status: 'fail', failureAction: 'Enforce' });
    expect(evaluatePolicy(policy, { operation: 'CREATE', resource: pod({}, { namespace: 'dev' }) }).results[0]).toMatchObject({ status: 'fail', failureAction: 'Audit' });
  });

  it('skips an Enforce failure on UPDATE when the old object already failed (allowExistingViolations)', () => {
    const rules = (action: string, allow = '') => `  rules:
  - name: r
${matchPods}    validate:
      failureAction: ${action}${allow}
      pattern:
        metadata:
          labels:
            team: "?*"
`;
    const old = pod({}, { labels: {} });
    const current = pod({}, { labels: { other: 'x' } });
    expect(statuses(load(rules('Enforce')), { operation: 'UPDATE', resource: current, oldResource: old })).toEqual(['r:skip']);
    expect(statuses(load(rules('Enforce')), { operation: 'UPDATE', resource: current, oldResource: pod({}, { labels: { team: 'a' } }) })).toEqual(['r:fail']);
    expect(statuses(load(rules('Audit')), { operation: 'UPDATE', resource: current, oldResource: old })).toEqual(['r:fail']);
    expect(statuses(load(rules('Enforce', '\n      allowExistingViolations: false')), { operation: 'UPDATE', resource: current, oldResource: old })).toEqual(['r:fail']);
  });

  it('denies admission on an Enforce failure, and on an Enforce error unless failurePolicy is Ignore', () => {
    const policy = (action: string, failurePolicy = 'Fail') =>
      load(`  validationFailureAction: ${action}
  failurePolicy: ${failurePolicy}
  background: false
  rules:
  - name: r
${matchPods}    validate:
      deny:
        conditions:
          any:
          - key: "{{ request.object.metadata.labels.missing }}"
            operator: Equals
            value: x
`);
    const input: EvaluationInput = { operation: 'CREATE', resource: pod({}) };
    expect(decideAdmission([policy('Enforce')], input)).toMatchObject({ allowed: false, denials: [{ rule: 'r', status: 'error' }] });
    expect(decideAdmission([policy('Enforce', 'Ignore')], input).allowed).toBe(true);
    expect(decideAdmission([policy('Audit')], input).allowed).toBe(true);
  });
});

describe('selection', () => {
  it('uses namespace labels for namespaceSelector and ignores user filters without user info', () => {
    const policy = load(`  background: false
  rules:
  - name: r
    match:
      any:
      - resources:
          kinds: [Pod]
          namespaceSelector:
            matchLabels:
              tier: prod
        subjects:
        - kind: User
          name: alice
    validate:
      deny: {}
`);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}), namespaceLabels: { tier: 'prod' } })).toEqual(['r:fail']);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}), namespaceLabels: { tier: 'dev' } })).toEqual([]);
    const bob = { username: 'bob', groups: [], roles: [], clusterRoles: [] };
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}), namespaceLabels: { tier: 'prod' }, userInfo: bob })).toEqual([]);
  });

  it('matches group/version/kind forms, operations and wildcard names', () => {
    const policy = load(`  rules:
  - name: r
    match:
      any:
      - resources:
          kinds: ["apps/v1/Deployment"]
          names: ["web-*"]
          operations: [UPDATE]
    validate:
      deny: {}
`);
    const deployment = (name: string): JsonObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' }, spec: {} });
    expect(statuses(policy, { operation: 'UPDATE', resource: deployment('web-1'), oldResource: deployment('web-1') })).toEqual(['r:fail']);
    expect(statuses(policy, { operation: 'CREATE', resource: deployment('web-1') })).toEqual([]);
    expect(statuses(policy, { operation: 'UPDATE', resource: deployment('api'), oldResource: deployment('api') })).toEqual([]);
  });

  it('applies a namespaced Policy only in its namespace', () => {
    const policy = parseKyvernoPolicies(`apiVersion: kyverno.io/v1\nkind: Policy\nmetadata: {name: p, namespace: team-a}\nspec:\n  rules:\n  - name: r\n${matchPods}    validate:\n      deny: {}\n`, 'namespaced.yaml')[0]!;
    expect(policy.key).toBe('team-a/p');
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}, { namespace: 'team-a' }) })).toEqual(['r:fail']);
    expect(statuses(policy, { operation: 'CREATE', resource: pod({}, { namespace: 'team-b' }) })).toEqual([]);
  });
});

describe('CEL rules', () => {
  const policy = load(`  rules:
  - name: replicas
    match:
      any:
      - resources:
          kinds: [Deployment]
    celPreconditions:
    - name: not-paused
      expression: "!object.spec.?paused.orValue(false)"
    validate:
      cel:
        variables:
        - name: replicas
          expression: "object.spec.?replicas.orValue(1)"
        expressions:
        - expression: "variables.replicas <= 5"
          messageExpression: "'replicas must be at most 5, got ' + string(variables.replicas)"
        - expression: "object.metadata.name.matches('^[a-z-]+$')"
          message: bad name
`);
  const deployment = (name: string, spec: JsonObject): JsonObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' }, spec });

  it('passes, fails with messageExpression, and skips on a false CEL precondition', () => {
    expect(evaluatePolicy(policy, { operation: 'CREATE', resource: deployment('web', { replicas: 3 }) }).results[0]!.status).toBe('pass');
    expect(evaluatePolicy(policy, { operation: 'CREATE', resource: deployment('web', { replicas: 9 }) }).results[0]).toMatchObject({ status: 'fail', message: 'replicas must be at most 5, got 9' });
    expect(evaluatePolicy(policy, { operation: 'CREATE', resource: deployment('Web', {}) }).results[0]).toMatchObject({ status: 'fail', message: 'bad name' });
    expect(evaluatePolicy(policy, { operation: 'CREATE', resource: deployment('web', { paused: true, replicas: 9 }) }).results[0]!.status).toBe('skip');
  });

  it('fails (never passes) when an expression cannot be evaluated', () => {
    const broken = load(`  rules:
  - name: r
${matchPods}    validate:
      cel:
        expressions:
        - expression: "object.spec.missing.size() > 0"
`);
    expect(evaluatePolicy(broken, { operation: 'CREATE', resource: pod({}) }).results[0]).toMatchObject({ status: 'fail', message: expect.stringMatching(/resulted in error/) });
  });
});
