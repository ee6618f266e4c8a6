import { describe, expect, it } from 'vitest';
import { JmespathSyntaxError, queryJmespath, UnknownKeyError } from './jmespath.js';
import type { JsonValue } from './json.js';

// Missing-key behaviour follows Kyverno's interpreter (pkg/engine/jmespath/interpreter.go); the
// custom functions follow the Kyverno docs' JMESPath page.

const data: JsonValue = {
  request: {
    object: {
      metadata: { name: 'web', labels: { app: 'web' }, annotations: {} },
      spec: { containers: [{ name: 'a', image: 'nginx:1.25' }, { name: 'b', image: 'ghcr.io/x/y:2', securityContext: { privileged: true } }] },
    },
  },
};
const q = (expression: string, input: JsonValue = data) => queryJmespath(expression, input);

describe('missing keys', () => {
  it('raise "Unknown key" through field access and sub-expressions', () => {
    expect(() => q('request.object.metadata.labels.team')).toThrow(UnknownKeyError);
    expect(() => q('request.object.spec.containers[0].securityContext.privileged')).toThrow(UnknownKeyError);
  });

  it('are read as null by ||, functions, comparisons, projections, filters and pipes', () => {
    expect(q("request.object.metadata.labels.team || 'none'")).toBe('none');
    expect(q('request.object.spec.containers[].securityContext.privileged')).toEqual([true]);
    expect(q('request.object.spec.containers[?securityContext.privileged]| length(@)')).toBe(1);
    expect(q('request.object.metadata.labels.team == null')).toBe(true);
    expect(q('request.object.spec.initContainers[].image')).toBeNull();
    expect(() => q('length(request.object.spec.initContainers)')).toThrow(/length/);
  });

  it('do not apply to indexes past the end or fields of non-maps', () => {
    expect(q('request.object.spec.containers[5].name')).toBeNull();
    expect(q('request.object.metadata.name.first')).toBeNull();
  });

  it('refuses an expression that does not parse', () => {
    expect(() => q('request.object..name')).toThrow(JmespathSyntaxError);
  });
});

describe("Kyverno's custom functions", () => {
  it('string functions', () => {
    expect(q("to_upper('net_raw')")).toBe('NET_RAW');
    expect(q("split('a/b/c', '/')")).toEqual(['a', 'b', 'c']);
    expect(q("trim('--x--', '-')")).toBe('x');
    expect(q("truncate('abcdef', `3`)")).toBe('abc');
    expect(q("compare('a', 'b')")).toBe(-1);
    expect(q("equal_fold('Go', 'GO')")).toBe(true);
    expect(q("replace_all('a-b-c', '-', '_')")).toBe('a_b_c');
    expect(q("replace('a-b-c', '-', '_', `1`)")).toBe('a_b-c');
  });

  it('regular expressions (RE2 syntax) and wildcards', () => {
    expect(q("regex_match('^[0-9]+%$', '50%')")).toBe(true);
    expect(q("regex_match('^[0-9]+%$', `50`)")).toBe(false);
    expect(q("regex_replace_all('(\\w+)@(\\w+)', 'me@host', '${2}/$1')")).toBe('host/me');
    expect(q("regex_replace_all_literal('o', 'foo', '$1')")).toBe('f$1$1');
    expect(q("pattern_match('prefix-*', 'prefix-a')")).toBe(true);
  });

  it('arithmetic on numbers, quantities and durations', () => {
    expect(q("divide('1Gi', '512Mi')")).toBe(2);
    expect(q("add('1Gi', '512Mi')")).toBe('1536Mi');
    expect(q("add('1h', '90s')")).toBe('1h1m30s');
    // "30m" reads as a quantity (30 milli) before it could read as a duration.
    expect(() => q("add('1h', '30m')")).toThrow(/mismatch/);
    expect(q("multiply('500m', `3`)")).toBe('1500m');
    expect(q('modulo(`7`, `3`)')).toBe(1);
    expect(() => q("add('1Gi', '1h')")).toThrow(/mismatch/);
    expect(() => q('divide(`1`, `0`)')).toThrow(/Zero divisor/);
  });

  it('encoding, parsing and objects', () => {
    expect(q("base64_decode('aGVsbG8=')")).toBe('hello');
    expect(q("base64_encode('hello')")).toBe('aGVsbG8=');
    expect(q("parse_json('{\"a\": [1]}').a")).toEqual([1]);
    expect(q("parse_yaml('a: yes').a")).toBe(true);
    expect(q("items(`{\"b\": 1, \"a\": 2}`, 'k', 'v')")).toEqual([{ k: 'a', v: 2 }, { k: 'b', v: 1 }]);
    expect(q("label_match(`{\"app\": \"web\"}`, request.object.metadata.labels)")).toBe(true);
    expect(q("lookup(`{\"a\": 1}`, 'a')")).toBe(1);
    expect(q("object_from_lists(['a', 'b'], [`1`])")).toEqual({ a: 1, b: null });
    expect(q('sort(`[10, 9, 100]`)')).toEqual([9, 10, 100]);
    expect(q("path_canonicalize('/var/run//containerd/../docker.sock')")).toBe('/var/run/docker.sock');
    expect(q("image_normalize('nginx')")).toBe('docker.io/library/nginx:latest');
  });

  it('versions and time', () => {
    expect(q("semver_compare('1.2.3', '>=1.0.0 <2.0.0')")).toBe(true);
    expect(q("semver_compare('2.0.0', '>=1.0.0 <2.0.0')")).toBe(false);
    expect(q("time_add('2024-01-01T00:00:00Z', '36h')")).toBe('2024-01-02T12:00:00Z');
    expect(q("time_diff('2024-01-01T00:00:00Z', '2024-01-01T01:30:00Z')")).toBe('1h30m0s');
    expect(q("time_before('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z')")).toBe(true);
    expect(q("time_parse('2006-01-02', '2024-03-05')")).toBe('2024-03-05T00:00:00Z');
    expect(q("time_since('', '2024-01-01T00:00:00Z', '2024-01-01T00:00:10Z')")).toBe('10s');
  });
});
