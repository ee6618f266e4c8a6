import type { PlatformStepHandler } from '../../pipelines/index.js';
import { toScanOutputs } from '../findings/model.js';
import { fromSecret } from '../findings/normalize.js';
import { formatFinding } from './report.js';
import { scanOffThread } from '../workers/scan-pool.js';

/** The most findings written to a step log; the count is always reported. */
const MAX_LOGGED_FINDINGS = 200;

/**
 * The standard pipeline's `security.secrets-scan` step: scans the checked-out workspace with the
 * repository's `.gitleaks.toml` (or the built-in rules), drops findings in its baseline, and hands the
 * rest to the `ci-gate` step, whose policy fails the run on a critical one (a live credential). Only
 * redacted secrets reach the log and the outputs.
 */
export const secretsScanStep: PlatformStepHandler = async (ctx) => {
  const result = await scanOffThread({ kind: 'secrets', path: ctx.workspace }, ctx.signal);
  ctx.log(`secrets scan (${result.configSource}): ${result.filesScanned} files, ${result.bytesScanned} bytes; ${result.findings.length} finding(s), ${result.suppressed} accepted by the baseline`);
  for (const p of result.problems) ctx.log(`rule ${p.ruleId} not loaded: ${p.reason}`);
  for (const s of result.skipped.slice(0, 50)) ctx.log(`skipped ${s.file}: ${s.reason}`);
  for (const f of result.findings.slice(0, MAX_LOGGED_FINDINGS)) ctx.log(formatFinding(f));
  if (result.findings.length > MAX_LOGGED_FINDINGS) ctx.log(`… and ${result.findings.length - MAX_LOGGED_FINDINGS} more`);
  const outputs = { ...toScanOutputs('secrets', result.findings.map(fromSecret)), total: result.findings.length, suppressed: result.suppressed, filesScanned: result.filesScanned };
  if (result.findings.length === 0) return { status: 'passed', message: 'no secrets found', outputs };
  const rules = [...new Set(result.findings.map((f) => f.rule))].join(', ');
  return { status: 'passed', message: `${result.findings.length} secret(s) found (${rules}); the ci-gate step judges them — remove and rotate them, or accept them in .plinth-secrets-baseline.json`, outputs };
};
