/**
 * Worker thread entry: parses and validates catalog files off the main thread, so the CPU-bound
 * half of ingestion (YAML, @backstage/catalog-model validation, relations, hashing) overlaps with
 * the store writes on the main thread (issue #3: 100,000 entities in under 30 s).
 */
import { serveWorkerRequests } from '../kernel/worker-pool.js';
import { parseAndProcess, type FileJob } from './model/process.js';

serveWorkerRequests((job: FileJob) => parseAndProcess(job));
