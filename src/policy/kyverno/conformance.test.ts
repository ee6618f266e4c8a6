import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runKyvernoTestFile, type ExpectedOutcome } from './test-runner.js';

// The Kyverno conformance corpus (../shared/conformance/kyverno/README.md): 325 `kyverno test`
// cases from Kyverno's policy library and CLI tests, read in place. Expected verdicts come from
// those files; a row whose rule gives no result counts only when `skip` was expected, stricter than
// the Kyverno CLI (which counts every such row as passing).

const corpus = fileURLToPath(new URL('../../../../shared/conformance/kyverno/', import.meta.url));
const expectedTotal = 3364;
const requiredRate = 0.98;

interface IndexRow {
  name: string;
  expectedResults: number;
  testFile: string;
}

function readIndex(): IndexRow[] {
  const [header, ...lines] = readFileSync(join(corpus, 'INDEX.tsv'), 'utf8').trimEnd().split('\n');
  const columns = header!.split('\t');
  const at = (name: string) => columns.indexOf(name);
  return lines.map((line) => {
    const cells = line.split('\t');
    return { name: cells[at('case')]!, expectedResults: Number(cells[at('n_expected_results')]), testFile: cells[at('test_file')]! };
  });
}

describe('Kyverno conformance corpus', () => {
  it(`agrees with at least ${requiredRate * 100}% of the ${expectedTotal} expected verdicts`, async () => {
    const rows = readIndex();
    expect(rows).toHaveLength(325);
    const failures: string[] = [];
    let passed = 0;
    let total = 0;
    for (const row of rows) {
      const report = await runKyvernoTestFile(join(corpus, row.name, row.testFile));
      if (report.error !== undefined) {
        total += row.expectedResults;
        failures.push(`${row.name}: the test could not run: ${report.error}`);
        continue;
      }
      expect(report.outcomes.length, `${row.name}: expected results counted`).toBe(row.expectedResults);
      total += report.outcomes.length;
      for (const outcome of report.outcomes) {
        if (outcome.passed) passed++;
        else failures.push(`${row.name}: ${describeOutcome(outcome)}`);
      }
    }
    const rate = passed / total;
    // The list of failures is part of the test's output on purpose (the corpus README asks for it).
    process.stdout.write(`Kyverno conformance: ${passed}/${total} expected verdicts agree (${(rate * 100).toFixed(2)}%)${failures.length > 0 ? `; failing:\n  ${failures.join('\n  ')}` : ''}\n`);
    expect(total).toBe(expectedTotal);
    expect(rate).toBeGreaterThanOrEqual(requiredRate);
  }, 180_000);
});

function describeOutcome(outcome: ExpectedOutcome): string {
  const actual = outcome.actual === 'none' ? 'no result' : outcome.actual;
  return `${outcome.policy}/${outcome.rule} on ${outcome.resource}: expected ${outcome.expected}, got ${actual} — ${outcome.detail}`;
}
