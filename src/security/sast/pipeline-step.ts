import type { PlatformStepHandler } from '../../pipelines/index.js';
import { toScanOutputs } from '../findings/model.js';
import { fromSast } from '../findings/normalize.js';
import { scanOffThread } from '../workers/scan-pool.js';
import { formatSastFinding } from './scan.js';

const MAX_LOGGED_FINDINGS = 200;

/**
 * The standard pipeline's `security.sast-scan` step: logs and counts every finding and hands them to
 * the `ci-gate` step in its outputs; the gate's policy decides what blocks (critical), what becomes a
 * tracked finding with a due date (high) and what is recorded (medium, low). The step itself fails
 * only when it cannot scan. `plinth:allow-sast RULE` on a line accepts it in the code, where review sees it.
 */
export const sastScanStep: PlatformStepHandler = async (ctx) => {
  const result = await scanOffThread({ kind: 'sast', path: ctx.workspace }, ctx.signal);
  const blocking = result.findings.filter((f) => f.severity === 'critical' || f.severity === 'high');
  ctx.log(`SAST: ${result.filesScanned} files; ${result.findings.length} finding(s), ${blocking.length} critical or high, ${result.suppressed} allowed in code`);
  for (const s of result.skipped.slice(0, 50)) ctx.log(`skipped ${s.file}: ${s.reason}`);
  for (const f of result.findings.slice(0, MAX_LOGGED_FINDINGS)) ctx.log(formatSastFinding(f));
  if (result.findings.length > MAX_LOGGED_FINDINGS) ctx.log(`… and ${result.findings.length - MAX_LOGGED_FINDINGS} more`);
  const bySeverity: Record<string, number> = {};
  for (const f of result.findings) bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
  const outputs = { ...toScanOutputs('sast', result.findings.map(fromSast)), total: result.findings.length, bySeverity, filesScanned: result.filesScanned };
  const counts = Object.entries(bySeverity).map(([s, n]) => `${n} ${s}`).join(', ');
  return { status: 'passed', message: result.findings.length === 0 ? 'no findings' : `${counts}; the ci-gate step judges them`, outputs };
};
