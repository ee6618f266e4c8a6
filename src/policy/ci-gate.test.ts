import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineResultObject, type CiFinding, type CiGateRequest } from './ci-gate.js';
import { decide, type ActiveException, type LoadedPolicy } from './guardrails/decide.js';
import { compileStoredPolicy } from './service.js';

// The CI gate's decision as the built-in policies in policies/ make it: critical denies, high is
// reported (Audit), medium and low pass unremarked; accepted findings and exceptions waive.

const policiesDir = join(import.meta.dirname, '..', '..', 'policies');
const builtins: LoadedPolicy[] = readdirSync(policiesDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => compileStoredPolicy(readFileSync(join(policiesDir, f), 'utf8'), f).loaded);

const finding = (severity: string, over: Partial<CiFinding> = {}): CiFinding => ({
  id: `f-${severity}`, rule: `GHSA-${severity}`, severity, scanner: 'dependency', file: 'package-lock.json', line: 12,
  package: 'minimist', fixVersion: '0.2.4', status: 'open', dueAt: null, new: true, ...over,
});
const request = (findings: CiFinding[]): CiGateRequest => ({
  runId: 'run-1', repository: 'team-a/shipit', owner: 'group:default/team-a', ref: 'refs/heads/main', sha: 'a'.repeat(40), isDefaultBranch: true, findings,
});
const judge = (findings: CiFinding[], exceptions: ActiveException[] = []) =>
  decide(builtins, exceptions, { point: 'ci', object: pipelineResultObject(request(findings)), operation: 'CREATE', context: {}, now: new Date('2026-11-26T12:00:00Z'), dryRun: true });

describe('the ci-gate decision point with the built-in policies', () => {
  it('describes the run as a PipelineResult named by the repository, null fields left out', () => {
    const object = pipelineResultObject(request([finding('low', { package: null, fixVersion: null, line: null })]));
    expect(object).toMatchObject({ kind: 'PipelineResult', metadata: { name: 'shipit', namespace: 'team-a', labels: { owner: 'team-a' } }, spec: { branch: 'main', runId: 'run-1' } });
    expect((object.spec as { findings: object[] }).findings[0]).not.toHaveProperty('package');
  });

  it('denies an open critical finding, naming the rule, file, package and fix', () => {
    const decision = judge([finding('critical'), finding('high')]);
    expect(decision.allowed).toBe(false);
    expect(decision.denials.map((d) => `${d.policy}: ${d.message}`)).toEqual([
      'ci-critical-findings-fail-the-run: 1 open critical finding(s): GHSA-critical in package-lock.json (minimist, fixed in 0.2.4)',
    ]);
  });

  it('allows high findings and reports them with their due dates (Audit)', () => {
    const decision = judge([finding('high', { dueAt: '2026-12-26T12:00:00.000Z' }), finding('medium'), finding('low')]);
    expect(decision.allowed).toBe(true);
    expect(decision.results.find((r) => r.policy === 'ci-high-findings-are-tracked')).toMatchObject({
      status: 'fail', failureAction: 'Audit', message: '1 open high finding(s) to fix: GHSA-high (due 2026-12-26T12:00:00.000Z)',
    });
  });

  it('passes medium and low findings, and a run with no findings, with every ci rule passing', () => {
    for (const findings of [[finding('medium'), finding('low')], []]) {
      const decision = judge(findings);
      expect(decision.allowed).toBe(true);
      expect(decision.results.filter((r) => r.policy.startsWith('ci-')).map((r) => r.status)).toEqual(['pass', 'pass']);
    }
  });

  it('does not block on a critical finding whose risk was accepted', () => {
    expect(judge([finding('critical', { status: 'accepted' })]).allowed).toBe(true);
  });

  it('lets a policy exception naming the repository waive the rule', () => {
    const exception: ActiveException = { id: 'pex-1', policy: 'ci-critical-findings-fail-the-run', rules: [], match: { kinds: ['PipelineResult'], names: ['shipit'], namespaces: ['team-a'] } };
    const decision = judge([finding('critical')], [exception]);
    expect(decision.allowed).toBe(true);
    expect(decision.results.find((r) => r.policy === 'ci-critical-findings-fail-the-run')).toMatchObject({ status: 'skip', exception: 'pex-1' });
    const other: ActiveException = { ...exception, match: { names: ['other'] } };
    expect(judge([finding('critical')], [other]).allowed).toBe(false);
  });
});
