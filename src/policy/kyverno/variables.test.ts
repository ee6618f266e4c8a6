import { describe, expect, it } from 'vitest';
import { substituteJson, substituteString, VariableError, type VariableScope } from './variables.js';

// Substitution rules from Kyverno's variables documentation and pkg/engine/variables/vars.go.

const scope: VariableScope = {
  isDelete: false,
  data: {
    request: { object: { metadata: { name: 'web', labels: { tier: 'front' } }, spec: { replicas: 3 } }, oldObject: { metadata: { name: 'old' } } },
    template: 'value is {{ request.object.metadata.name }}',
  },
};

describe('variable substitution', () => {
  it('keeps the JSON type when the string is exactly one variable', () => {
    expect(substituteString('{{ request.object.spec.replicas }}', scope)).toBe(3);
    expect(substituteString('{{request.object.metadata.labels}}', scope)).toEqual({ tier: 'front' });
  });

  it('splices text, JSON-encoding what is not a string', () => {
    expect(substituteString('name={{ request.object.metadata.name }} replicas={{ request.object.spec.replicas }}', scope)).toBe('name=web replicas=3');
    expect(substituteString('labels: {{ request.object.metadata.labels }}', scope)).toBe('labels: {"tier":"front"}');
  });

  it('resolves the innermost variables first', () => {
    expect(substituteString("{{ to_upper('{{ request.object.metadata.name }}') }}", scope)).toBe('WEB');
  });

  it('leaves escaped variables as literal text', () => {
    expect(substituteString('keep \\{{ request.object.metadata.name }} as is', scope)).toBe('keep {{ request.object.metadata.name }} as is');
  });

  it('scans spliced text again, except with the shallow {{- }} form', () => {
    expect(substituteString('x {{ template }}', scope)).toBe('x value is web');
    expect(substituteString('x {{- template }}', scope)).toBe('x value is {{ request.object.metadata.name }}');
    // A whole-string variable returns its value as it is.
    expect(substituteString('{{ template }}', scope)).toBe('value is {{ request.object.metadata.name }}');
  });

  it('reads request.object as request.oldObject on DELETE', () => {
    expect(substituteString('{{ request.object.metadata.name }}', { ...scope, isDelete: true })).toBe('old');
  });

  it('fails on a missing key, naming it', () => {
    expect(() => substituteString('{{ request.object.metadata.namespace }}', scope)).toThrow(VariableError);
    expect(() => substituteString('{{ request.object.metadata.namespace }}', scope)).toThrow(/Unknown key "namespace"/);
  });

  it('substitutes map keys and nested values, and {{@}} reads the resource at the same path', () => {
    const value = substituteJson({ '{{ request.object.metadata.name }}': ['{{ request.object.spec.replicas }}'], spec: { replicas: '{{@}}' } }, scope);
    expect(value).toEqual({ web: [3], spec: { replicas: 3 } });
  });
});
