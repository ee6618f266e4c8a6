/**
 * Worker thread entry: the pipeline's scans of a workspace (SAST with the TypeScript compiler, secrets
 * with the gitleaks rules) run here, off the server's event loop. Loading the compiler alone held the
 * loop ~600 ms, and scanning is CPU-bound; with 20 pipelines at once that delayed every streamed log
 * line (issue 5). Requests carry paths, replies plain data.
 */
import { parentPort } from 'node:worker_threads';
import { runScanJob, type ScanJob, type SecretsStepResult } from './scan-job.js';
import type { SastResult } from '../sast/scan.js';

export type ScanRequest = { type: 'scan'; id: number; job: ScanJob } | { type: 'abort'; id: number };
export type ScanReply = { id: number; result: SastResult | SecretsStepResult } | { id: number; error: string };

const port = parentPort!;
const running = new Map<number, AbortController>();

port.on('message', (request: ScanRequest) => {
  if (request.type === 'abort') {
    running.get(request.id)?.abort(new Error('the step was cancelled'));
    return;
  }
  const abort = new AbortController();
  running.set(request.id, abort);
  runScanJob(request.job, abort.signal)
    .then(
      (result) => port.postMessage({ id: request.id, result } satisfies ScanReply),
      (err: unknown) => port.postMessage({ id: request.id, error: (err as Error).message ?? String(err) } satisfies ScanReply),
    )
    .finally(() => running.delete(request.id));
});
