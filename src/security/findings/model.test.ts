import { describe, expect, it } from 'vitest';
import { fromArtifact } from './normalize.js';
import {
  artifactFingerprint,
  DEFAULT_SLA_DAYS,
  dependencyFingerprint,
  dueDateOf,
  effectiveStatus,
  MAX_STEP_FINDINGS,
  planBranchScan,
  ScanOutputs,
  splitArtifactFindings,
  toScanOutputs,
  unversionedPurl,
  type DependencyFindingRef,
  type KnownFinding,
  type ScanFinding,
  type Scanner,
} from './model.js';

const now = new Date('2026-11-26T12:00:00.000Z');
const all = new Set<Scanner>(['sast', 'dependency', 'secrets']);

function dep(name: string, advisory: string, severity: ScanFinding['severity'], version = '1.0.0'): ScanFinding {
  return {
    scanner: 'dependency', rule: advisory, severity, title: `${advisory} in ${name}`, file: 'package-lock.json', line: 10,
    package: { name, version, fixVersion: '2.0.0', purl: `pkg:npm/${name}@${version}` }, fingerprint: dependencyFingerprint('package-lock.json', 'npm', name, advisory),
  };
}
function known(f: ScanFinding, over: Partial<KnownFinding> = {}): KnownFinding {
  return { id: `id-${f.rule}`, fingerprint: f.fingerprint, scanner: f.scanner, severity: f.severity, status: 'open', acceptedUntil: null, dueAt: null, presentOn: ['main'], ...over };
}

