import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sastScanStep } from '../../security/index.js';
import { run } from '../main.js';
import { memoryIo } from '../memory-io.js';

const corpus = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'sast-corpus');

async function plinth(...argv: string[]) {
  const io = memoryIo({ PLINTH_CONFIG_DIR: await mkdtemp(join(tmpdir(), 'plinth-cli-')) });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('plinth scan sast', () => {
  it('prints findings, JSON with file/line/rule/severity, and SARIF; exits 1 at --fail-on', async () => {
    const text = await plinth('scan', 'sast', corpus);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('src/routes/admin.ts:5:3 CRITICAL command-injection: exec() runs a shell command built from request input');
    expect(text.stderr).toContain('21 finding(s) in 9 file(s)');
    const json = await plinth('scan', 'sast', corpus, '--json');
    const { findings } = JSON.parse(json.stdout) as { findings: { file: string; line: number; rule: string; severity: string }[] };
    expect(findings).toContainEqual(expect.objectContaining({ file: 'src/routes/users.ts', line: 7, rule: 'sql-injection', severity: 'critical' }));
    const sarif = JSON.parse((await plinth('scan', 'sast', corpus, '--sarif')).stdout) as { version: string; runs: { results: unknown[] }[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.results).toHaveLength(21);
    // The corpus has critical findings; its lib/ folder only high and medium ones.
    expect((await plinth('scan', 'sast', corpus, '--fail-on', 'critical')).code).toBe(1);
    expect((await plinth('scan', 'sast', join(corpus, 'src', 'lib'), '--fail-on', 'critical')).code).toBe(0);
  });

  it('reports usage errors with exit code 2', async () => {
    expect((await plinth('scan', 'sast', join(corpus, 'missing'))).code).toBe(2);
    expect((await plinth('scan', 'sast', corpus, '--fail-on', 'severe')).code).toBe(2);
    expect((await plinth('scan', 'sast', corpus, '--json', '--sarif')).code).toBe(2);
  });
});

describe('the security.sast-scan pipeline step', () => {
  it('hands every finding to the ci-gate in its outputs instead of failing on severity', async () => {
    const workspace = await mkdtemp(join(tmpdir(), 'plinth-sast-step-'));
    await cp(corpus, workspace, { recursive: true });
    const lines: string[] = [];
    const ctx = { workspace, signal: new AbortController().signal, log: (l: string) => lines.push(l), inputs: {}, env: {}, step: 'sast-scan' } as unknown as Parameters<typeof sastScanStep>[0];
    const scanned = await sastScanStep(ctx);
    expect(scanned.status).toBe('passed');
    expect(scanned.message).toMatch(/critical.*; the ci-gate step judges them$/);
    expect(lines[0]).toMatch(/^SAST: 9 files; 21 finding\(s\)/);
    const outputs = scanned.outputs as { scanner: string; complete: boolean; total: number; findings: { rule: string; fingerprint: string }[] };
    expect(outputs).toMatchObject({ scanner: 'sast', complete: true, total: 21 });
    expect(outputs.findings).toHaveLength(21);
    expect(outputs.findings.map((f) => f.rule)).toContain('sql-injection');
    expect(new Set(outputs.findings.map((f) => f.fingerprint)).size).toBe(21);

    const clean = await mkdtemp(join(tmpdir(), 'plinth-sast-step-'));
    await cp(join(corpus, 'src', 'lib', 'db.ts'), join(clean, 'db.ts'));
    const passed = await sastScanStep({ ...ctx, workspace: clean });
    expect(passed).toMatchObject({ status: 'passed', message: 'no findings', outputs: { findings: [], total: 0 } });
  });
});
