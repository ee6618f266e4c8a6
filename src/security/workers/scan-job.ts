import { scanSast, type SastResult } from '../sast/scan.js';
import { scanSecrets } from '../secrets/scan.js';
import type { ScanResult } from '../secrets/model.js';

export type ScanJob = { kind: 'sast'; path: string } | { kind: 'secrets'; path: string };
export type SecretsStepResult = ScanResult & { configSource: string };
export type ScanJobResult<J extends ScanJob> = J extends { kind: 'sast' } ? SastResult : SecretsStepResult;

/** Runs one scan of a workspace (on a scan worker, or here when none can run); only plain data comes back. */
export async function runScanJob(job: ScanJob, signal: AbortSignal): Promise<SastResult | SecretsStepResult> {
  if (job.kind === 'sast') return scanSast(job.path, { signal });
  // The compiled rules stay behind: the step needs the findings, not the rules.
  const { rules: _rules, ...result } = await scanSecrets({ path: job.path, signal });
  return result;
}
