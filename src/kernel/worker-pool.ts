import { availableParallelism } from 'node:os';
import { parentPort, type Worker } from 'node:worker_threads';
import { startWorkerThread } from './worker-thread.js';

/** Messages between a pool and its workers: a request (or its abort) by id, and its result or error. */
type ToWorker<Req> = { id: number; request: Req } | { id: number; abort: true };
type FromWorker<Res> = { id: number; result: Res } | { id: number; error: string } | { ready: true };

/** The worker could not start, crashed or exited: the request never ran to an answer there. */
export class WorkerUnavailableError extends Error {}

/** CPU-bound work on worker threads, queued on the least busy one; idle workers exit. */
export interface WorkerPool<Req, Res> {
  /** False once a worker failed to start or crashed: callers then do the work on their own thread. */
  readonly usable: boolean;
  /** Rejects with the worker's error, or with WorkerUnavailableError when no worker could answer. */
  run(request: Req, signal?: AbortSignal): Promise<Res>;
  /**
   * Runs on a worker that has started and loaded its module, like `run`; when none has, starts the
   * pool's workers and returns undefined, and the caller does this request itself. For requests a
   * worker's start-up (its module imports) would delay more than their work takes.
   */
  runOnWarm(request: Req): Promise<Res> | undefined;
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  /** The worker module as the compiled `.js` beside the caller; it calls `serveWorkerRequests`. */
  entry: URL;
  /** Named in errors. */
  name: string;
  /** Default: one per core beyond the main thread's, at least one, at most four. */
  threads?: number;
  /** An idle worker exits after this long, giving its memory back. */
  idleMs: number;
}

interface Slot {
  worker: Worker;
  /** Its module loaded: it answers requests now. */
  ready: boolean;
  pending: Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;
  idleTimer?: NodeJS.Timeout;
}

export function createWorkerPool<Req, Res>(options: WorkerPoolOptions): WorkerPool<Req, Res> {
  const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
  const slots: (Slot | undefined)[] = new Array<Slot | undefined>(threads).fill(undefined);
  let nextId = 1;
  let usable = true;

  function start(index: number): Slot {
    const slot: Slot = { worker: startWorkerThread(options.entry), ready: false, pending: new Map() };
    // Until a request refs it, a starting worker does not keep the process alive.
    slot.worker.unref();
    const stop = (err: Error) => {
      if (slots[index] === slot) slots[index] = undefined;
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    slot.worker.on('message', (reply: FromWorker<Res>) => {
      if ('ready' in reply) {
        slot.ready = true;
        if (slot.pending.size === 0) idle(slot);
        return;
      }
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve(reply.result);
      if (slot.pending.size === 0) idle(slot);
    });
    slot.worker.on('error', (err) => {
      usable = false;
      stop(new WorkerUnavailableError(`the ${options.name} worker failed: ${err.message}`));
    });
    slot.worker.on('exit', (code) => stop(new WorkerUnavailableError(`the ${options.name} worker exited with code ${code}`)));
    slots[index] = slot;
    return slot;
  }

  // A worker with nothing to do must not keep the process alive; it leaves its slot before it goes,
  // so work arriving meanwhile starts a new one.
  function idle(slot: Slot) {
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => {
      if (slot.pending.size > 0) return;
      const index = slots.indexOf(slot);
      if (index >= 0) slots[index] = undefined;
      void slot.worker.terminate();
    }, options.idleMs);
    slot.idleTimer.unref();
  }

  /** The slot with the fewest requests queued (started when a slot is empty). */
  function pick(): Slot {
    let best = -1;
    for (let i = 0; i < threads; i++) {
      const slot = slots[i];
      if (!slot) return start(i);
      if (best < 0 || slot.pending.size < slots[best]!.pending.size) best = i;
    }
    return slots[best]!;
  }

  /** The ready slot with the fewest requests queued; starts every empty slot. */
  function pickWarm(): Slot | undefined {
    let best: Slot | undefined;
    for (let i = 0; i < threads; i++) {
      const slot = slots[i] ?? start(i);
      if (slot.ready && (!best || slot.pending.size < best.pending.size)) best = slot;
    }
    return best;
  }

  function send(slot: Slot, request: Req, signal?: AbortSignal): Promise<Res> {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.worker.ref();
    const id = nextId++;
    const onAbort = () => slot.worker.postMessage({ id, abort: true } satisfies ToWorker<Req>);
    signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<unknown>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, request } satisfies ToWorker<Req>);
    }).finally(() => signal?.removeEventListener('abort', onAbort)) as Promise<Res>;
  }

  return {
    get usable() {
      return usable;
    },
    run(request, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      return send(pick(), request, signal);
    },
    runOnWarm(request) {
      if (!usable) return undefined;
      const slot = pickWarm();
      return slot && send(slot, request);
    },
    async close() {
      const running = slots.filter((s): s is Slot => s !== undefined);
      slots.fill(undefined);
      await Promise.all(running.map((s) => (s.idleTimer && clearTimeout(s.idleTimer), s.worker.terminate())));
    },
  };
}

/** The worker side: answers each request with `handle`, aborting its signal when the pool asks. */
export function serveWorkerRequests<Req, Res>(handle: (request: Req, signal: AbortSignal) => Promise<Res>): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerRequests runs in a worker thread');
  const running = new Map<number, AbortController>();
  // Called once the worker's module has loaded: from now on a request waits for its work alone.
  port.postMessage({ ready: true } satisfies FromWorker<Res>);
  port.on('message', (message: ToWorker<Req>) => {
    if ('abort' in message) {
      running.get(message.id)?.abort(new Error('the work was cancelled'));
      return;
    }
    const abort = new AbortController();
    running.set(message.id, abort);
    handle(message.request, abort.signal)
      .then(
        (result) => port.postMessage({ id: message.id, result } satisfies FromWorker<Res>),
        (err: unknown) => port.postMessage({ id: message.id, error: (err as Error).message ?? String(err) } satisfies FromWorker<Res>),
      )
      .finally(() => running.delete(message.id));
  });
}
