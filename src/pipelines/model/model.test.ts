import { describe, expect, it } from 'vitest';
import {
  applyPlinthYaml,
  applyPreset,
  checkPlinthYaml,
  createLineMasker,
  detectPreset,
  formatProblem,
  maskPatterns,
  mergeAttempts,
  parseJUnitXml,
  parseVitestJson,
  planPipeline,
  stageStatusOf,
  standardPipeline,
  type Toolchain,
} from './index.js';

const node = new Set<Toolchain>(['node', 'npm']);

describe('presets', () => {
  it('takes npm commands from package.json scripts and skips install without dependencies', () => {
    const preset = detectPreset({ rootFiles: new Set(['package.json']), available: node, packageJson: JSON.stringify({ scripts: { build: 'tsc', test: 'vitest run' } }) });
    expect(preset.commands).toEqual({ install: { reason: 'package.json declares no dependencies' }, compile: { command: 'npm run build' }, 'unit-test': { command: 'npm run test' }, lint: { reason: 'package.json has no lint script' }, 'integration-test': { reason: 'package.json has no test:integration script' } });
  });
  it('picks the package manager by lockfile and skips cleanly when it is missing', () => {
    const pkg = JSON.stringify({ dependencies: { a: '1' } });
    expect(detectPreset({ rootFiles: new Set(['package.json', 'package-lock.json']), available: node, packageJson: pkg }).commands.install).toEqual({ command: 'if [ "$PLINTH_CACHE_HIT" = true ]; then npm install --no-save --no-audit --no-fund; else npm ci --no-audit --no-fund; fi' });
    expect(detectPreset({ rootFiles: new Set(['package.json', 'pnpm-lock.yaml']), available: node, packageJson: pkg }).commands.install).toEqual({ reason: 'pnpm is not installed on this runner' });
    expect(detectPreset({ rootFiles: new Set(['go.mod']), available: node }).commands.compile).toEqual({ reason: 'go is not installed on this runner' });
  });
});

describe('plinth.yaml', () => {
  const base = applyPreset(standardPipeline(), detectPreset({ rootFiles: new Set(), available: node }));
  it('adds steps, changes commands, sets env and turns optional stages off', () => {
    const text = 'env:\n  FOO: bar\nstages:\n  build:\n    steps:\n      unit-test: { command: make test, retries: 1 }\n      e2e: { command: make e2e, needs: [unit-test] }\n  deploy-production: { enabled: false }\n';
    const checked = checkPlinthYaml(text, 'plinth.yaml', base);
    if (!checked.ok) throw new Error(checked.problems.map(formatProblem).join('\n'));
    const merged = applyPlinthYaml(base, checked.config);
    expect(merged.env).toMatchObject({ CI: 'true', FOO: 'bar' });
    expect(merged.steps.find((s) => s.name === 'unit-test')).toMatchObject({ command: 'make test', retries: 1 });
    expect(merged.steps.find((s) => s.name === 'e2e')).toMatchObject({ stage: 'build', command: 'make e2e', needs: ['unit-test'] });
    const plan = planPipeline(merged, { isDefaultBranch: true });
    expect(plan.find((p) => p.definition.name === 'canary')?.skipReason).toBe('the deploy-production stage is turned off in plinth.yaml');
    expect(plan.find((p) => p.definition.name === 'sast-scan')?.waitsFor).toEqual(expect.arrayContaining(['install', 'e2e']));
    expect(base.steps.find((s) => s.name === 'unit-test')).toMatchObject({ retries: 0 });
  });
  it('never removes the security stage or rewrites platform steps, and says where', () => {
    const checked = checkPlinthYaml('stages:\n  security:\n    enabled: false\n    steps:\n      sbom: { command: "true" }\n', 'plinth.yaml', base);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems.map(formatProblem)).toEqual([
      'plinth.yaml:3:5: stages.security.enabled: the security stage cannot be turned off; only package, deploy-staging, deploy-production are optional',
      'plinth.yaml:5:7: stages.security.steps.sbom: sbom is a platform step (security.sbom); it cannot be changed in plinth.yaml',
    ]);
  });
  it('reports syntax errors and unknown fields with line and column', () => {
    const syntax = checkPlinthYaml('stages:\n  build: [\n', 'plinth.yaml', base);
    expect(!syntax.ok && syntax.problems[0]!.line).toBeGreaterThanOrEqual(2);
    const unknown = checkPlinthYaml('stages:\n  build:\n    stepz: {}\n', 'plinth.yaml', base);
    expect(!unknown.ok && formatProblem(unknown.problems[0]!)).toMatch(/^plinth\.yaml:3:5: stages\.build\.stepz: /);
  });
});

