import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText, sastSarif, scanSast } from './scan.js';

const rulesOf = async (code: string, file = 'x.ts') => (await analyzeText(file, code)).findings.map((f) => `${f.line}:${f.rule}:${f.severity}`);

describe('SAST rules', () => {
  it('follows request input through destructuring, reassignment and closures, and stops at sanitizers', async () => {
    const code = [
      'app.get("/a", async (request, reply) => {',
      '  const { id } = request.params;',
      '  let q;',
      '  q = "SELECT * FROM t WHERE id = " + id;',
      '  await db.query(q + "");',
      '  const n = Number(request.query.n);',
      '  await db.query(`SELECT * FROM t LIMIT ${n}`);',
      '  setImmediate(() => db.query(`DELETE FROM t WHERE id = ${id}`));',
      '});',
    ].join('\n');
    expect(await rulesOf(code)).toEqual(['5:sql-injection:critical', '8:sql-injection:critical']);
  });

  it('tells request input from dynamic and literal values at command and code sinks', async () => {
    const code = [
      'import { exec } from "node:child_process";',
      'const CMD = "uptime";',
      'exec(CMD);',
      'export function run(cmd: string) { exec(cmd); }',
      'export function handler(req) { exec("ls " + req.query.dir); }',
      'export function calc(expr: string) { return eval(expr); }',
      'const re = /a/; re.exec("abc");',
    ].join('\n');
    expect(await rulesOf(code)).toEqual(['4:command-injection:medium', '5:command-injection:critical', '6:code-injection:high']);
  });

  it('honours plinth:allow-sast on the line or the line above, for one rule or all', async () => {
    const code = [
      'export function a(req) {',
      '  // plinth:allow-sast path-traversal',
      '  return fs.readFileSync(req.query.f);',
      '}',
      'export function b(req) { return fs.readFileSync(req.query.f); } // plinth:allow-sast ssrf',
      'export const agent = { rejectUnauthorized: false }; // plinth:allow-sast',
    ].join('\n');
    const result = await analyzeText('x.js', code);
    expect(result.findings.map((f) => `${f.line}:${f.rule}`)).toEqual(['5:path-traversal']);
    expect(result.suppressed).toBe(2);
  });

  it('parses TSX and JSX', async () => {
    expect(await rulesOf('export const C = (props) => <div>{eval(props.code)}</div>;', 'c.tsx')).toEqual(['1:code-injection:high']);
  });

  it('skips node_modules, minified files and symlinks, and reports SARIF with stable fingerprints', async () => {
    const root = await mkdtemp(join(tmpdir(), 'plinth-sast-'));
    await mkdir(join(root, 'node_modules', 'lib'), { recursive: true });
    await writeFile(join(root, 'node_modules', 'lib', 'index.js'), 'eval(x);');
    await writeFile(join(root, 'bundle.js'), `var a=1;${'eval(x);'.repeat(1000)}`);
    await writeFile(join(root, 'app.ts'), '\n\nexport const h = (req) => eval(req.body.code);\n');
    await symlink(root, join(root, 'loop'));
    const result = await scanSast(root);
    expect(result.findings.map((f) => `${f.file}:${f.line}`)).toEqual(['app.ts:3']);
    expect(result.skipped).toEqual([{ file: 'bundle.js', reason: 'a line longer than 5000 characters (minified or generated)' }]);
    const moved = await analyzeText('app.ts', '\n\n\n\nexport const h = (req) => eval(req.body.code);\n');
    expect(moved.findings[0]!.fingerprint).toBe(result.findings[0]!.fingerprint);
    const sarif = sastSarif(result.findings, '0.1.0') as { version: string; runs: { results: { ruleId: string; level: string; locations: unknown[] }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.results[0]).toMatchObject({ ruleId: 'code-injection', level: 'error', locations: [{ physicalLocation: { artifactLocation: { uri: 'app.ts' }, region: { startLine: 3 } } }] });
  });
});
