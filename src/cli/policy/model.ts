/** Pure formatting for `plinth policy test`: one line per test file, the failing rows under it, and the totals. */
import type { ExpectedOutcome, TestFileReport } from '../../policy/index.js';

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
