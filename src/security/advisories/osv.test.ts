import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchAdvisory, parseOsvRecords, parseOsvText, severityOf, type OsvAdvisory } from './osv.js';

const fixture = (path: string) => parseOsvText(readFileSync(new URL(`../../../test/fixtures/osv/${path}`, import.meta.url), 'utf8'), path);
const advisory = (affected: OsvAdvisory['affected'], extra: Partial<OsvAdvisory> = {}): OsvAdvisory =>
  parseOsvRecords([{ id: 'TEST-1', modified: '2024-01-01T00:00:00Z', affected, ...extra }], 'test')[0]!;
const npmRange = (...events: Record<string, string>[]) =>
  parseOsvRecords([{ id: 'TEST-1', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'pkg' }, ranges: [{ type: 'SEMVER', events }] }] }], 'test')[0]!;

describe('OSV range evaluation', () => {
  it('treats fixed as exclusive and introduced "0" as the beginning', () => {
    const a = npmRange({ introduced: '0' }, { fixed: '1.2.6' });
    expect(matchAdvisory(a, 'npm', 'pkg', '0.0.1').affected).toBe(true);
    expect(matchAdvisory(a, 'npm', 'pkg', '1.2.5').affected).toBe(true);
    expect(matchAdvisory(a, 'npm', 'pkg', '1.2.6').affected).toBe(false);
    expect(matchAdvisory(a, 'npm', 'pkg', '1.2.5').fixed).toEqual(['1.2.6']);
  });
  it('treats last_affected as inclusive', () => {
    const a = npmRange({ introduced: '0' }, { last_affected: '4.17.11' });
    expect(matchAdvisory(a, 'npm', 'pkg', '4.17.11').affected).toBe(true);
    expect(matchAdvisory(a, 'npm', 'pkg', '4.17.12').affected).toBe(false);
    expect(matchAdvisory(a, 'npm', 'pkg', '4.17.11').fixed).toEqual([]);
  });
  it('counts a pre-release of the fixed version as affected (semver orders it before the release)', () => {
    const a = npmRange({ introduced: '1.0.0' }, { fixed: '1.2.3' });
    expect(matchAdvisory(a, 'npm', 'pkg', '1.2.3-beta.1').affected).toBe(true);
    expect(matchAdvisory(a, 'npm', 'pkg', '1.0.0-rc.1').affected).toBe(false);
  });
  it('sorts events given out of order and evaluates several introduced/fixed pairs', () => {
    const a = npmRange({ fixed: '2.3.0' }, { introduced: '2.0.0' }, { fixed: '1.5.0' }, { introduced: '1.0.0' });
    expect(['0.9.0', '1.0.0', '1.7.0', '2.1.0', '2.3.0'].map((v) => matchAdvisory(a, 'npm', 'pkg', v).affected)).toEqual([false, true, false, true, false]);
  });
  it('matches any of several ranges and reports only fixes above the installed version', () => {
    const [qs] = fixture('npm/GHSA-hrpp-h998-j3pp.json');
    expect(matchAdvisory(qs!, 'npm', 'qs', '6.7.0')).toEqual({ affected: true, fixed: ['6.7.3', '6.8.3', '6.9.7', '6.10.3'] });
    expect(matchAdvisory(qs!, 'npm', 'qs', '6.7.3').affected).toBe(false);
    expect(matchAdvisory(qs!, 'npm', 'qs', '6.11.0').affected).toBe(false);
  });
  it('matches explicit versions lists with the ecosystem’s equality (PyPI 2.2 == 2.2.0)', () => {
    const advisories = fixture('pypi/all.json');
    const flask = advisories.find((a) => a.id === 'PYSEC-2023-0001-PLINTH')!;
    expect(matchAdvisory(flask, 'PyPI', 'flask', '2.2.1').affected).toBe(true);
    expect(matchAdvisory(flask, 'PyPI', 'Flask', '2.2.2').affected).toBe(true);
    expect(matchAdvisory(flask, 'PyPI', 'flask', '2.2.3').affected).toBe(false);
  });
  it('evaluates PyPI ECOSYSTEM ranges with PEP 440 and Go SEMVER ranges against v-prefixed versions', () => {
    const requests = fixture('pypi/all.json').find((a) => a.id === 'GHSA-j8r2-6x86-q33q')!;
    expect(matchAdvisory(requests, 'PyPI', 'requests', '2.31.0rc1').affected).toBe(true);
    expect(matchAdvisory(requests, 'PyPI', 'requests', '2.31.0').affected).toBe(false);
    expect(matchAdvisory(requests, 'PyPI', 'requests', '2.2.1').affected).toBe(false);
    const [text] = fixture('go/GO-2022-1059.json');
    expect(matchAdvisory(text!, 'Go', 'golang.org/x/text', 'v0.3.7')).toEqual({ affected: true, fixed: ['0.3.8'] });
    expect(matchAdvisory(text!, 'Go', 'golang.org/x/text', 'v0.0.0-20210101000000-abcdefabcdef').affected).toBe(true);
    expect(matchAdvisory(text!, 'Go', 'golang.org/x/text', 'v0.3.8').affected).toBe(false);
  });
  it('never matches a withdrawn advisory, another package or another ecosystem', () => {
    const a = npmRange({ introduced: '0' });
    expect(matchAdvisory(a, 'npm', 'other', '1.0.0').affected).toBe(false);
    expect(matchAdvisory(a, 'PyPI', 'pkg', '1.0.0').affected).toBe(false);
    const withdrawn = advisory(a.affected, { withdrawn: '2024-02-01T00:00:00Z' });
    expect(matchAdvisory(withdrawn, 'npm', 'pkg', '1.0.0').affected).toBe(false);
  });
  it('does not guess when a version does not parse', () => {
    expect(matchAdvisory(npmRange({ introduced: '0' }, { fixed: '2.0.0' }), 'npm', 'pkg', 'github:user/repo').affected).toBe(false);
  });
});

describe('OSV parsing and severity', () => {
  it('rejects records with the problems listed by index and id', () => {
    expect(() => parseOsvRecords([{ id: 'GHSA-1', modified: 'yesterday' }, { id: 'X', modified: '2024-01-01T00:00:00Z', affected: [{ ranges: [{ type: 'SEMVER', events: [{ fixd: '1' }] }] }] }], 'bundle.json')).toThrow(
      /bundle.json\[0\] \(GHSA-1\): modified: expected an RFC 3339 time.*bundle.json\[1\] \(X\): affected.0.ranges.0.events.0/,
    );
  });
  it('takes the CVSS v3 score first, then GHSA’s database severity', () => {
    expect(severityOf(fixture('npm/GHSA-xvch-5gv4-984h.json')[0]!)).toMatchObject({ severity: 'critical', score: 9.8 });
    expect(severityOf(fixture('npm/GHSA-jf85-cpcp-j695.json')[0]!)).toMatchObject({ severity: 'critical', score: null });
    expect(severityOf(advisory([], { database_specific: { severity: 'MODERATE' } })).severity).toBe('medium');
    expect(severityOf(advisory([])).severity).toBe('unknown');
  });
});