describe('stage status', () => {
  it('is never passed while a step is not installed', () => {
    expect(stageStatusOf(['passed', 'not-installed'])).toBe('not-installed');
    expect(stageStatusOf(['failed', 'not-installed'])).toBe('failed');
    expect(stageStatusOf(['passed', 'skipped'])).toBe('passed');
  });
});

describe('secret masking', () => {
  const secret = 'hunter2-super-secret';
  const patterns = maskPatterns([secret]);
  const feed = (chunks: string[]) => {
    const masker = createLineMasker(patterns);
    return [...chunks.flatMap((c) => masker.push(c)), ...masker.end()].join('\n');
  };
  it('masks a secret split across chunks', () => {
    const out = feed(['token=hun', 'ter2-sup', 'er-secret done\nnext']);
    expect(out).toBe('token=*** done\nnext');
  });
  it('masks the secret base64-encoded at every alignment', () => {
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(prefix + secret + 'tail').toString('base64');
      const out = feed([encoded.slice(0, 7), encoded.slice(7), '\n']);
      expect(out, prefix).toContain('***');
      expect(Buffer.from(out.replace('***', ''), 'base64').toString('latin1')).not.toContain('super-secret');
    }
  });
  it('masks inside an overlong line without a newline', () => {
    const out = feed(['x'.repeat(16 * 1024 - 5) + secret + 'y'.repeat(20_000)]);
    expect(out).not.toContain(secret);
    expect(out).not.toContain('hunter2');
  });
});

describe('test reports', () => {
  it('parses JUnit XML with failures and skips', () => {
    const xml = `<?xml version="1.0"?><testsuites><testsuite name="math" file="test/math.test.js"><testcase name="adds &amp; carries" classname="math" time="0.012"/><testcase name="divides" time="0.5"><failure message="boom"><![CDATA[<testcase name="fake">]]></failure></testcase><testcase name="later"><skipped/></testcase></testsuite></testsuites>`;
    expect(parseJUnitXml(xml)).toEqual([
      { name: 'adds & carries', file: 'math', durationMs: 12, outcome: 'passed' },
      { name: 'divides', file: 'test/math.test.js', durationMs: 500, outcome: 'failed' },
      { name: 'later', file: 'test/math.test.js', durationMs: null, outcome: 'skipped' },
    ]);
  });
  it('parses the vitest JSON reporter', () => {
    const json = JSON.stringify({ testResults: [{ name: '/w/src/a.test.ts', assertionResults: [{ fullName: 'a works', status: 'passed', duration: 3.4 }, { title: 'b', status: 'failed' }, { title: 'c', status: 'pending' }] }] });
    expect(parseVitestJson(json)).toEqual([
      { name: 'a works', file: '/w/src/a.test.ts', durationMs: 3, outcome: 'passed' },
      { name: 'b', file: '/w/src/a.test.ts', durationMs: null, outcome: 'failed' },
      { name: 'c', file: '/w/src/a.test.ts', durationMs: null, outcome: 'skipped' },
    ]);
    expect(parseVitestJson('not json')).toEqual([]);
  });
  it('marks a test that failed and then passed on retry as flaky', () => {
    const merged = mergeAttempts('unit-test', [
      [{ name: 'x', file: 'f', durationMs: 1, outcome: 'failed' }, { name: 'y', file: 'f', durationMs: 1, outcome: 'passed' }],
      [{ name: 'x', file: 'f', durationMs: 1, outcome: 'passed' }, { name: 'y', file: 'f', durationMs: 1, outcome: 'passed' }],
    ]);
    expect(merged.map((t) => [t.name, t.outcome, t.flaky])).toEqual([['x', 'passed', true], ['y', 'passed', false]]);
  });
});
