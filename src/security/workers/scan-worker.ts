/**
 * Worker thread entry: the pipeline's scans of a workspace (SAST with the TypeScript compiler, secrets
 * with the gitleaks rules) run here, off the server's event loop. Loading the compiler alone held the
 * loop ~600 ms, and scanning is CPU-bound; with 20 pipelines at once that delayed every streamed log
 * line (issue 5). Requests carry paths, replies plain data.
 */
import { serveWorkerRequests } from '../../kernel/worker-pool.js';
import { runScanJob, type ScanJob } from './scan-job.js';

serveWorkerRequests((job: ScanJob, signal) => runScanJob(job, signal));
