import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authorize, InputError, NotFoundError, toIso, principalRef, type Kernel, type Principal } from '../kernel/index.js';
import type { PlatformStepHandler } from '../pipelines/index.js';
import { matchPackages, parseOsvRecords, type OsvAdvisory } from './advisories/osv.js';
import { auditablePackages, findingsOf, formatFinding, summarize } from './audit.js';
import { toScanOutputs } from './findings/model.js';
import { fromDependency } from './findings/normalize.js';
import { canonicalName, parsePurl } from './deps/purl.js';
import { resolveProject } from './deps/resolve.js';
import { securityPermissions, type AdvisorySummary, type DependencyTree, type Ecosystem, type Finding, type ImportResult, type PackageMatch, type SecurityEventPayloads } from './model.js';
import * as q from './store.js';
import { parseVex, VEX_FILE, type VexDocument } from './vex.js';

/** The security layer: the advisory store, dependency audits against it, and the pipeline's audit step. */
export interface Security {
  /** Imports OSV records (platform admins): new ones are inserted, newer `modified` replaces, the rest is skipped. All or nothing. */
  importAdvisories(principal: Principal, records: readonly unknown[]): Promise<ImportResult>;
  listAdvisories(principal: Principal, query: { package?: string; limit: number; after?: string }): Promise<{ items: AdvisorySummary[]; nextCursor: string | null }>;
  getAdvisory(principal: Principal, id: string): Promise<OsvAdvisory>;
  /** The advisories affecting each of these purls (name and version). */
  auditPackages(principal: Principal, purls: readonly string[]): Promise<PackageMatch[]>;
  /** Findings for resolved trees, placed in their lockfiles, VEX applied. */
  auditTrees(principal: Principal, trees: readonly DependencyTree[], vex?: { doc: VexDocument; source: string }): Promise<Finding[]>;
  /** The `security.dependency-audit` pipeline step: audits the workspace's lockfiles and hands the findings to the `ci-gate` step; fails only on an unreadable lockfile. */
  dependencyAuditStep: PlatformStepHandler;
}

const SYSTEM: Principal = { kind: 'system', name: 'security' };

/** Keeps, per id, the record with the latest `modified` (a bundle may carry one advisory twice). */
function latestById(records: readonly OsvAdvisory[]): OsvAdvisory[] {
  const byId = new Map<string, OsvAdvisory>();
  for (const r of records) {
    const seen = byId.get(r.id);
    if (seen === undefined || Date.parse(r.modified) > Date.parse(seen.modified)) byId.set(r.id, r);
  }
  return [...byId.values()];
}

