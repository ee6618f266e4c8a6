import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseAndProcess, type FileJob, type ParsedFileDocument } from './model/process.js';
import type { ParseRequest } from './parse-worker.js';

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

type Reply = { id: number; docs: ParsedFileDocument[] } | { id: number; error: string };

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (docs: ParsedFileDocument[]) => void; reject: (err: Error) => void }>;
  idleTimer?: NodeJS.Timeout;
}

/**
 * The compiled worker is `parse-worker.js` beside this file. Running from TypeScript sources (vitest),
 * it is `parse-worker.ts`, loaded through tsx's loader (a dev dependency) registered in the worker first.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./parse-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
}

export function createParsePool(options: ParsePoolOptions = {}): ParsePool {
  const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
  const minWorkerBytes = options.minWorkerBytes ?? 32 * 1024;
  const idleMs = options.idleMs ?? 10_000;
  const slots: (Slot | undefined)[] = new Array<Slot | undefined>(threads).fill(undefined);
  let nextId = 1;
  let turn = 0;
  let broken = false;

  function stop(index: number, slot: Slot, err: Error) {
    if (slots[index] === slot) slots[index] = undefined;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  }

  function start(index: number): Slot {
    const worker = startWorker();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (reply: Reply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve(reply.docs);
      if (slot.pending.size === 0) idle(index, slot);
    });
    worker.on('error', (err) => stop(index, slot, err));
    worker.on('exit', (code) => stop(index, slot, new Error(`catalog parse worker exited with code ${code}`)));
    slots[index] = slot;
    return slot;
  }

  // A worker with nothing to do must not keep the process alive, and goes away after a while.
  function idle(index: number, slot: Slot) {
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => {
      if (slot.pending.size === 0) {
        stop(index, slot, new Error('catalog parse worker stopped'));
        void slot.worker.terminate();
      }
    }, idleMs);
    slot.idleTimer.unref();
  }

  function send(job: FileJob): Promise<ParsedFileDocument[]> {
    const index = turn++ % threads;
    const slot = slots[index] ?? start(index);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.worker.ref();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, job } satisfies ParseRequest);
    });
  }

  return {
    async parse(job) {
      if (broken || job.text.length < minWorkerBytes) return parseAndProcess(job);
      try {
        return await send(job);
      } catch {
        // A worker that cannot start or crashed: this file, and every later one, is parsed here.
        broken = true;
        return parseAndProcess(job);
      }
    },
    async close() {
      const running = slots.filter((s): s is Slot => s !== undefined);
      slots.fill(undefined);
      await Promise.all(running.map((s) => (s.idleTimer && clearTimeout(s.idleTimer), s.worker.terminate())));
    },
  };
}
