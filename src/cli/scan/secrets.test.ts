import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../main.js';
import { memoryIo } from '../memory-io.js';

// `plinth scan secrets` runs in-process on temporary folders; it needs no server.
const ghp = 'ghp_' + 'Zr4Kq8Wm2Xv6Bn1Lp5Tj9Hc3Gd7Fs0Ay2Qex';

async function plinth(...argv: string[]) {
  const io = memoryIo({});
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plinth-cli-secrets-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe('plinth scan secrets', () => {
  it('exits 0 on a clean folder and 1 with a redacted finding per line otherwise', async () => {
    const clean = await plinth('scan', 'secrets', await folder({ 'a.js': 'const token = process.env.TOKEN;\n' }));
    expect(clean).toMatchObject({ code: 0, stdout: '' });
    expect(clean.stderr).toContain('0 secret(s) found in 1 file(s)');
    const dirty = await plinth('scan', 'secrets', await folder({ 'a.js': `\nconst t = '${ghp}';\n` }));
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toBe('a.js:2:12  critical  github-pat  ghp_Zr…(40 chars)\n');
    expect(dirty.stdout + dirty.stderr).not.toContain(ghp);
  });

  it('prints JSON with findings relative to PATH, and SARIF 2.1.0', async () => {
    const dir = await folder({ 'a.js': `const t = '${ghp}';\n` });
    const json = await plinth('scan', 'secrets', dir, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { findings: { file: string; line: number; rule: string; severity: string }[] };
    expect(report.findings).toEqual([expect.objectContaining({ file: 'a.js', line: 1, rule: 'github-pat', severity: 'critical' })]);
    const sarif = await plinth('scan', 'secrets', dir, '--sarif');
    const log = JSON.parse(sarif.stdout) as { version: string; runs: { results: { ruleId: string }[] }[] };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]!.results.map((r) => r.ruleId)).toEqual(['github-pat']);
    expect(json.stdout + sarif.stdout).not.toContain(ghp);
  });

  it('writes a baseline that the next scan honours', async () => {
    const dir = await folder({ 'a.js': `const t = '${ghp}';\n` });
    const baseline = join(dir, 'accepted.json');
    const written = await plinth('scan', 'secrets', dir, '--write-baseline', baseline);
    expect(written).toMatchObject({ code: 0, stderr: `wrote 1 finding(s) to ${baseline}\n` });
    expect(await readFile(baseline, 'utf8')).not.toContain(ghp);
    const again = await plinth('scan', 'secrets', dir, '--baseline', baseline);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('1 accepted by the baseline');
  });

  it('exits 2 on usage errors: both formats, a missing path, a bad range, a broken config', async () => {
    const dir = await folder({ 'bad.toml': '[[rules]]\nid = 3\n' });
    expect(await plinth('scan', 'secrets', dir, '--json', '--sarif')).toMatchObject({ code: 2, stderr: 'error: choose one of --json and --sarif\n' });
    expect(await plinth('scan', 'secrets', join(dir, 'missing'))).toMatchObject({ code: 2, stderr: expect.stringMatching(/no such file or directory/) });
    expect(await plinth('scan', 'secrets', dir, '--commits', '--all')).toMatchObject({ code: 2 });
    expect(await plinth('scan', 'secrets', dir, '--config', join(dir, 'bad.toml'))).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a gitleaks config: rules\.0\.id/) });
    expect(await plinth('scan', 'secrets')).toMatchObject({ code: 2 });
  });
});
