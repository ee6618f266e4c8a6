import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import type { PlatformStepContext } from '../pipelines/index.js';

const dialects = await testDialects();
const osvDir = new URL('../../test/fixtures/osv/', import.meta.url).pathname;
const lockfiles = new URL('../../test/fixtures/lockfiles/', import.meta.url).pathname;
const npmRecords = readdirSync(join(osvDir, 'npm')).map((f) => JSON.parse(readFileSync(join(osvDir, 'npm', f), 'utf8')) as Record<string, unknown>);
const pypiRecords = JSON.parse(readFileSync(join(osvDir, 'pypi/all.json'), 'utf8')) as Record<string, unknown>[];
const goRecord = JSON.parse(readFileSync(join(osvDir, 'go/GO-2022-1059.json'), 'utf8')) as Record<string, unknown>;
const allRecords = [...npmRecords, ...pypiRecords, goRecord];

describe.each(dialects)('/api/security (%s)', (dialect) => {
  let t: TestApp;
  let member: string;

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    member = (await t.createUser('mia', 'member')).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  const call = (method: 'GET' | 'POST', url: string, token: string | undefined, payload?: unknown) =>
    t.app.server.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const ids = async (url: string) => ((await call('GET', url, member)).json() as { items: { id: string }[] }).items.map((i) => i.id);

  it('refuses an import from a member (403) and from nobody (401), and stores nothing', async () => {
    const forbidden = await call('POST', '/api/security/advisories', member, allRecords);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: { name: 'NotAllowedError', message: 'import advisories needs the platform-admin role' }, response: { statusCode: 403 } });
    expect((await call('POST', '/api/security/advisories', undefined, allRecords)).statusCode).toBe(401);
    expect(await ids('/api/security/advisories')).toEqual([]);
  });

  it('rejects a batch with one invalid record as a whole, naming the record and field', async () => {
    const bad = { ...npmRecords[0], id: 'GHSA-bad1-bad1-bad1', modified: 'last tuesday' };
    const res = await call('POST', '/api/security/advisories', t.adminToken, [...npmRecords, bad]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { name: 'InputError', message: expect.stringContaining(`body[${npmRecords.length}] (GHSA-bad1-bad1-bad1): modified: expected an RFC 3339 time`) } });
    expect(await ids('/api/security/advisories')).toEqual([]);
    expect((await call('POST', '/api/security/advisories', t.adminToken, { advisories: [] })).statusCode).toBe(400);
  });

  it('imports OSV records, and a second import of the same records changes nothing', async () => {
    const first = await call('POST', '/api/security/advisories', t.adminToken, allRecords);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ imported: allRecords.length, updated: 0, skipped: 0 });
    const again = await call('POST', '/api/security/advisories', t.adminToken, allRecords);
    expect(again.json()).toEqual({ imported: 0, updated: 0, skipped: allRecords.length });
    expect((await ids('/api/security/advisories')).length).toBe(allRecords.length);
  });

  it('replaces an advisory only with a newer modified time', async () => {
    const lodash = npmRecords.find((r) => r.id === 'GHSA-35jh-r3h4-6jhm')!;
    const older = { ...lodash, modified: '2020-01-01T00:00:00Z', summary: 'older text' };
    expect((await call('POST', '/api/security/advisories', t.adminToken, [older])).json()).toEqual({ imported: 0, updated: 0, skipped: 1 });
    const newer = { ...lodash, modified: '2025-06-01T00:00:00+02:00', summary: 'Command Injection in lodash (revised)' };
    expect((await call('POST', '/api/security/advisories', t.adminToken, [newer])).json()).toEqual({ imported: 0, updated: 1, skipped: 0 });
    const stored = await call('GET', '/api/security/advisories/GHSA-35jh-r3h4-6jhm', member);
    expect(stored.json()).toMatchObject({ id: 'GHSA-35jh-r3h4-6jhm', summary: 'Command Injection in lodash (revised)', aliases: ['CVE-2021-23337'] });
    const events = await call('GET', '/api/events?kind=security.advisories.imported', t.adminToken);
    expect(events.body).toContain('security.advisories.imported');
  });

  it('lists advisories of a package, and of one version of it', async () => {
    expect(await ids('/api/security/advisories?package=pkg:npm/lodash')).toEqual(['GHSA-35jh-r3h4-6jhm', 'GHSA-jf85-cpcp-j695', 'GHSA-p6mc-m468-83gw']);
    expect(await ids('/api/security/advisories?package=pkg:npm/lodash@4.17.20')).toEqual(['GHSA-35jh-r3h4-6jhm']);
    expect(await ids('/api/security/advisories?package=pkg:pypi/Jinja2@3.1.2')).toEqual(['GHSA-h5c8-rqwp-cp95']);
    const page = (await call('GET', '/api/security/advisories?limit=2', member)).json() as { items: { id: string }[]; nextCursor: string };
    expect(page.items.map((i) => i.id)).toEqual(['GHSA-35jh-r3h4-6jhm', 'GHSA-h5c8-rqwp-cp95']);
    expect(await ids(`/api/security/advisories?limit=2&after=${page.nextCursor}`)).toEqual(['GHSA-hrpp-h998-j3pp', 'GHSA-j8r2-6x86-q33q']);
    const bad = await call('GET', '/api/security/advisories?package=lodash', member);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { name: 'InputError', message: expect.stringContaining('is not a package URL') } });
    expect((await call('GET', '/api/security/advisories/GHSA-none-none-none', member)).statusCode).toBe(404);
  });

  it('audits purls for any signed-in user, with severity, aliases and fixed versions', async () => {
    const res = await call('POST', '/api/security/audit', member, { packages: ['pkg:npm/qs@6.7.0', 'pkg:npm/minimist@0.0.8', 'pkg:npm/minimist@1.2.6', 'pkg:golang/golang.org/x/text@v0.3.7', 'pkg:pypi/requests@2.28.0'] });
    expect(res.statusCode).toBe(200);
    const matches = (res.json() as { matches: { purl: string; advisoryId: string; severity: string; fixed: string[]; aliases: string[] }[] }).matches;
    expect(matches.map((m) => `${m.purl} ${m.advisoryId} ${m.severity} ${m.fixed.join(',')}`).sort()).toEqual([
      'pkg:golang/golang.org/x/text@v0.3.7 GO-2022-1059 high 0.3.8',
      'pkg:npm/minimist@0.0.8 GHSA-vh95-rmgr-6w4m medium 0.2.1,1.2.3',
      'pkg:npm/minimist@0.0.8 GHSA-xvch-5gv4-984h critical 0.2.4,1.2.6',
      'pkg:npm/qs@6.7.0 GHSA-hrpp-h998-j3pp high 6.7.3,6.8.3,6.9.7,6.10.3',
      'pkg:pypi/requests@2.28.0 GHSA-j8r2-6x86-q33q medium 2.31.0',
    ]);
    expect(matches.find((m) => m.advisoryId === 'GO-2022-1059')!.aliases).toEqual(['CVE-2022-32149', 'GHSA-69ch-w2m2-3vjp']);
  });

  it('answers bad audit input with 400s that say what to fix', async () => {
    const noVersion = await call('POST', '/api/security/audit', member, { packages: ['pkg:npm/qs'] });
    expect(noVersion.json()).toMatchObject({ error: { name: 'InputError', message: 'pkg:npm/qs: a purl to audit needs a version (…@1.2.3)' } });
    expect((await call('POST', '/api/security/audit', member, { packages: ['pkg:npm/qs@1.0.0'], extra: true })).statusCode).toBe(400);
    expect((await call('POST', '/api/security/audit', member, { packages: 'pkg:npm/qs@1.0.0' })).statusCode).toBe(400);
    expect((await call('POST', '/api/security/audit', undefined, { packages: [] })).statusCode).toBe(401);
  });

  it('runs the dependency-audit pipeline step: logs findings, hands them to the ci-gate, applies VEX, fails on an unreadable lockfile', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'plinth-audit-'));
    try {
      cpSync(join(lockfiles, 'npm-app'), workspace, { recursive: true });
      const lines: string[] = [];
      const ctx: PlatformStepContext = {
        run: { id: 'r1', repository: 'demo/app', ownerRef: 'group:default/demo', ref: 'refs/heads/main', sha: 'a'.repeat(40), isDefaultBranch: true, attempt: 1, trigger: 'push', status: 'running', definitionVersion: '1', jobId: null, createdBy: 'user:default/admin', createdAt: '2026-01-01T00:00:00.000Z', startedAt: null, finishedAt: null },
        step: 'dependency-audit', workspace, outputs: {}, inputs: {}, env: {}, signal: new AbortController().signal, log: (line) => lines.push(line),
      };
      const audited = await t.app.security.dependencyAuditStep(ctx);
      expect(audited).toMatchObject({ status: 'passed', message: '1 critical, 2 high, 1 medium, 0 low, 1 suppressed by VEX; the ci-gate step judges them' });
      // The gate sees each unsuppressed finding once, normalized; the VEX-suppressed one is left out.
      const outputs = audited.outputs as { scanner: string; complete: boolean; findings: { rule: string; severity: string; package: { name: string; fixVersion: string | null } }[] };
      expect(outputs).toMatchObject({ scanner: 'dependency', complete: true });
      expect(outputs.findings.map((f) => f.severity)).toEqual(['critical', 'high', 'high', 'medium']);
      expect(outputs.findings[0]).toMatchObject({ rule: 'GHSA-xvch-5gv4-984h', package: { name: 'minimist', fixVersion: '0.2.4' } });
      expect(outputs.findings.some((f) => f.rule === 'GHSA-35jh-r3h4-6jhm')).toBe(false);
      expect(lines).toContain('audited 10 packages from 1 lockfile(s): package-lock.json');
      expect(lines.find((l) => l.startsWith('CRITICAL GHSA-xvch-5gv4-984h'))).toMatch(/minimist@0\.0\.8 \(dev\) package-lock.json:\d+ fixed in 0\.2\.4, 1\.2\.6; demo-app > mkdirp > minimist/);
      expect(lines.find((l) => l.includes('GHSA-35jh-r3h4-6jhm'))).toContain('[suppressed by VEX: not_affected, vulnerable_code_not_in_execute_path — demo-app never calls _.template]');
      // Upgrading the one critical package leaves the other findings, still logged and handed on.
      const lock = JSON.parse(readFileSync(join(workspace, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
      lock.packages['node_modules/mkdirp/node_modules/minimist']!.version = '0.2.4';
      writeFileSync(join(workspace, 'package-lock.json'), JSON.stringify(lock, null, 2));
      expect(await t.app.security.dependencyAuditStep(ctx)).toMatchObject({ status: 'passed', message: '0 critical, 2 high, 0 medium, 0 low, 1 suppressed by VEX; the ci-gate step judges them' });
      writeFileSync(join(workspace, 'package-lock.json'), '{"lockfileVersion": 3, "packages": ');
      expect(await t.app.security.dependencyAuditStep(ctx)).toMatchObject({ status: 'failed', message: expect.stringContaining('package-lock.json: not valid JSON') });
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
