import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baselineOf } from './baseline.js';
import { scanSecrets } from './scan.js';

// Fabricated tokens in real formats.
const ghp = 'ghp_' + 'Zr4Kq8Wm2Xv6Bn1Lp5Tj9Hc3Gd7Fs0Ay2Qex';
const npm = 'npm_' + 'Lp5Tj9Hc3Gd7Fs0Ay2QeZr4Kq8Wm2Xv6Bn1x';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'plinth-secrets-scan-'));
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Dana Dev', GIT_AUTHOR_EMAIL: 'dana@example.com', GIT_COMMITTER_NAME: 'Dana Dev', GIT_COMMITTER_EMAIL: 'dana@example.com' } }).trim();
}

describe('scanSecrets on a working tree', () => {
  it('finds secrets with paths relative to the scanned folder, skipping .git and node_modules', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'src', 'deep'), { recursive: true });
    await mkdir(join(dir, 'node_modules', 'pkg'), { recursive: true });
    await mkdir(join(dir, '.git'), { recursive: true });
    await writeFile(join(dir, 'src', 'deep', 'a.ts'), `export const t = '${ghp}';\n`);
    await writeFile(join(dir, 'node_modules', 'pkg', 'index.js'), `module.exports = '${ghp}';\n`);
    await writeFile(join(dir, '.git', 'config'), `token = ${ghp}\n`);
    const result = await scanSecrets({ path: dir });
    expect(result.findings.map((f) => `${f.file}:${f.line}:${f.rule}`)).toEqual(['src/deep/a.ts:1:github-pat']);
    const withModules = await scanSecrets({ path: dir, tree: { includeNodeModules: true } });
    expect(withModules.findings.map((f) => f.file)).toEqual(['node_modules/pkg/index.js', 'src/deep/a.ts']);
  });

  it('skips binary and oversized files, caps minified lines, and does not follow symlink loops', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'blob.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(ghp)]));
    await writeFile(join(dir, 'big.txt'), `${ghp}\n${'x'.repeat(2 * 1024 * 1024)}`);
    await writeFile(join(dir, 'bundle.min.js'), `var a="${ghp}";${'a=1;'.repeat(30_000)}var b="${npm}";\n`);
    await mkdir(join(dir, 'loop'));
    await symlink(dir, join(dir, 'loop', 'again'));
    const result = await scanSecrets({ path: dir, tree: { maxFileBytes: 1024 * 1024 } });
    expect(result.findings.map((f) => `${f.file}:${f.rule}`)).toEqual(['bundle.min.js:github-pat']);
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.file, s.reason]));
    expect(reasons['blob.bin']).toBe('binary file');
    expect(reasons['big.txt']).toMatch(/larger than 1048576 bytes/);
    expect(reasons['bundle.min.js']).toMatch(/1 line\(s\) longer than 20000 chars/);
    expect(reasons['loop/again']).toBe('symbolic link, not followed');
  });

  it('walks a tree 400 folders deep', async () => {
    const dir = await tempDir();
    let path = dir;
    for (let i = 0; i < 400; i++) path = join(path, 'd');
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'leak.env'), `NPM_TOKEN=${npm}\n`);
    const result = await scanSecrets({ path: dir });
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.file.split('/')).toHaveLength(401);
  });

  it('accepts baseline findings by content fingerprint even after the lines move, and honours .gitleaksignore', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a.ts'), `const t = '${ghp}';\nconst n = '${npm}';\n`);
    const first = await scanSecrets({ path: dir });
    expect(first.findings).toHaveLength(2);
    await writeFile(join(dir, '.plinth-secrets-baseline.json'), JSON.stringify(baselineOf(first.findings.filter((f) => f.rule === 'github-pat'), '2026-11-26T00:00:00Z')));
    await writeFile(join(dir, 'a.ts'), `// moved down\n\n\nconst t = '${ghp}';\nconst n = '${npm}';\n`);
    const second = await scanSecrets({ path: dir });
    expect(second.findings.map((f) => `${f.rule}:${f.line}`)).toEqual(['npm-access-token:5']);
    expect(second.suppressed).toBe(1);
    await writeFile(join(dir, '.gitleaksignore'), '# reviewed\na.ts:npm-access-token:5\n');
    expect((await scanSecrets({ path: dir })).findings).toEqual([]);
    expect(JSON.stringify(await readFile(join(dir, '.plinth-secrets-baseline.json'), 'utf8'))).not.toContain(ghp);
  });

  it('rejects a missing path, an unreadable config and a malformed baseline with an InputError', async () => {
    const dir = await tempDir();
    await expect(scanSecrets({ path: join(dir, 'nope') })).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/no such file or directory/) });
    await expect(scanSecrets({ path: dir, configFile: join(dir, 'missing.toml') })).rejects.toMatchObject({ name: 'InputError' });
    await writeFile(join(dir, 'b.json'), '{"version": 2}');
    await expect(scanSecrets({ path: dir, baselineFile: join(dir, 'b.json') })).rejects.toThrow(/not a secrets baseline: version/);
  });

  it("uses the repository's .gitleaks.toml when no config is given", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '.gitleaks.toml'), `[[rules]]\nid = "acme"\nregex = '''acme_[0-9]{8}'''\n`);
    await writeFile(join(dir, 'a.txt'), `acme_12345678 ${ghp}\n`);
    const result = await scanSecrets({ path: dir });
    expect(result.findings.map((f) => f.rule)).toEqual(['acme']);
    expect(result.configSource).toBe(join(dir, '.gitleaks.toml'));
  });
});

describe('scanSecrets on a commit range of a real git repository', () => {
  it('finds secrets added by each commit, even when a later commit removed them, with commit, author and date', async () => {
    const dir = await tempDir();
    git(dir, 'init', '-q', '-b', 'main');
    await writeFile(join(dir, 'README.md'), '# app\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'init');
    const base = git(dir, 'rev-parse', 'HEAD');
    await writeFile(join(dir, 'config.js'), `module.exports = {\n  url: 'https://x',\n  token: '${ghp}',\n};\n`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'add config');
    const leak = git(dir, 'rev-parse', 'HEAD');
    await writeFile(join(dir, 'config.js'), `module.exports = {\n  url: 'https://x',\n  token: process.env.TOKEN,\n};\n`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'use env');
    expect((await scanSecrets({ path: dir })).findings).toEqual([]);
    const result = await scanSecrets({ path: dir, commits: `${base}..HEAD` });
    expect(result.commitsScanned).toBe(2);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ rule: 'github-pat', file: 'config.js', line: 3, column: 11, commit: leak, author: 'Dana Dev', email: 'dana@example.com' });
    expect(result.findings[0]!.gitleaksFingerprint).toBe(`${leak}:config.js:github-pat:3`);
    expect(Date.parse(result.findings[0]!.date!)).not.toBeNaN();
  });

  it('rejects an option-like or unknown range as an InputError', async () => {
    const dir = await tempDir();
    git(dir, 'init', '-q', '-b', 'main');
    await expect(scanSecrets({ path: dir, commits: '--output=/tmp/x' })).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/not a revision range/) });
    await expect(scanSecrets({ path: dir, commits: 'nope..HEAD' })).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/git log nope\.\.HEAD failed/) });
  });
});