describe('tracked findings: deduplication across runs', () => {
  const qs = dep('qs', 'GHSA-hrpp-h998-j3pp', 'high');
  const minimist = dep('minimist', 'GHSA-xvch-5gv4-984h', 'critical');

  it('opens a new finding with an SLA due date by severity (high: 30 days; medium: none)', () => {
    const changes = planBranchScan([], { branch: 'main', findings: [qs, dep('x', 'GHSA-m', 'medium')], completeScanners: all }, now, DEFAULT_SLA_DAYS);
    expect(changes).toEqual([
      { kind: 'open', finding: qs, dueAt: '2026-12-26T12:00:00.000Z' },
      { kind: 'open', finding: expect.objectContaining({ rule: 'GHSA-m' }), dueAt: null },
    ]);
  });

  it('sees a known finding again instead of opening a second one, keeping its due date', () => {
    const before = known(qs, { dueAt: '2026-12-01T00:00:00.000Z' });
    const changes = planBranchScan([before], { branch: 'main', findings: [qs, qs], completeScanners: all }, now, DEFAULT_SLA_DAYS);
    expect(changes).toEqual([{ kind: 'seen', id: before.id, finding: qs, status: 'open', dueAt: '2026-12-01T00:00:00.000Z', reopened: false }]);
  });

  it('keys dependency findings by package and advisory, so an upgrade that is still affected is the same finding', () => {
    expect(dep('qs', 'GHSA-1', 'high', '6.2.0').fingerprint).toBe(dep('qs', 'GHSA-1', 'high', '6.2.1').fingerprint);
    expect(dep('qs', 'GHSA-1', 'high').fingerprint).not.toBe(dep('qs', 'GHSA-2', 'high').fingerprint);
  });

  it('marks a finding fixed when a complete scan of the branch it was on no longer reports it', () => {
    const changes = planBranchScan([known(qs)], { branch: 'main', findings: [], completeScanners: all }, now, DEFAULT_SLA_DAYS);
    expect(changes).toEqual([{ kind: 'absent', id: 'id-GHSA-hrpp-h998-j3pp', fixed: true }]);
  });

  it('keeps it open while another branch still has it', () => {
    const changes = planBranchScan([known(qs, { presentOn: ['feature', 'main'] })], { branch: 'feature', findings: [], completeScanners: all }, now, DEFAULT_SLA_DAYS);
    expect(changes).toEqual([{ kind: 'absent', id: 'id-GHSA-hrpp-h998-j3pp', fixed: false }]);
  });

  it('does not touch findings of a branch the scan is not about, or of a scanner that did not complete', () => {
    expect(planBranchScan([known(qs, { presentOn: ['main'] })], { branch: 'feature', findings: [], completeScanners: all }, now, DEFAULT_SLA_DAYS)).toEqual([]);
    expect(planBranchScan([known(qs)], { branch: 'main', findings: [], completeScanners: new Set(['sast', 'secrets']) }, now, DEFAULT_SLA_DAYS)).toEqual([]);
  });

  it('reopens a fixed finding that comes back, and shortens the due date when the severity rises', () => {
    const fixed = known(qs, { status: 'fixed', presentOn: [], dueAt: '2027-01-01T00:00:00.000Z' });
    expect(planBranchScan([fixed], { branch: 'main', findings: [qs], completeScanners: all }, now, DEFAULT_SLA_DAYS)).toEqual([
      { kind: 'seen', id: fixed.id, finding: qs, status: 'open', dueAt: '2026-12-26T12:00:00.000Z', reopened: true },
    ]);
    const raised = { ...minimist, fingerprint: qs.fingerprint };
    const [change] = planBranchScan([known(qs, { dueAt: '2026-12-26T12:00:00.000Z' })], { branch: 'main', findings: [raised], completeScanners: all }, now, DEFAULT_SLA_DAYS);
    expect(change).toMatchObject({ kind: 'seen', dueAt: '2026-12-03T12:00:00.000Z' });
  });

  it('keeps an acceptance in force until its date, then serves the finding as open', () => {
    const accepted = known(qs, { status: 'accepted', acceptedUntil: '2026-12-31T00:00:00.000Z' });
    expect(planBranchScan([accepted], { branch: 'main', findings: [qs], completeScanners: all }, now, DEFAULT_SLA_DAYS)[0]).toMatchObject({ status: 'accepted' });
    const lapsed = known(qs, { status: 'accepted', acceptedUntil: '2026-11-01T00:00:00.000Z' });
    expect(planBranchScan([lapsed], { branch: 'main', findings: [qs], completeScanners: all }, now, DEFAULT_SLA_DAYS)[0]).toMatchObject({ status: 'open' });
    expect(effectiveStatus('accepted', '2026-11-26T12:00:00.000Z', now)).toBe('open');
    expect(effectiveStatus('fixed', null, now)).toBe('fixed');
  });

  it('applying the same scan twice changes nothing the second time', () => {
    const first = planBranchScan([], { branch: 'main', findings: [qs], completeScanners: all }, now, DEFAULT_SLA_DAYS);
    expect(first).toHaveLength(1);
    const stored = known(qs, { dueAt: (first[0] as { dueAt: string }).dueAt });
    expect(planBranchScan([stored], { branch: 'main', findings: [qs], completeScanners: all }, now, DEFAULT_SLA_DAYS)).toEqual([
      { kind: 'seen', id: stored.id, finding: qs, status: 'open', dueAt: stored.dueAt, reopened: false },
    ]);
  });

  it('computes due dates from configurable days per severity', () => {
    expect(dueDateOf('critical', now, DEFAULT_SLA_DAYS)).toBe('2026-12-03T12:00:00.000Z');
    expect(dueDateOf('low', now, { ...DEFAULT_SLA_DAYS, low: 365 })).toBe('2027-11-26T12:00:00.000Z');
    expect(dueDateOf('low', now, DEFAULT_SLA_DAYS)).toBeNull();
  });
});

describe('scan step outputs', () => {
  it('keep one finding per fingerprint, the most severe first, and say when the list was cut', () => {
    const a = dep('a', 'GHSA-a', 'low');
    const outputs = toScanOutputs('dependency', [a, { ...a, severity: 'high' }, dep('b', 'GHSA-b', 'critical')]);
    expect(outputs.findings.map((f) => `${f.rule}:${f.severity}`)).toEqual(['GHSA-b:critical', 'GHSA-a:high']);
    expect(outputs.complete).toBe(true);
    const many = Array.from({ length: MAX_STEP_FINDINGS + 1 }, (_, i) => dep(`p${i}`, 'GHSA-x', 'low'));
    const cut = toScanOutputs('dependency', many);
    expect(cut.findings).toHaveLength(MAX_STEP_FINDINGS);
    expect(cut.complete).toBe(false);
    expect(ScanOutputs.safeParse(cut).success).toBe(true);
  });

  it('are validated when read back: a finding without a fingerprint is refused', () => {
    const bad = { scanner: 'sast', complete: true, findings: [{ ...dep('a', 'r', 'high'), fingerprint: 'nope' }] };
    expect(ScanOutputs.safeParse(bad).success).toBe(false);
  });
});

