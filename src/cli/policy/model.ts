/** Pure formatting for `plinth policy …`: test reports, policy tables, decisions and exceptions. */
import { InvalidArgumentError } from 'commander';
import type { Decision, ExceptionView, ExpectedOutcome, PolicyView, TestFileReport } from '../../policy/index.js';
import { formatTable, formatTime } from '../format.js';

export interface TestTotals {
  passed: number;
  failed: number;
}

export function totalsOf(reports: readonly TestFileReport[]): TestTotals {
  let passed = 0;
  let failed = 0;
  for (const report of reports) {
    for (const outcome of report.outcomes) {
      if (outcome.passed) passed++;
      else failed++;
    }
    // A test file that cannot run at all counts as one failure, so it can never go unnoticed.
    if (report.error !== undefined) failed++;
  }
  return { passed, failed };
}

function describeOutcome(outcome: ExpectedOutcome): string {
  const actual = outcome.actual === 'none' ? 'no result' : outcome.actual;
  return `${outcome.policy}/${outcome.rule} ${outcome.resource}: expected ${outcome.expected}, got ${actual}${outcome.detail ? ` (${oneLine(outcome.detail)})` : ''}`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 240 ? `${line.slice(0, 237)}...` : line;
}

/** The human-readable report: `PASS`/`FAIL` per test file with its failing rows indented. */
export function formatReports(reports: readonly TestFileReport[], displayPath: (file: string) => string): string[] {
  const lines: string[] = [];
  for (const report of reports) {
    const where = displayPath(report.file);
    if (report.error !== undefined) {
      lines.push(`FAIL  ${where}: ${oneLine(report.error)}`);
      continue;
    }
    const failures = report.outcomes.filter((o) => !o.passed);
    const count = `${report.outcomes.length} result${report.outcomes.length === 1 ? '' : 's'}`;
    lines.push(failures.length === 0 ? `PASS  ${where} (${count})` : `FAIL  ${where} (${failures.length} of ${count} failed)`);
    for (const failure of failures) lines.push(`        ${describeOutcome(failure)}`);
  }
  const totals = totalsOf(reports);
  lines.push(`${totals.passed} passed, ${totals.failed} failed`);
  return lines;
}

// ---- `plinth policy list|check|exceptions` -------------------------------------------------------

export function formatPolicies(policies: readonly PolicyView[]): string {
  return formatTable(
    ['POLICY', 'KIND', 'MODE', 'POINTS', 'SOURCE', 'VIOLATIONS'],
    policies.map((p) => [
      p.name,
      p.kind,
      p.enabled ? p.failureAction : 'disabled',
      p.points.join(','),
      p.source === 'builtin' && p.modified ? 'builtin (edited)' : p.source,
      String(p.violations),
    ]),
  );
}

/** A decision: the verdict line, then every rule that did not pass (denials first). */
export function formatDecision(decision: Decision): string[] {
  const lines = [`${decision.object}: ${decision.allowed ? 'allowed' : 'denied'} at ${decision.point}`];
  const denied = new Set(decision.denials.map((d) => `${d.policy}/${d.rule}`));
  const notable = decision.results.filter((r) => r.status !== 'pass' && !(r.status === 'skip' && r.exception === undefined));
  notable.sort((a, b) => Number(denied.has(`${b.policy}/${b.rule}`)) - Number(denied.has(`${a.policy}/${a.rule}`)));
  for (const r of notable) {
    const label = denied.has(`${r.policy}/${r.rule}`) ? 'DENY' : r.exception !== undefined ? 'EXCEPTED' : r.status.toUpperCase();
    lines.push(`  ${label.padEnd(8)} ${r.policy}/${r.rule} (${r.failureAction}): ${oneLine(r.message)}`);
  }
  const passed = decision.results.filter((r) => r.status === 'pass').length;
  lines.push(`  ${passed} rule(s) passed`);
  return lines;
}

export function formatExceptions(exceptions: readonly ExceptionView[]): string {
  const covers = (e: ExceptionView) =>
    [e.match.kinds && `kinds=${e.match.kinds.join(',')}`, e.match.names && `names=${e.match.names.join(',')}`, e.match.namespaces && `namespaces=${e.match.namespaces.join(',')}`].filter(Boolean).join(' ');
  return formatTable(
    ['ID', 'POLICY', 'RULES', 'COVERS', 'APPROVED BY', 'EXPIRES', 'REASON'],
    exceptions.map((e) => [e.id, e.policy, e.rules.length === 0 ? '*' : e.rules.join(','), covers(e), e.approvedBy, `${formatTime(e.expiresAt)}${e.expired ? ' (expired)' : ''}`, oneLine(e.reason)]),
  );
}

/** `12h`, `7d`, `4w` → milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d{1,4})([hdw])$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a number and a unit: 12h, 7d or 4w');
  const unit = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[match[2] as 'h' | 'd' | 'w'];
  const ms = Number(match[1]) * unit;
  if (ms <= 0) throw new InvalidArgumentError('the duration must be positive');
  return ms;
}
