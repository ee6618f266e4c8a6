import { describe, expect, it } from 'vitest';
import type { JsonValue } from './json.js';
import { compilePattern, matchPattern, type PatternOutcome } from './pattern.js';
import { resolveReferences } from './references.js';

// Expected outcomes follow Kyverno's documentation of validate patterns (anchors, operators,
// wildcards) and ../shared/conformance/kyverno/SEMANTICS.md §3–4; the corpus never exercises the
// existence anchor, unit quantities in comparisons or durations, so they are covered here.

function match(pattern: JsonValue, resource: JsonValue): PatternOutcome['status'] {
  const problems: { path: string; reason: string }[] = [];
  const compiled = compilePattern(pattern, problems);
  expect(problems).toEqual([]);
  return matchPattern(resource, compiled).status;
}

describe('existence anchor ^()', () => {
  const pattern = { spec: { '^(containers)': [{ name: 'sidecar-*' }] } };

  it('passes when at least one list element matches', () => {
    expect(match(pattern, { spec: { containers: [{ name: 'app' }, { name: 'sidecar-proxy' }] } })).toBe('pass');
  });

  it('fails when no element matches', () => {
    expect(match(pattern, { spec: { containers: [{ name: 'app' }] } })).toBe('fail');
  });

  it('passes when the key is absent', () => {
    expect(match(pattern, { spec: {} })).toBe('pass');
  });

  it('fails when the value is not a list', () => {
    expect(match(pattern, { spec: { containers: { name: 'sidecar-a' } } })).toBe('fail');
  });

  it('needs every map of the pattern list to be matched by some element', () => {
    const two = { spec: { '^(containers)': [{ name: 'a' }, { name: 'b' }] } };
    expect(match(two, { spec: { containers: [{ name: 'a' }, { name: 'b' }] } })).toBe('pass');
    expect(match(two, { spec: { containers: [{ name: 'a' }] } })).toBe('fail');
  });

  it('is refused at compile time unless its value is a list of maps', () => {
    const problems: { path: string; reason: string }[] = [];
    compilePattern({ '^(containers)': { name: 'x' } }, problems);
    expect(problems).toEqual([{ path: '^(containers)', reason: 'an existence anchor ^() needs a list of maps' }]);
  });

  it('turns an unrelated failure into an error when its key was never in the resource', () => {
    // Kyverno reports a failure with an anchor key missing from the resource as `error`.
    const pattern = { spec: { '^(volumes)': [{ name: 'data' }], containers: [{ image: 'registry.example/*' }] } };
    expect(match(pattern, { spec: { containers: [{ image: 'docker.io/nginx' }] } })).toBe('error');
    expect(match(pattern, { spec: { volumes: [{ name: 'data' }], containers: [{ image: 'docker.io/nginx' }] } })).toBe('fail');
  });
});

describe('conditional, equality, negation and global anchors', () => {
  const conditional = { spec: { containers: [{ '(image)': '*:latest', imagePullPolicy: 'Always' }] } };

  it('(k): checks the siblings only when the condition holds, and skips otherwise', () => {
    expect(match(conditional, { spec: { containers: [{ image: 'nginx:latest', imagePullPolicy: 'Always' }] } })).toBe('pass');
    expect(match(conditional, { spec: { containers: [{ image: 'nginx:latest', imagePullPolicy: 'IfNotPresent' }] } })).toBe('fail');
    expect(match(conditional, { spec: { containers: [{ image: 'nginx:1.25' }] } })).toBe('skip');
    expect(match(conditional, { spec: { containers: [{ name: 'no-image' }] } })).toBe('skip');
  });

  it('(k): a list skips only when every element skipped', () => {
    const resource: JsonValue = { spec: { containers: [{ image: 'nginx:1.25' }, { image: 'nginx:latest', imagePullPolicy: 'Always' }] } };
    expect(match(conditional, resource)).toBe('pass');
  });

  it('=(k): absent passes, present must match', () => {
    const pattern = { spec: { '=(hostNetwork)': false } };
    expect(match(pattern, { spec: {} })).toBe('pass');
    expect(match(pattern, { spec: { hostNetwork: false } })).toBe('pass');
    expect(match(pattern, { spec: { hostNetwork: true } })).toBe('fail');
  });

  it('X(k): any presence fails, even null', () => {
    const pattern = { spec: { volumes: [{ 'X(hostPath)': 'null' }] } };
    expect(match(pattern, { spec: { volumes: [{ name: 'a', emptyDir: {} }] } })).toBe('pass');
    expect(match(pattern, { spec: { volumes: [{ name: 'a', hostPath: null }] } })).toBe('fail');
  });

  it('<(k): a mismatch skips the whole pattern; an absent key does not', () => {
    const pattern = { metadata: { '<(namespace)': 'prod' }, spec: { replicas: '>1' } };
    expect(match(pattern, { metadata: { namespace: 'dev' }, spec: { replicas: 1 } })).toBe('skip');
    expect(match(pattern, { metadata: { namespace: 'prod' }, spec: { replicas: 1 } })).toBe('fail');
    expect(match(pattern, { metadata: {}, spec: { replicas: 1 } })).toBe('fail');
  });
});

