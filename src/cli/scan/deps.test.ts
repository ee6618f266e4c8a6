import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../../test/helpers/app.js';
import { run } from '../main.js';
import { memoryIo } from '../memory-io.js';

// `plinth advisories import`, `plinth scan deps` and `plinth sbom`, in-process against a real server on a port.

const fixtures = new URL('../../../test/fixtures/', import.meta.url).pathname;
const osv = join(fixtures, 'osv');
const npmApp = join(fixtures, 'lockfiles/npm-app');

let server: Awaited<ReturnType<typeof startTestServer>>;
let env: Record<string, string>;
let memberEnv: Record<string, string>;
let configDir: string;

beforeAll(async () => {
  server = await startTestServer({ dialect: 'sqlite' });
  configDir = mkdtempSync(join(tmpdir(), 'plinth-cli-deps-'));
  env = { PLINTH_CONFIG_DIR: configDir, PLINTH_URL: server.url, PLINTH_TOKEN: server.adminToken };
  memberEnv = { ...env, PLINTH_TOKEN: (await server.testApp.createUser('max', 'member')).token };
});
afterAll(async () => {
  await server?.close();
  rmSync(configDir, { recursive: true, force: true });
});

async function plinth(args: string[], withEnv: Record<string, string> = env) {
  const io = memoryIo(withEnv);
  const code = await run(args, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

interface JsonFinding { file: string; line: number; rule: string; severity: string; package: string; version: string; fixed: string[]; paths: string[]; dev: boolean; suppressed: boolean }

describe('plinth advisories import', () => {
  it('refuses a member with the server’s reason', async () => {
    const r = await plinth(['advisories', 'import', osv], memberEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('import advisories needs the platform-admin role (NotAllowedError)');
  });
  it('rejects an invalid file before sending anything', async () => {
    const r = await plinth(['advisories', 'import', join(fixtures, 'lockfiles/npm-app/package.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/package.json \(demo-app\)|package.json: (id|modified)/);
  });
  it('imports files and folders, then reports the same set as skipped', async () => {
    const first = await plinth(['advisories', 'import', join(osv, 'npm'), join(osv, 'pypi/all.json'), join(osv, 'go')]);
    expect(first).toMatchObject({ code: 0, stdout: 'imported 10, updated 0, skipped 0 (unchanged or older) from 10 advisories in 8 file(s)\n' });
    const again = await plinth(['advisories', 'import', osv, '--json']);
    expect(JSON.parse(again.stdout)).toEqual({ imported: 0, updated: 0, skipped: 10, files: 8, advisories: 10 });
  });
});

describe('plinth scan deps', () => {
  it('audits through the server: JSON findings with lockfile line, rule, severity, fix and path; VEX suppression kept', async () => {
    const r = await plinth(['scan', 'deps', npmApp, '--json'], memberEnv);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: JsonFinding[]; summary: { total: number; suppressed: number } };
    expect(report.summary).toMatchObject({ total: 4, suppressed: 1 });
    const critical = report.findings[0]!;
    expect(critical).toMatchObject({ file: 'package-lock.json', rule: 'GHSA-xvch-5gv4-984h', severity: 'critical', package: 'minimist', version: '0.0.8', fixed: ['0.2.4', '1.2.6'], paths: ['demo-app > mkdirp > minimist'], dev: true, suppressed: false });
    expect(critical.line).toBeGreaterThan(1);
    const qs = report.findings.find((f) => f.package === 'qs')!;
    expect(qs.paths).toEqual(['demo-app > express > qs', 'demo-app > express > body-parser > qs']);
    expect(report.findings.find((f) => f.rule === 'GHSA-35jh-r3h4-6jhm')).toMatchObject({ suppressed: true, vex: { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' } });
  });
  it('matches local OSV files with no server, and --fail-on critical passes below it', async () => {
    const noServer = { PLINTH_CONFIG_DIR: configDir, PLINTH_URL: 'http://127.0.0.1:9' };
    const local = await plinth(['scan', 'deps', npmApp, '--json', '--advisories', osv], noServer);
    expect((JSON.parse(local.stdout) as { findings: JsonFinding[] }).findings.map((f) => f.rule)).toEqual(
      (JSON.parse((await plinth(['scan', 'deps', npmApp, '--json'])).stdout) as { findings: JsonFinding[] }).findings.map((f) => f.rule),
    );
    const goOnly = await plinth(['scan', 'deps', join(fixtures, 'lockfiles/go-module'), '--advisories', osv, '--fail-on', 'critical'], noServer);
    expect(goOnly.code).toBe(0);
    expect(goOnly.stdout).toMatch(/^HIGH GO-2022-1059 golang.org\/x\/text@v0.3.7 \(prod\) go.mod:7 fixed in 0.3.8/);
  });
  it('writes SARIF with a suppression carrying the VEX justification', async () => {
    const r = await plinth(['scan', 'deps', npmApp, '--sarif']);
    const sarif = JSON.parse(r.stdout) as { version: string; runs: { results: { ruleId: string; level: string; suppressions?: { justification: string }[]; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    const results = sarif.runs[0]!.results;
    expect(results.find((x) => x.ruleId === 'GHSA-xvch-5gv4-984h')).toMatchObject({ level: 'error', locations: [{ physicalLocation: { artifactLocation: { uri: 'package-lock.json' } } }] });
    expect(results.find((x) => x.ruleId === 'GHSA-35jh-r3h4-6jhm')!.suppressions).toEqual([{ kind: 'external', status: 'accepted', justification: 'vulnerable_code_not_in_execute_path: demo-app never calls _.template' }]);
  });
  it('reports a malformed lockfile by name and exits 2, still auditing the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-deps-broken-'));
    try {
      cpSync(join(fixtures, 'lockfiles'), dir, { recursive: true });
      const r = await plinth(['scan', 'deps', dir, '--json']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: broken\/package-lock.json: not valid JSON/m);
      const report = JSON.parse(r.stdout) as { findings: JsonFinding[]; lockfiles: { file: string }[] };
      expect(report.lockfiles.map((l) => l.file)).toContain('python-poetry/poetry.lock');
      expect(report.findings.map((f) => `${f.file} ${f.rule}`)).toContain('python-poetry/poetry.lock GHSA-h5c8-rqwp-cp95');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('says what is wrong with its arguments', async () => {
    expect((await plinth(['scan', 'deps', '/nonexistent/project'])).stderr).toContain('/nonexistent/project: no such file or directory');
    expect((await plinth(['scan', 'deps', npmApp, '--fail-on', 'severe'])).code).toBe(2);
  });
});

describe('plinth sbom', () => {
  it('prints CycloneDX by default and SPDX on request, with purls and the dependency graph', async () => {
    const cdx = JSON.parse((await plinth(['sbom', npmApp])).stdout) as { specVersion: string; metadata: { component: { name: string } }; components: { purl: string }[]; dependencies: { ref: string; dependsOn?: string[] }[] };
    expect(cdx.specVersion).toBe('1.6');
    expect(cdx.metadata.component.name).toBe('demo-app');
    expect(cdx.components.map((c) => c.purl)).toContain('pkg:npm/%40demo/logger@2.0.1');
    expect(cdx.dependencies.find((d) => d.ref === 'pkg:npm/express@4.17.1')!.dependsOn).toEqual(['pkg:npm/body-parser@1.19.0', 'pkg:npm/qs@6.7.0']);
    const spdx = JSON.parse((await plinth(['sbom', npmApp, '--format', 'spdx'])).stdout) as { spdxVersion: string; packages: unknown[] };
    expect(spdx.spdxVersion).toBe('SPDX-2.3');
    expect(spdx.packages).toHaveLength(11);
  });
  it('refuses an unknown format and a malformed lockfile', async () => {
    expect((await plinth(['sbom', npmApp, '--format', 'swid'])).stderr).toContain('--format: "swid" is not one of cyclonedx, spdx');
    const broken = await plinth(['sbom', join(fixtures, 'lockfiles/broken')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^error: package-lock.json: not valid JSON/);
  });
});
