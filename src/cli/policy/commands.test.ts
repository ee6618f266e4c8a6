import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../main.js';
import { memoryIo } from '../memory-io.js';

// `plinth policy test` runs in-process against Kyverno test files written to a temporary folder;
// it needs no server.

const policy = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: disallow-latest
spec:
  rules:
  - name: require-tag
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: images need a tag other than latest
      pattern:
        spec:
          containers:
          - image: "!*:latest"
`;

const resources = `apiVersion: v1
kind: Pod
metadata:
  name: good
spec:
  containers:
  - name: c
    image: nginx:1.25
---
apiVersion: v1
kind: Pod
metadata:
  name: bad
spec:
  containers:
  - name: c
    image: nginx:latest
`;

function testFile(badExpectation: string): string {
  return `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata:
  name: disallow-latest
policies:
- ../policy.yaml
resources:
- resources.yaml
results:
- policy: disallow-latest
  rule: require-tag
  resources: [good]
  kind: Pod
  result: pass
- policy: disallow-latest
  rule: require-tag
  resources: [bad]
  kind: Pod
  result: ${badExpectation}
`;
}

/** A policy folder laid out as Kyverno's library does it, the test in a hidden .kyverno-test/ folder. */
async function fixture(badExpectation: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plinth-policy-test-'));
  await mkdir(join(dir, '.kyverno-test'));
  await writeFile(join(dir, 'policy.yaml'), policy);
  await writeFile(join(dir, '.kyverno-test', 'resources.yaml'), resources);
  await writeFile(join(dir, '.kyverno-test', 'kyverno-test.yaml'), testFile(badExpectation));
  return dir;
}

describe('plinth policy test', () => {
  it('passes when every expected result matches, finding tests in hidden folders', async () => {
    const io = memoryIo({});
    expect(await run(['policy', 'test', await fixture('fail')], io)).toBe(0);
    const lines = io.stdoutText().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PASS {2}.*\.kyverno-test\/kyverno-test\.yaml \(2 results\)$/);
    expect(lines.at(-1)).toBe('2 passed, 0 failed');
  });

  it('lists each mismatch with the reason and exits 1', async () => {
    const io = memoryIo({});
    expect(await run(['policy', 'test', await fixture('pass')], io)).toBe(1);
    const text = io.stdoutText();
    expect(text).toMatch(/FAIL {2}.*\(1 of 2 results failed\)/);
    expect(text).toContain('disallow-latest/require-tag bad: expected pass, got fail');
    expect(text.trimEnd().split('\n').at(-1)).toBe('1 passed, 1 failed');
  });

  it('prints the reports as JSON with --json', async () => {
    const io = memoryIo({});
    expect(await run(['policy', 'test', await fixture('fail'), '--json'], io)).toBe(0);
    const report = JSON.parse(io.stdoutText()) as { passed: number; failed: number; reports: { outcomes: { resource: string; actual: string }[] }[] };
    expect(report).toMatchObject({ passed: 2, failed: 0 });
    expect(report.reports[0]!.outcomes.map((o) => `${o.resource}:${o.actual}`)).toEqual(['good:pass', 'bad:fail']);
  });

  it('reports a policy that cannot be loaded as failures, and a missing folder as a usage error', async () => {
    const dir = await fixture('fail');
    await writeFile(join(dir, 'policy.yaml'), policy.replace('pattern:', 'patern:'));
    const io = memoryIo({});
    expect(await run(['policy', 'test', dir], io)).toBe(1);
    expect(io.stdoutText()).toContain('unknown field "patern"');
    const missing = memoryIo({});
    expect(await run(['policy', 'test', join(dir, 'nope')], missing)).toBe(2);
    expect(missing.stderrText()).toMatch(/no such file or directory/);
  });
});
