import { describe, expect, it } from 'vitest';
import type { PackageMatch } from './model.js';
import { parseVex, suppresses, vexVerdictFor } from './vex.js';

const match: PackageMatch = { purl: 'pkg:npm/lodash@4.17.15', ecosystem: 'npm', name: 'lodash', version: '4.17.15', advisoryId: 'GHSA-35jh-r3h4-6jhm', aliases: ['CVE-2021-23337'], summary: '', severity: 'high', score: 7.2, fixed: ['4.17.21'] };
const doc = (statements: unknown[]) => parseVex(JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', timestamp: '2024-01-01T00:00:00Z', statements }), 'openvex.json');

describe('OpenVEX', () => {
  it('matches by advisory id or alias and by purl, a versionless purl covering every version', () => {
    const vex = doc([{ vulnerability: { name: 'CVE-2021-23337' }, products: [{ '@id': 'pkg:npm/lodash' }], status: 'not_affected', justification: 'vulnerable_code_not_present' }]);
    const verdict = vexVerdictFor(vex, match, 'openvex.json');
    expect(verdict).toEqual({ status: 'not_affected', justification: 'vulnerable_code_not_present', statement: null, source: 'openvex.json' });
    expect(suppresses(verdict)).toBe(true);
    expect(vexVerdictFor(vex, { ...match, advisoryId: 'GHSA-other', aliases: [] }, 'openvex.json')).toBeNull();
    expect(vexVerdictFor(vex, { ...match, purl: 'pkg:npm/underscore@1.0.0' }, 'openvex.json')).toBeNull();
  });
  it('lets a later statement override an earlier one', () => {
    const vex = doc([
      { vulnerability: { name: 'GHSA-35jh-r3h4-6jhm' }, products: [{ '@id': 'pkg:npm/lodash@4.17.15' }], status: 'not_affected', justification: 'component_not_present', timestamp: '2024-02-01T00:00:00Z' },
      { vulnerability: { name: 'GHSA-35jh-r3h4-6jhm' }, products: [{ '@id': 'pkg:npm/lodash@4.17.15' }], status: 'affected', action_statement: 'upgrade lodash', timestamp: '2024-03-01T00:00:00Z' },
    ]);
    const verdict = vexVerdictFor(vex, match, 'openvex.json');
    expect(verdict).toMatchObject({ status: 'affected', statement: 'upgrade lodash' });
    expect(suppresses(verdict)).toBe(false);
  });
  it('rejects a not_affected statement without a justification, naming the path', () => {
    expect(() => doc([{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a@1.0.0' }], status: 'not_affected' }])).toThrow(
      'openvex.json: statements.0: a not_affected statement needs a justification or an impact_statement',
    );
    expect(() => parseVex('{"statements": []}', 'openvex.json')).toThrow(/openvex.json: @context: /);
  });
});
