import { pathFinder } from './deps/resolve.js';
import { compareSeverity, severityAtLeast, type DependencyTree, type Finding, type PackageMatch, type Severity } from './model.js';
import { suppresses, vexVerdictFor, type VexDocument } from './vex.js';

/** The distinct packages of some trees, as the audit endpoint takes them. */
export function auditablePackages(trees: readonly DependencyTree[]): string[] {
  return [...new Set(trees.flatMap((t) => t.packages.map((p) => p.purl)))];
}

/** Places matches (by purl) in each tree: lockfile line, dependency paths, dev or prod, VEX verdict. */
export function findingsOf(trees: readonly DependencyTree[], matches: readonly PackageMatch[], vex?: { doc: VexDocument; source: string }): Finding[] {
  const byPurl = new Map<string, PackageMatch[]>();
  // A purl installed at several paths is matched once per path by a local audit: keep one match per advisory.
  for (const m of matches) {
    const list = byPurl.get(m.purl) ?? [];
    if (!list.some((x) => x.advisoryId === m.advisoryId)) byPurl.set(m.purl, [...list, m]);
  }
  const findings: Finding[] = [];
  for (const tree of trees) {
    const pathsTo = pathFinder(tree);
    for (const p of tree.packages) {
      for (const m of byPurl.get(p.purl) ?? []) {
        const verdict = vex ? vexVerdictFor(vex.doc, m, vex.source) : null;
        findings.push({
          ...m,
          file: tree.file,
          line: p.line,
          rule: m.advisoryId,
          package: p.name,
          paths: pathsTo(p.key),
          dev: p.dev,
          suppressed: suppresses(verdict),
          vex: verdict,
        });
      }
    }
  }
  return findings.sort((a, b) => compareSeverity(a.severity, b.severity) || a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
}

export interface AuditSummary {
  total: number;
  suppressed: number;
  bySeverity: Record<Severity, number>;
}

/** Counts of the findings that are not suppressed, by severity. */
export function summarize(findings: readonly Finding[]): AuditSummary {
  const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const f of findings) if (!f.suppressed) bySeverity[f.severity]++;
  return { total: findings.filter((f) => !f.suppressed).length, suppressed: findings.filter((f) => f.suppressed).length, bySeverity };
}

/** Whether any finding not suppressed by VEX is at or above `floor`. */
export const failsAt = (findings: readonly Finding[], floor: Severity): boolean => findings.some((f) => !f.suppressed && severityAtLeast(f.severity, floor));

/** One line per finding, for logs and the CLI's text output. */
export function formatFinding(f: Finding): string {
  const fix = f.fixed.length > 0 ? `fixed in ${f.fixed.join(', ')}` : 'no fix';
  const vex = f.suppressed ? ` [suppressed by VEX: ${f.vex?.status}${f.vex?.justification ? `, ${f.vex.justification}` : ''}${f.vex?.statement ? ` — ${f.vex.statement}` : ''}]` : '';
  return `${f.severity.toUpperCase()} ${f.rule} ${f.package}@${f.version} (${f.dev ? 'dev' : 'prod'}) ${f.file}:${f.line} ${fix}; ${f.paths[0] ?? f.package}: ${f.summary}${vex}`;
}

const sarifLevel: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', unknown: 'warning' };

/** SARIF 2.1.0 with one rule per advisory; suppressed findings carry an external suppression with the VEX justification. */
export function toSarif(findings: readonly Finding[], toolVersion: string): Record<string, unknown> {
  const rules = new Map<string, Record<string, unknown>>();
  for (const f of findings) {
    if (rules.has(f.rule)) continue;
    rules.set(f.rule, {
      id: f.rule,
      shortDescription: { text: f.summary || f.rule },
      helpUri: `https://osv.dev/vulnerability/${encodeURIComponent(f.rule)}`,
      properties: { tags: ['security', 'dependency'], ...(f.score !== null ? { 'security-severity': f.score.toFixed(1) } : {}), aliases: f.aliases },
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'plinth-deps', version: toolVersion, informationUri: 'https://osv.dev', rules: [...rules.values()] } },
        results: findings.map((f) => ({
          ruleId: f.rule,
          level: sarifLevel[f.severity],
          message: { text: `${f.package}@${f.version} is affected by ${f.rule}${f.aliases.length > 0 ? ` (${f.aliases.join(', ')})` : ''}: ${f.summary}. ${f.fixed.length > 0 ? `Upgrade to ${f.fixed[0]}.` : 'No fixed version is known.'} Path: ${f.paths[0] ?? f.package}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: f.file }, region: { startLine: f.line } } }],
          partialFingerprints: { 'plinthDependency/v1': `${f.purl}|${f.rule}` },
          properties: { severity: f.severity, purl: f.purl, fixed: f.fixed, paths: f.paths, dev: f.dev },
          ...(f.suppressed ? { suppressions: [{ kind: 'external', status: 'accepted', justification: [f.vex?.justification, f.vex?.statement].filter(Boolean).join(': ') || f.vex?.status }] } : {}),
        })),
      },
    ],
  };
}
