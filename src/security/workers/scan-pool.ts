import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runScanJob, type ScanJob, type ScanJobResult } from './scan-job.js';
import type { ScanReply, ScanRequest } from './scan-worker.js';

/**
 * Scans of a pipeline's workspace on worker threads (one per core beyond the main thread's, at least
 * one, at most four), queued on the least busy one; a scan runs on this thread when no worker can
 * start. Idle workers exit, giving the compiler's memory back. (As src/catalog/parse-pool.ts.)
 */
interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;
  idleTimer?: NodeJS.Timeout;
}

const IDLE_MS = 60_000;
const threads = Math.max(1, Math.min(4, availableParallelism() - 1));
const slots: (Slot | undefined)[] = new Array<Slot | undefined>(threads).fill(undefined);
let nextId = 1;
let broken = false;

/** `scan-worker.js` beside this file; from TypeScript sources (vitest), the .ts through tsx's loader. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./scan-worker.js', import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./scan-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
}

function start(index: number): Slot {
  const slot: Slot = { worker: startWorker(), pending: new Map() };
  const stop = (err: Error) => {
    if (slots[index] === slot) slots[index] = undefined;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  };
  slot.worker.on('message', (reply: ScanReply) => {
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve(reply.result);
    if (slot.pending.size === 0) idle(slot);
  });
  slot.worker.on('error', (err) => {
    broken = true;
    stop(err);
  });
  slot.worker.on('exit', (code) => stop(new WorkerGoneError(`the scan worker exited with code ${code}`)));
  slots[index] = slot;
  return slot;
}

class WorkerGoneError extends Error {}

// An idle worker leaves its slot before it goes, so a scan meanwhile starts a new one.
function idle(slot: Slot) {
  slot.worker.unref();
  slot.idleTimer = setTimeout(() => {
    if (slot.pending.size > 0) return;
    const index = slots.indexOf(slot);
    if (index >= 0) slots[index] = undefined;
    void slot.worker.terminate();
  }, IDLE_MS);
  slot.idleTimer.unref();
}

/** The slot with the fewest scans queued (started when needed). */
function pick(): Slot {
  let best = -1;
  for (let i = 0; i < threads; i++) {
    const slot = slots[i];
    if (!slot) return start(i);
    if (best < 0 || slot.pending.size < slots[best]!.pending.size) best = i;
  }
  return slots[best]!;
}

function send(slot: Slot, job: ScanJob, signal: AbortSignal): Promise<unknown> {
  if (slot.idleTimer) clearTimeout(slot.idleTimer);
  slot.idleTimer = undefined;
  slot.worker.ref();
  const id = nextId++;
  const onAbort = () => slot.worker.postMessage({ type: 'abort', id } satisfies ScanRequest);
  signal.addEventListener('abort', onAbort, { once: true });
  return new Promise<unknown>((resolve, reject) => {
    slot.pending.set(id, { resolve, reject });
    slot.worker.postMessage({ type: 'scan', id, job } satisfies ScanRequest);
  }).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Scans a workspace off the event loop; the same result as `runScanJob` on this thread. */
export async function scanOffThread<J extends ScanJob>(job: J, signal: AbortSignal): Promise<ScanJobResult<J>> {
  signal.throwIfAborted();
  if (!broken) {
    try {
      return (await send(pick(), job, signal)) as ScanJobResult<J>;
    } catch (err) {
      // The scan's own failure is the step's; a worker that could not run falls back to this thread.
      if (!(err instanceof WorkerGoneError) && !broken) throw err;
    }
  }
  return (await runScanJob(job, signal)) as ScanJobResult<J>;
}
