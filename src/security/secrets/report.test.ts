import { describe, expect, it } from 'vitest';
import { defaultSecretsConfig } from './config.js';
import { detectSecrets } from './detect.js';
import { jsonReport, sarifReport } from './report.js';

const ghp = 'ghp_' + 'Zr4Kq8Wm2Xv6Bn1Lp5Tj9Hc3Gd7Fs0Ay2Qex';
const findings = [
  ...detectSecrets(defaultSecretsConfig(), `\n  token = "${ghp}"\n`, { file: 'src/my app/a.ts' }),
  ...detectSecrets(defaultSecretsConfig(), `password = "q8Wm2Xv6Bn1Lp5Tj9H"\n`, { file: 'b.py', commit: 'a'.repeat(40), author: 'Dana', email: 'd@x', date: '2026-11-26T10:00:00Z' }),
];

// No SARIF 2.1.0 JSON schema ships in node_modules here, so the test asserts the fields the
// schema (sarif-schema-2.1.0.json) requires and the ones code-scanning consumers read.
describe('sarifReport', () => {
  const log = sarifReport(findings, defaultSecretsConfig().rules, '0.1.0');

  it('has the required top-level, run, tool and driver fields', () => {
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0]!.tool.driver.name).toBe('plinth-secrets');
    for (const rule of log.runs[0]!.tool.driver.rules) {
      expect(rule.id).toMatch(/^[a-z0-9-]+$/);
      expect(['error', 'warning', 'note']).toContain(rule.defaultConfiguration.level);
      expect(Number(rule.properties['security-severity'])).toBeGreaterThan(0);
    }
  });

  it('gives each result a message, a rule index that points at its rule, and a 1-based region with a redacted snippet', () => {
    const { rules } = log.runs[0]!.tool.driver;
    const results = log.runs[0]!.results;
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.message.text.length).toBeGreaterThan(0);
      expect(rules[r.ruleIndex]!.id).toBe(r.ruleId);
      const { artifactLocation, region } = r.locations[0]!.physicalLocation;
      expect(artifactLocation.uriBaseId).toBe('%SRCROOT%');
      expect(region.startLine).toBeGreaterThanOrEqual(1);
      expect(region.startColumn).toBeGreaterThanOrEqual(1);
      expect(region.endColumn).toBeGreaterThan(region.startColumn);
      expect(Object.values(r.partialFingerprints).every((v) => typeof v === 'string')).toBe(true);
    }
    expect(results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('src/my%20app/a.ts');
    expect(results[0]!.locations[0]!.physicalLocation.region).toMatchObject({ startLine: 2, startColumn: 12, endLine: 2, endColumn: 52 });
    expect(results[1]).toMatchObject({ level: 'warning', partialFingerprints: { commitSha: 'a'.repeat(40) } });
  });

  it('never contains a full secret', () => {
    const text = JSON.stringify(log) + JSON.stringify(jsonReport({ findings, skipped: [], suppressed: 0, filesScanned: 2, bytesScanned: 10, problems: [] }));
    expect(text).not.toContain(ghp);
    expect(text).not.toContain('q8Wm2Xv6Bn1Lp5Tj9H');
  });
});
