import { describe, expect, it } from 'vitest';
import { compileCondition, evaluateConditions, type CompiledConditions } from './conditions.js';
import type { JsonValue } from './json.js';
import { resolveOperator } from './operators.js';

// Semantics from Kyverno's preconditions documentation (operators, wildcards, ranges, durations)
// and ../shared/conformance/kyverno/SEMANTICS.md §6.

function holds(operator: string, key: JsonValue, value: JsonValue): boolean {
  const fn = resolveOperator(operator);
  if (!fn) throw new Error(`unknown operator ${operator}`);
  return fn(key, value);
}

describe('Equals / NotEquals', () => {
  it('use the value as a wildcard pattern for string keys', () => {
    expect(holds('Equals', 'nginx:1.25', 'nginx:*')).toBe(true);
    expect(holds('Equals', 'nginx:*', 'nginx:1.25')).toBe(false);
    expect(holds('NotEquals', 'busybox', 'nginx:*')).toBe(true);
  });

  it('compare quantities and durations by value', () => {
    expect(holds('Equals', '1Gi', '1024Mi')).toBe(true);
    expect(holds('Equals', '1h', '60m')).toBe(true);
    expect(holds('Equals', '1h', 3600)).toBe(true);
    expect(holds('NotEquals', '500m', '0.5')).toBe(false);
  });

  it('are both false for a null key', () => {
    expect(holds('Equals', null, 'x')).toBe(false);
    expect(holds('NotEquals', null, 'x')).toBe(false);
  });

  it('compare numbers, booleans, lists and maps by type', () => {
    expect(holds('Equals', 2400, '2400')).toBe(true);
    expect(holds('Equals', true, 'true')).toBe(false);
    expect(holds('Equals', ['a', 'b'], ['a', 'b'])).toBe(true);
    expect(holds('NotEquals', { a: 1 }, { a: 2 })).toBe(true);
  });

  it('accept operator names in any case, and the Equal/NotEqual aliases', () => {
    expect(holds('equals', 'a', 'a')).toBe(true);
    expect(holds('NotEqual', 'a', 'b')).toBe(true);
    expect(resolveOperator('Bigger')).toBeUndefined();
  });
});

describe('set operators', () => {
  it('AnyIn matches wildcards in both directions and JSON-array strings', () => {
    expect(holds('AnyIn', ['SYS_ADMIN', 'NET_RAW'], ['NET_*'])).toBe(true);
    expect(holds('AnyIn', 'kube-*', ['kube-system'])).toBe(true);
    expect(holds('AnyIn', 'team-a', '["team-a","team-b"]')).toBe(true);
    expect(holds('AnyIn', ['x'], ['a', 'b'])).toBe(false);
  });

  it('AnyIn and AnyNotIn accept a numeric range as the value', () => {
    expect(holds('AnyIn', [80, 8080], '8000-9000')).toBe(true);
    expect(holds('AnyIn', [80, 443], '8000-9000')).toBe(false);
    expect(holds('AnyNotIn', [8080, 80], '8000-9000')).toBe(true);
  });

  it('AllIn / AllNotIn / AnyNotIn', () => {
    expect(holds('AllIn', ['a', 'b'], ['a', 'b', 'c'])).toBe(true);
    expect(holds('AllIn', ['a', 'z'], ['a', 'b'])).toBe(false);
    expect(holds('AllIn', [], ['a'])).toBe(true);
    expect(holds('AllNotIn', ['x', 'y'], ['a', 'b'])).toBe(true);
    expect(holds('AllNotIn', ['x', 'a'], ['a', 'b'])).toBe(false);
    expect(holds('AnyNotIn', ['a', 'z'], ['a', 'b'])).toBe(true);
    expect(holds('AnyNotIn', ['a'], ['a', 'b'])).toBe(false);
  });

  it('deprecated In / NotIn compare exactly, without wildcards', () => {
    expect(holds('In', 'a', ['a', 'b'])).toBe(true);
    expect(holds('In', 'a*', ['a', 'b'])).toBe(false);
    expect(holds('In', ['a', 'b'], ['a', 'b', 'c'])).toBe(true);
    expect(holds('NotIn', 'z', ['a', 'b'])).toBe(true);
  });
});

describe('ordering operators', () => {
  it('compare numbers, numeric strings, quantities and semantic versions', () => {
    expect(holds('GreaterThan', 5, 3)).toBe(true);
    expect(holds('GreaterThanOrEquals', '3', 3)).toBe(true);
    expect(holds('GreaterThan', '2Gi', '1500Mi')).toBe(true);
    expect(holds('LessThan', '250m', '1')).toBe(true);
    expect(holds('GreaterThan', '1.10.0', '1.9.3')).toBe(true);
    expect(holds('LessThanOrEquals', ['a'], 1)).toBe(false);
  });

  it('compare Go durations, a number counting as seconds', () => {
    expect(holds('GreaterThan', '2h', '90m')).toBe(true);
    expect(holds('LessThan', '30s', 60)).toBe(true);
    expect(holds('GreaterThanOrEquals', 3600, '1h')).toBe(true);
  });

  it('Duration* operators (deprecated) convert both sides to durations', () => {
    expect(holds('DurationGreaterThan', '2h', '90m')).toBe(true);
    expect(holds('DurationGreaterThanOrEquals', '1h', 3600)).toBe(true);
    expect(holds('DurationLessThan', '30m', '1h')).toBe(true);
    expect(holds('DurationLessThanOrEquals', '61m', '1h')).toBe(false);
    expect(holds('DurationGreaterThan', 'soon', '1h')).toBe(false);
  });
});

describe('condition blocks', () => {
  const scope = { data: { request: { object: { metadata: { name: 'web' } } } }, isDelete: false };
  const condition = (key: JsonValue, operator: string, value: JsonValue) => compileCondition({ key, operator, value });

  it('need every `all` item and one `any` item; an absent block counts as true, an empty `any` as false', () => {
    const block: CompiledConditions = { form: 'anyAll', any: [condition('a', 'Equals', 'b'), condition('{{ request.object.metadata.name }}', 'Equals', 'web')], all: undefined };
    expect(evaluateConditions(block, scope).holds).toBe(true);
    expect(evaluateConditions({ form: 'anyAll', any: [], all: undefined }, scope).holds).toBe(false);
    expect(evaluateConditions({ form: 'anyAll', any: undefined, all: [] }, scope).holds).toBe(true);
  });

  it('stop at the first decisive item, so a later item that would error is never evaluated', () => {
    const missing = condition('{{ request.object.spec.missing }}', 'Equals', 'x');
    expect(evaluateConditions({ form: 'anyAll', any: [condition('a', 'Equals', 'a'), missing], all: undefined }, scope).holds).toBe(true);
    expect(() => evaluateConditions({ form: 'anyAll', any: [missing], all: undefined }, scope)).toThrow(/Unknown key/);
  });

  it('treats the legacy list as `all`', () => {
    expect(evaluateConditions({ form: 'list', conditions: [condition('a', 'Equals', 'a'), condition('b', 'Equals', 'c')] }, scope).holds).toBe(false);
  });
});