describe('scalar operators', () => {
  it('compares Kubernetes quantities with units', () => {
    const pattern = { memory: '<=2Gi' };
    expect(match(pattern, { memory: '1Gi' })).toBe('pass');
    expect(match(pattern, { memory: '2048Mi' })).toBe('pass');
    expect(match(pattern, { memory: '2049Mi' })).toBe('fail');
    expect(match({ cpu: '>=500m' }, { cpu: '1' })).toBe('pass');
    expect(match({ cpu: '>=500m' }, { cpu: '250m' })).toBe('fail');
    expect(match({ memory: '1Gi' }, { memory: '1024Mi' })).toBe('pass');
  });

  it('reads a missing value as 0 for < and <=, so they pass, while > fails', () => {
    expect(match({ memory: '<=2Gi' }, {})).toBe('pass');
    expect(match({ replicas: '>0' }, {})).toBe('fail');
  });

  it('compares Go durations before quantities (1m is a minute there)', () => {
    expect(match({ ttl: '<=1h' }, { ttl: '30m' })).toBe('pass');
    expect(match({ ttl: '<=1h' }, { ttl: '1h30m' })).toBe('fail');
    expect(match({ ttl: '>10s' }, { ttl: '1m' })).toBe('pass');
  });

  it('supports ranges a-b and a!-b, numbers and quantities', () => {
    expect(match({ port: '8000-9000' }, { port: 8080 })).toBe('pass');
    expect(match({ port: '8000-9000' }, { port: 9000 })).toBe('pass');
    expect(match({ port: '8000-9000' }, { port: 9001 })).toBe('fail');
    expect(match({ memory: '100Mi!-1024Mi' }, { memory: '2Gi' })).toBe('pass');
    expect(match({ memory: '100Mi!-1024Mi' }, { memory: '512Mi' })).toBe('fail');
  });

  it('combines alternatives with | and conjunctions with &', () => {
    expect(match({ policy: 'Always|IfNotPresent' }, { policy: 'IfNotPresent' })).toBe('pass');
    expect(match({ policy: 'Always|IfNotPresent' }, { policy: 'Never' })).toBe('fail');
    expect(match({ replicas: '>1 & <5' }, { replicas: 3 })).toBe('pass');
    expect(match({ replicas: '>1 & <5' }, { replicas: 5 })).toBe('fail');
  });

  it('! negates a wildcard and fails on a missing value', () => {
    expect(match({ image: '!*:latest' }, { image: 'nginx:1.25' })).toBe('pass');
    expect(match({ image: '!*:latest' }, { image: 'nginx:latest' })).toBe('fail');
    expect(match({ image: '!*:latest' }, {})).toBe('fail');
  });

  it('?* needs at least one character; * under a key needs a non-null value', () => {
    expect(match({ name: '?*' }, { name: 'a' })).toBe('pass');
    expect(match({ name: '?*' }, { name: '' })).toBe('fail');
    expect(match({ name: '?*' }, {})).toBe('fail');
    expect(match({ name: '*' }, { name: '' })).toBe('pass');
    expect(match({ name: '*' }, { name: null })).toBe('fail');
    expect(match({ name: '*' }, {})).toBe('fail');
  });

  it('matches null, booleans and numbers by type', () => {
    for (const value of [undefined, null, '', 0, false]) expect(match({ x: null }, value === undefined ? {} : { x: value })).toBe('pass');
    expect(match({ x: null }, { x: 'set' })).toBe('fail');
    expect(match({ privileged: false }, { privileged: false })).toBe('pass');
    expect(match({ privileged: true }, { privileged: 'true' })).toBe('fail');
    expect(match({ privileged: 'true' }, { privileged: true })).toBe('pass');
    expect(match({ replicas: 3 }, { replicas: '3' })).toBe('pass');
  });
});

describe('structure', () => {
  it('applies the first element of a list pattern to every element; an empty list passes', () => {
    const pattern = { containers: [{ image: 'registry.example/*' }] };
    expect(match(pattern, { containers: [{ image: 'registry.example/a' }, { image: 'registry.example/b' }] })).toBe('pass');
    expect(match(pattern, { containers: [{ image: 'registry.example/a' }, { image: 'docker.io/b' }] })).toBe('fail');
    expect(match(pattern, { containers: [] })).toBe('pass');
  });

  it('fails a map pattern on a missing key', () => {
    expect(match({ spec: { securityContext: { runAsNonRoot: true } } }, { spec: {} })).toBe('fail');
  });

  it('expands wildcard label keys against the resource', () => {
    const pattern = { metadata: { labels: { 'app.kubernetes.io/*': '?*' } } };
    expect(match(pattern, { metadata: { labels: { 'app.kubernetes.io/name': 'web' } } })).toBe('pass');
    expect(match(pattern, { metadata: { labels: { team: 'a' } } })).toBe('fail');
    expect(match({ metadata: { annotations: { 'X(fluxcd.io/*)': 'null' } } }, { metadata: { annotations: { 'fluxcd.io/automated': 'true' } } })).toBe('fail');
  });

  it('reports a list-of-lists shorter than the pattern as an error (no path)', () => {
    expect(match({ args: [['a'], ['b']] }, { args: [['a']] })).toBe('error');
  });
});

describe('$() references', () => {
  it('read another leaf of the pattern, relative to the referring leaf, keeping an operator', () => {
    const pattern = resolveReferences({
      spec: { containers: [{ resources: { requests: { memory: '$(<=./../../limits/memory)' }, limits: { memory: '2048Mi' } } }] },
    });
    expect(pattern).toEqual({ spec: { containers: [{ resources: { requests: { memory: '<=2048Mi' }, limits: { memory: '2048Mi' } } }] } });
    const container = (requests: string) => ({ spec: { containers: [{ resources: { requests: { memory: requests }, limits: { memory: '2048Mi' } } }] } });
    expect(match(pattern, container('1Gi'))).toBe('pass');
    expect(match(pattern, container('3Gi'))).toBe('fail');
    expect(() => resolveReferences({ a: '$(./missing)' })).toThrow(/does not point at a value/);
  });
});
