/**
 * Worker thread entry: parses and validates catalog files off the main thread, so the CPU-bound
 * half of ingestion (YAML, @backstage/catalog-model validation, relations, hashing) overlaps with
 * the store writes on the main thread (issue #3: 100,000 entities in under 30 s).
 */
import { parentPort } from 'node:worker_threads';
import { parseAndProcess, type FileJob } from './model/process.js';

export interface ParseRequest {
  id: number;
  job: FileJob;
}

parentPort!.on('message', (request: ParseRequest) => {
  parseAndProcess(request.job).then(
    (docs) => parentPort!.postMessage({ id: request.id, docs }),
    (err: unknown) => parentPort!.postMessage({ id: request.id, error: (err as Error).message ?? String(err) }),
  );
});
