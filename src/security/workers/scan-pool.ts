import { createWorkerPool, WorkerUnavailableError } from '../../kernel/index.js';
import { runScanJob, type ScanJob, type ScanJobResult } from './scan-job.js';

/**
 * Scans of a pipeline's workspace on worker threads; idle workers exit after a minute, giving the
 * compiler's memory back. A scan runs on this thread when no worker can.
 */
const pool = createWorkerPool<ScanJob, Awaited<ReturnType<typeof runScanJob>>>({ entry: new URL('./scan-worker.js', import.meta.url), name: 'scan', idleMs: 60_000 });

/** Scans a workspace off the event loop; the same result as `runScanJob` on this thread. */
export async function scanOffThread<J extends ScanJob>(job: J, signal: AbortSignal): Promise<ScanJobResult<J>> {
  signal.throwIfAborted();
  if (pool.usable) {
    try {
      return (await pool.run(job, signal)) as ScanJobResult<J>;
    } catch (err) {
      // The scan's own failure is the step's; a worker that could not run falls back to this thread.
      if (!(err instanceof WorkerUnavailableError)) throw err;
    }
  }
  return (await runScanJob(job, signal)) as ScanJobResult<J>;
}