export function createSecurity(kernel: Kernel): Security {
  const { store, ledger, clock } = kernel;

  async function matchesFor(packages: readonly { purl: string; ecosystem: Ecosystem; name: string; version: string }[]): Promise<PackageMatch[]> {
    const advisories = await q.advisoriesForPackages(store, packages);
    const byPackage = new Map<string, OsvAdvisory[]>();
    for (const a of advisories) {
      for (const p of q.advisoryPackages(a)) {
        const key = `${p.ecosystem}\u0000${p.name}`;
        byPackage.set(key, [...(byPackage.get(key) ?? []), a]);
      }
    }
    return matchPackages(packages, (ecosystem, name) => byPackage.get(`${ecosystem}\u0000${canonicalName(ecosystem, name)}`) ?? []);
  }

  const security: Security = {
    async importAdvisories(principal, records) {
      authorize(principal, securityPermissions.importAdvisories);
      const advisories = latestById(parseOsvRecords(records, 'body'));
      const result = await store.transaction(async (tx) => {
        const stored = await q.modifiedTimes(tx, advisories.map((a) => a.id));
        const changed: OsvAdvisory[] = [];
        const counts = { imported: 0, updated: 0, skipped: 0 };
        for (const a of advisories) {
          const before = stored.get(a.id);
          if (before === undefined) counts.imported++;
          else if (Date.parse(a.modified) > Date.parse(before)) counts.updated++;
          else {
            counts.skipped++;
            continue;
          }
          changed.push(a);
        }
        await q.upsertAdvisories(tx, changed, toIso(clock.now()));
        if (changed.length > 0) {
          const payload: SecurityEventPayloads['security.advisories.imported'] = { ...counts, total: advisories.length };
          await ledger.append({ kind: 'security.advisories.imported', subjects: ['security:advisories'], actor: principalRef(principal), payload: { ...payload } }, { db: tx });
        }
        return counts;
      });
      return result;
    },

    async listAdvisories(principal, query) {
      authorize(principal, securityPermissions.readAdvisories);
      const pkg = query.package !== undefined ? parsePurl(query.package) : undefined;
      // With a version, the page is filtered to the advisories that affect it, so it can come out short.
      let items = await q.selectAdvisories(store, { ecosystem: pkg?.ecosystem, name: pkg?.name, after: query.after, limit: query.limit });
      const nextCursor = items.length === query.limit ? items[items.length - 1]!.id : null;
      if (pkg?.version !== undefined) {
        const matches = await matchesFor([{ purl: query.package!, ecosystem: pkg.ecosystem, name: pkg.name, version: pkg.version }]);
        const ids = new Set(matches.map((m) => m.advisoryId));
        items = items.filter((i) => ids.has(i.id));
      }
      return { items, nextCursor };
    },

    async getAdvisory(principal, id) {
      authorize(principal, securityPermissions.readAdvisories);
      const advisory = await q.findAdvisory(store, id);
      if (advisory === undefined) throw new NotFoundError(`no advisory ${id}; import it with plinth advisories import`);
      return advisory;
    },

    async auditPackages(principal, purls) {
      authorize(principal, securityPermissions.audit);
      const packages = [...new Set(purls)].map((purl) => {
        const p = parsePurl(purl);
        if (p.version === undefined) throw new InputError(`${purl}: a purl to audit needs a version (…@1.2.3)`);
        return { purl, ecosystem: p.ecosystem, name: p.name, version: p.version };
      });
      return matchesFor(packages);
    },

    async auditTrees(principal, trees, vex) {
      const matches = await security.auditPackages(principal, auditablePackages(trees));
      return findingsOf(trees, matches, vex);
    },

    async dependencyAuditStep(ctx) {
      const project = await resolveProject(ctx.workspace);
      for (const e of project.errors) ctx.log(`cannot audit ${e.message}`);
      for (const w of project.trees.flatMap((t) => t.warnings.map((m) => `${t.file}: ${m}`))) ctx.log(`warning: ${w}`);
      const vexText = await readFile(join(ctx.workspace, VEX_FILE), 'utf8').catch(() => undefined);
      const vex = vexText === undefined ? undefined : { doc: parseVex(vexText, VEX_FILE), source: VEX_FILE };
      const findings = await security.auditTrees(SYSTEM, project.trees, vex);
      const packages = project.trees.reduce((n, t) => n + t.packages.length, 0);
      ctx.log(`audited ${packages} packages from ${project.trees.length} lockfile(s): ${project.trees.map((t) => t.file).join(', ') || 'none found'}`);
      for (const f of findings) ctx.log(formatFinding(f));
      const summary = summarize(findings);
      const counts = `${summary.bySeverity.critical} critical, ${summary.bySeverity.high} high, ${summary.bySeverity.medium} medium, ${summary.bySeverity.low} low, ${summary.suppressed} suppressed by VEX`;
      const tracked = findings.map(fromDependency).filter((f) => f !== undefined);
      const outputs = { ...toScanOutputs('dependency', tracked), ...summary, lockfiles: project.trees.map((t) => t.file), packages };
      // An unreadable lockfile is an error of the scan, not a finding: the step fails (and the gate then
      // leaves this scanner's tracked findings as they were, since it did not see a complete result).
      if (project.errors.length > 0) return { status: 'failed', message: `${project.errors.length} lockfile(s) could not be read: ${project.errors[0]!.message}`, outputs };
      return { status: 'passed', message: findings.length === 0 ? `no known vulnerabilities in ${packages} packages` : `${counts}; the ci-gate step judges them`, outputs };
    },
  };
  return security;
}
