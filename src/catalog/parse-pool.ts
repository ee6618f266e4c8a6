import { createWorkerPool } from '../kernel/index.js';
import { parseAndProcess, type FileJob, type ParsedFileDocument } from './model/process.js';

/** Parses and processes catalog files on worker threads; falls back to this thread when a worker cannot run. */
export interface ParsePool {
  parse(job: FileJob): Promise<ParsedFileDocument[]>;
  close(): Promise<void>;
}

export interface ParsePoolOptions {
  /** Worker threads; default: one per core beyond the main thread's, at least one, at most four. */
  threads?: number;
  /** Files smaller than this are parsed here: a message round trip costs more than they do. */
  minWorkerBytes?: number;
  /** Idle workers exit after this long, giving their memory back. */
  idleMs?: number;
}

export function createParsePool(options: ParsePoolOptions = {}): ParsePool {
  const minWorkerBytes = options.minWorkerBytes ?? 32 * 1024;
  const pool = createWorkerPool<FileJob, ParsedFileDocument[]>({ entry: new URL('./parse-worker.js', import.meta.url), name: 'catalog parse', threads: options.threads, idleMs: options.idleMs ?? 10_000 });
  let broken = false;
  return {
    async parse(job) {
      if (broken || job.text.length < minWorkerBytes) return parseAndProcess(job);
      try {
        return await pool.run(job);
      } catch {
        // A worker that cannot start or crashed: this file, and every later one, is parsed here.
        broken = true;
        return parseAndProcess(job);
      }
    },
    close: () => pool.close(),
  };
}
