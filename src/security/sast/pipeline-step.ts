import type { PlatformStepHandler } from '../../pipelines/index.js';
import { formatSastFinding, scanSast } from './scan.js';

const MAX_LOGGED_FINDINGS = 200;

/**
 * The standard pipeline's `security.sast-scan` step: fails on critical and high findings (what
 * reaches a sink from request input, code evaluation, disabled TLS checks); medium and low ones are
 * logged and counted. `plinth:allow-sast RULE` on a line accepts it in the code, where review sees it.
 */
export const sastScanStep: PlatformStepHandler = async (ctx) => {
  const result = await scanSast(ctx.workspace, { signal: ctx.signal });
  const blocking = result.findings.filter((f) => f.severity === 'critical' || f.severity === 'high');
  ctx.log(`SAST: ${result.filesScanned} files; ${result.findings.length} finding(s), ${blocking.length} critical or high, ${result.suppressed} allowed in code`);
  for (const s of result.skipped.slice(0, 50)) ctx.log(`skipped ${s.file}: ${s.reason}`);
  for (const f of result.findings.slice(0, MAX_LOGGED_FINDINGS)) ctx.log(formatSastFinding(f));
  if (result.findings.length > MAX_LOGGED_FINDINGS) ctx.log(`… and ${result.findings.length - MAX_LOGGED_FINDINGS} more`);
  const bySeverity: Record<string, number> = {};
  for (const f of result.findings) bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
  const outputs = { findings: result.findings.length, bySeverity, filesScanned: result.filesScanned };
  if (blocking.length === 0) return { status: 'passed', outputs };
  const rules = [...new Set(blocking.map((f) => f.rule))].join(', ');
  return { status: 'failed', message: `${blocking.length} critical or high SAST finding(s) (${rules}); fix them, or accept one with a plinth:allow-sast comment`, outputs };
};
