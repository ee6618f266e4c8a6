// ---- Test reports -----------------------------------------------------------------------------------
// JUnit XML (JUnit, node --test --test-reporter=junit, pytest --junitxml, most tools) and the vitest/jest
// JSON reporter, parsed into one shape: the per-test history test selection learns from.

export const testOutcomes = ['passed', 'failed', 'skipped'] as const;
export type TestOutcome = (typeof testOutcomes)[number];

export interface TestResult {
  name: string;
  /** Source file or suite the test came from, when the report says. */
  file: string | null;
  durationMs: number | null;
  outcome: TestOutcome;
}

/** A stored result also says which step produced it and whether it flaked (failed, then passed on a retry). */
export interface RecordedTest extends TestResult {
  step: string;
  flaky: boolean;
}

const maxTests = 20_000;

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, code: string) => {
    if (code.startsWith('#x') || code.startsWith('#X')) return String.fromCodePoint(parseInt(code.slice(2), 16));
    if (code.startsWith('#')) return String.fromCodePoint(Number(code.slice(1)));
    return entities[code] ?? whole;
  });
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1]!] = decodeXml(m[3] ?? m[4] ?? '');
  return out;
}

const seconds = (value: string | undefined): number | null => {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000) : null;
};

/**
 * Parses JUnit XML: every <testcase> inside any <testsuite>. A scanner for the handful of elements the
 * format uses, not a general XML parser; comments and CDATA (failure output) are removed first.
 */
export function parseJUnitXml(xml: string): TestResult[] {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const results: TestResult[] = [];
  const suiteFiles: (string | null)[] = [];
  const token = /<(\/?)(testsuite|testcase)\b([^>]*?)(\/?)>|<(failure|error|skipped)\b[^>]*>/g;
  let open: { attrs: Record<string, string>; outcome: TestOutcome } | undefined;
  const close = () => {
    if (!open) return;
    const { attrs, outcome } = open;
    results.push({
      name: attrs.name ?? '(unnamed)',
      file: attrs.file ?? attrs.classname ?? suiteFiles[suiteFiles.length - 1] ?? null,
      durationMs: seconds(attrs.time),
      outcome,
    });
    open = undefined;
  };
  for (const m of text.matchAll(token)) {
    if (results.length >= maxTests) break;
    const [, closing, element, attrText, selfClosing, child] = m;
    if (child !== undefined) {
      if (open) open.outcome = child === 'skipped' ? 'skipped' : 'failed';
    } else if (element === 'testsuite') {
      if (closing === '/') suiteFiles.pop();
      else if (selfClosing !== '/') suiteFiles.push(attributes(attrText ?? '').file ?? attributes(attrText ?? '').name ?? null);
    } else if (closing === '/') {
      close();
    } else {
      close();
      open = { attrs: attributes(attrText ?? ''), outcome: 'passed' };
      if (selfClosing === '/') close();
    }
  }
  close();
  return results;
}

/** Parses the vitest (and jest) JSON reporter: `testResults[].assertionResults[]`. */
export function parseVitestJson(text: string): TestResult[] {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    return [];
  }
  const files = (report as { testResults?: unknown } | null)?.testResults;
  if (!Array.isArray(files)) return [];
  const results: TestResult[] = [];
  for (const file of files as unknown[]) {
    if (typeof file !== 'object' || file === null) continue;
    const { name, assertionResults } = file as { name?: unknown; assertionResults?: unknown };
    if (!Array.isArray(assertionResults)) continue;
    for (const a of assertionResults as unknown[]) {
      if (typeof a !== 'object' || a === null || results.length >= maxTests) continue;
      const { fullName, title, status, duration } = a as Record<string, unknown>;
      const testName = typeof fullName === 'string' ? fullName : typeof title === 'string' ? title : '(unnamed)';
      const outcome: TestOutcome = status === 'passed' ? 'passed' : status === 'failed' ? 'failed' : 'skipped';
      results.push({ name: testName, file: typeof name === 'string' ? name : null, durationMs: typeof duration === 'number' && duration >= 0 ? Math.round(duration) : null, outcome });
    }
  }
  return results;
}

/** Parses a report by its content: XML with <testsuite/testcase>, or vitest/jest JSON. */
export function parseTestReport(text: string): TestResult[] {
  const head = text.trimStart();
  if (head.startsWith('<')) return parseJUnitXml(text);
  if (head.startsWith('{')) return parseVitestJson(text);
  return [];
}

const testKey = (t: TestResult) => `${t.file ?? ''}\u0000${t.name}`;

/**
 * Merges the results of a step's attempts (oldest first): the last attempt's outcome stands, and a test
 * that failed in an earlier attempt but passed in the last one is flaky.
 */
export function mergeAttempts(step: string, attempts: readonly (readonly TestResult[])[]): RecordedTest[] {
  const failedBefore = new Set<string>();
  const latest = new Map<string, TestResult>();
  for (const [i, results] of attempts.entries()) {
    for (const result of results) {
      if (i < attempts.length - 1 && result.outcome === 'failed') failedBefore.add(testKey(result));
      latest.set(testKey(result), result);
    }
  }
  return [...latest.values()].map((r) => ({ ...r, step, flaky: r.outcome === 'passed' && failedBefore.has(testKey(r)) }));
}
