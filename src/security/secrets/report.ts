import type { Finding, Rule, ScanResult, Severity } from './model.js';

/** The `--json` report: `findings` (each with file relative to the scanned path, line, rule, severity) and what was skipped. */
export function jsonReport(result: ScanResult) {
  return {
    findings: result.findings,
    summary: {
      findings: result.findings.length,
      suppressed: result.suppressed,
      filesScanned: result.filesScanned,
      bytesScanned: result.bytesScanned,
      ...(result.commitsScanned !== undefined ? { commitsScanned: result.commitsScanned } : {}),
    },
    skipped: result.skipped,
    ruleProblems: result.problems,
  };
}

const sarifLevel = (s: Severity) => (s === 'critical' || s === 'high' ? 'error' : s === 'medium' ? 'warning' : 'note');
/** GitHub code scanning's numeric severity scale for security results. */
const securitySeverity: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: {
    tool: { driver: { name: string; version: string; rules: SarifRule[] } };
    results: SarifResult[];
    originalUriBaseIds: Record<string, { description: { text: string } }>;
  }[];
}
interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  defaultConfiguration: { level: 'error' | 'warning' | 'note' };
  properties: { tags: string[]; 'security-severity': string };
}
interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: 'error' | 'warning' | 'note';
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId: string }; region: { startLine: number; startColumn: number; endLine: number; endColumn: number; snippet: { text: string } } } }[];
  partialFingerprints: Record<string, string>;
  properties?: Record<string, string>;
}

const toPascal = (id: string) => id.split(/[^a-zA-Z0-9]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
const encodeUri = (file: string) => file.split('/').map(encodeURIComponent).join('/');

/** SARIF 2.1.0 with one run; locations are relative to %SRCROOT% (the scanned folder). */
export function sarifReport(findings: readonly Finding[], rules: readonly Rule[], toolVersion: string): SarifLog {
  const byId = new Map<string, SarifRule>();
  const describe = (id: string, description: string, severity: Severity, tags: string[]) => {
    if (!byId.has(id)) byId.set(id, { id, name: toPascal(id), shortDescription: { text: description }, defaultConfiguration: { level: sarifLevel(severity) }, properties: { tags: ['security', 'secret', ...tags], 'security-severity': securitySeverity[severity] } });
  };
  for (const r of rules) describe(r.id, r.description, r.severity, r.tags);
  for (const f of findings) describe(f.rule, f.description, f.severity, f.tags);
  const ruleList = [...byId.values()];
  const index = new Map(ruleList.map((r, n) => [r.id, n]));
  const results: SarifResult[] = findings.map((f) => ({
    ruleId: f.rule,
    ruleIndex: index.get(f.rule)!,
    level: sarifLevel(f.severity),
    message: { text: `${f.description}: ${f.secret}${f.commit ? ` (added in ${f.commit.slice(0, 12)})` : ''}` },
    locations: [{ physicalLocation: { artifactLocation: { uri: encodeUri(f.file), uriBaseId: '%SRCROOT%' }, region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn + 1, snippet: { text: f.secret } } } }],
    partialFingerprints: { 'plinthSecret/v1': f.fingerprint, ...(f.commit ? { commitSha: f.commit } : {}) },
    ...(f.commit ? { properties: { commit: f.commit, author: f.author ?? '', date: f.date ?? '' } } : {}),
  }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'plinth-secrets', version: toolVersion, rules: ruleList } }, results, originalUriBaseIds: { '%SRCROOT%': { description: { text: 'the scanned folder' } } } }],
  };
}

/** One line per finding for people: `file:line:col  severity  rule  redacted-secret`. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}  ${f.severity}  ${f.rule}  ${f.secret}${f.commit ? `  commit ${f.commit.slice(0, 12)} by ${f.author ?? '?'} on ${f.date ?? '?'}` : ''}`;
}