describe('tracked findings: the artifact scan', () => {
  const bundled = (name: string, advisory: string, version: string, purl = `pkg:npm/${name}@${version}`): ScanFinding => fromArtifact({
    kind: 'vulnerable-package', severity: 'high', path: `node_modules/${name}/package.json`, rule: advisory, message: `${name}@${version} is affected by ${advisory}`,
    line: null, package: { name, version, purl, fixVersion: '9.0.0' }, key: `npm\0${name}\0${advisory}`,
  });
  const ref = (over: Partial<DependencyFindingRef> = {}): DependencyFindingRef => ({ id: 'dep-qs', rule: 'GHSA-hrpp-h998-j3pp', purl: 'pkg:npm/qs@6.2.0', status: 'open', acceptedUntil: null, presentOn: ['main'], ...over });

  it('strips the version (and qualifiers) from a purl, scoped names included', () => {
    expect(unversionedPurl('pkg:npm/qs@6.2.0')).toBe('pkg:npm/qs');
    expect(unversionedPurl('pkg:npm/%40types/node@20.1.0?arch=x64')).toBe('pkg:npm/%40types/node');
    expect(unversionedPurl('pkg:npm/qs')).toBe('pkg:npm/qs');
  });

  it('counts a bundled package advisory the dependency audit tracks on the branch as that finding, whatever version is bundled', () => {
    const same = bundled('qs', 'GHSA-hrpp-h998-j3pp', '6.2.1');
    const other = bundled('left-pad', 'GHSA-left', '1.0.0');
    const split = splitArtifactFindings([same, other], [ref()], 'main');
    expect(split.sameAs).toEqual([{ finding: same, of: ref() }]);
    expect(split.track).toEqual([other]);
  });

  it('tracks it as an artifact finding when the dependency finding is fixed, on another branch only, or about another advisory', () => {
    const same = bundled('qs', 'GHSA-hrpp-h998-j3pp', '6.2.0');
    expect(splitArtifactFindings([same], [ref({ status: 'fixed' })], 'main').track).toEqual([same]);
    expect(splitArtifactFindings([same], [ref({ presentOn: ['feature'] })], 'main').track).toEqual([same]);
    expect(splitArtifactFindings([same], [ref({ rule: 'GHSA-other' })], 'main').track).toEqual([same]);
  });

  it('keys artifact findings by package and advisory, secret fingerprint, or rule and path, apart from the dependency audit', () => {
    const a = bundled('qs', 'GHSA-hrpp-h998-j3pp', '6.2.0');
    const b = bundled('qs', 'GHSA-hrpp-h998-j3pp', '6.2.1');
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(dependencyFingerprint('package-lock.json', 'npm', 'qs', 'GHSA-hrpp-h998-j3pp'));
    expect(a).toMatchObject({ scanner: 'artifact', file: 'node_modules/qs/package.json', package: { name: 'qs', fixVersion: '9.0.0' } });
    const mode = (path: string) => fromArtifact({ kind: 'file-mode', severity: 'high', path, rule: 'world-writable', message: `${path} is world-writable`, line: null, package: null, key: `world-writable\0${path}` });
    expect(mode('dist/a').fingerprint).not.toBe(mode('dist/b').fingerprint);
    expect(mode('dist/a').fingerprint).toBe(artifactFingerprint('file-mode', 'world-writable\0dist/a'));
    expect(fromArtifact({ kind: 'vulnerable-package', severity: 'unknown', path: 'p', rule: 'r', message: 'm', line: null, package: null, key: 'k' }).severity).toBe('medium');
  });

  it('marks only artifact findings absent after a complete artifact scan', () => {
    const gone = bundled('left-pad', 'GHSA-left', '1.0.0');
    const kept = dep('qs', 'GHSA-hrpp-h998-j3pp', 'high');
    const changes = planBranchScan([known(gone, { id: 'art' }), known(kept, { id: 'dep' })], { branch: 'main', findings: [], completeScanners: new Set<Scanner>(['artifact']) }, now, DEFAULT_SLA_DAYS);
    expect(changes).toEqual([{ kind: 'absent', id: 'art', fixed: true }]);
  });
});
