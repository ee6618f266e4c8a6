/**
 * The dependency audit's figures: this repository's own package-lock.json audited against ~5,000
 * generated OSV advisories (60% on packages the lockfile really has, each with introduced/fixed
 * ranges, the rest on other names), as one JSON line.
 *
 * - resolve: parsing the lockfile into the dependency graph.
 * - local: the in-memory audit `plinth scan deps --advisories DIR` runs (index by package, match,
 *   place findings with paths); baseline in the same invocation: every package matched against every
 *   advisory with no index, so the ratio shows what the index buys.
 * - store: the server's path on SQLite: import the advisories (one transaction), then audit the tree
 *   through the service (indexed lookups of the lockfile's packages, OSV records parsed, matched).
 *
 *   node dist/bench/security/deps.js [--advisories 5000] [--repeats 5]
 * or, from another bench module: `await benchDependencyAudit({ advisories: 5000, repeats: 5 })`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createKernel, createLogger, parseConfig } from '../../src/kernel/index.js';
import {
  auditablePackages,
  createSecurity,
  findingsOf,
  indexAdvisories,
  matchPackages,
  parseLockfile,
  parseOsvRecords,
  securityMigrations,
  type OsvAdvisory,
} from '../../src/security/index.js';

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const progress = (message: string) => process.stderr.write(`[bench:security:deps] ${message}\n`);

function repoRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return resolve(here, here.includes(`${'dist'}/bench`) ? '../../..' : '../..');
}

/** Deterministic OSV records: every third on a real package is one its installed version falls into. */
function generateAdvisories(count: number, names: readonly string[]): OsvAdvisory[] {
  const records: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const real = i % 10 < 6;
    const name = real ? names[i % names.length]! : `bench-only-package-${i}`;
    const major = i % 7;
    records.push({
      schema_version: '1.6.0',
      id: `BENCH-${String(i).padStart(5, '0')}`,
      modified: '2026-01-01T00:00:00Z',
      aliases: [`CVE-2099-${10000 + i}`],
      summary: `generated advisory ${i}`,
      severity: [{ type: 'CVSS_V3', score: i % 2 === 0 ? 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' : 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L' }],
      affected: [{
        package: { ecosystem: 'npm', name },
        ranges: [{ type: 'SEMVER', events: i % 3 === 0 ? [{ introduced: '0' }, { fixed: '999.0.0' }] : [{ introduced: `${major}.0.0` }, { fixed: `${major}.5.0` }, { introduced: `${major + 1}.0.0-rc.1` }, { last_affected: `${major + 1}.2.3` }] }],
      }],
    });
  }
  return parseOsvRecords(records, 'generated');
}

function timeIt<T>(repeats: number, fn: () => T): { ms: number; value: T } {
  let value = fn(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < repeats; i++) value = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6 / repeats, value };
}

export async function benchDependencyAudit(options: { advisories: number; repeats: number }): Promise<Record<string, number>> {
  const lockText = readFileSync(join(repoRoot(), 'package-lock.json'), 'utf8');
  const resolveTime = timeIt(options.repeats, () => parseLockfile(lockText, 'package-lock.json'));
  const tree = resolveTime.value;
  const packages = tree.packages.length;
  const advisories = generateAdvisories(options.advisories, [...new Set(tree.packages.map((p) => p.name))]);
  progress(`${packages} packages, ${advisories.length} advisories`);

  const local = timeIt(options.repeats, () => findingsOf([tree], matchPackages(tree.packages, indexAdvisories(advisories))));
  const naive = timeIt(Math.max(1, Math.floor(options.repeats / 2)), () => findingsOf([tree], matchPackages(tree.packages, () => advisories)));
  if (naive.value.length !== local.value.length) throw new Error(`baseline found ${naive.value.length} matches, the index ${local.value.length}`);

  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-deps-'));
  try {
    const config = parseConfig(['--data-dir', dataDir, '--port', '0'], { PLINTH_LOG_LEVEL: 'silent', PLINTH_ADMIN_PASSWORD: 'bench-admin-password' });
    const kernel = await createKernel({ ...config, demo: false, jobs: { ...config.jobs, workerEnabled: false } }, { logger: createLogger({ level: 'silent', pretty: false }), version: 'bench', webDir: join(dataDir, 'no-portal') });
    await kernel.start(securityMigrations);
    try {
      const security = createSecurity(kernel);
      const system = { kind: 'system', name: 'bench' } as const;
      const importStart = process.hrtime.bigint();
      const imported = await security.importAdvisories(system, advisories);
      const importMs = Number(process.hrtime.bigint() - importStart) / 1e6;
      if (imported.imported !== advisories.length) throw new Error(`imported ${imported.imported} of ${advisories.length}`);
      await security.auditTrees(system, [tree]); // warm-up
      const storeStart = process.hrtime.bigint();
      let storeFindings = 0;
      for (let i = 0; i < options.repeats; i++) storeFindings = (await security.auditTrees(system, [tree])).length;
      const storeMs = Number(process.hrtime.bigint() - storeStart) / 1e6 / options.repeats;
      if (storeFindings !== local.value.length) throw new Error(`store path found ${storeFindings} findings, local ${local.value.length}`);
      return {
        packages,
        distinctPurls: auditablePackages([tree]).length,
        advisories: advisories.length,
        findings: local.value.length,
        resolveMs: round(resolveTime.ms),
        localAuditMs: round(local.ms),
        localPackagesPerS: Math.round(packages / (local.ms / 1000)),
        naiveBaselineMs: round(naive.ms),
        localSpeedupVsNaive: round(naive.ms / local.ms, 1),
        storeImportMs: round(importMs),
        storeImportAdvisoriesPerS: Math.round(advisories.length / (importMs / 1000)),
        storeAuditMs: round(storeMs),
        storePackagesPerS: Math.round(packages / (storeMs / 1000)),
      };
    } finally {
      await kernel.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { advisories: { type: 'string', default: '5000' }, repeats: { type: 'string', default: '5' } }, strict: true });
  const figures = await benchDependencyAudit({ advisories: Number(values.advisories), repeats: Number(values.repeats) });
  process.stdout.write(`${JSON.stringify({ bench: 'security:deps', ...figures })}\n`);
}
