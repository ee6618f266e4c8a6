import { spawn as spawnHere } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from './worker-thread.js';
import type { SpawnReply, SpawnRequest } from './spawn-worker.js';

/**
 * Child processes started on worker threads, so the server's event loop never waits on a fork (issue 5:
 * 20 pipelines' step processes and git commands held it 10–40 ms each). The handle reads like Node's
 * ChildProcess for what its callers use — stdout/stderr streams, `exit`/`close`/`error`, `kill` — and
 * falls back to `spawn()` on this thread when a worker cannot start.
 */
export interface OffThreadChild extends EventEmitter {
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** With `stdin: 'pipe'`: the child's stdin, with backpressure (a write completes once the pipe took it). */
  readonly stdin: Writable | null;
  /** Known once the process started (the `spawn` event). */
  readonly pid: number | undefined;
  kill(signal?: NodeJS.Signals): void;
  /** Signals the child's process group (a `detached` child leads its own group). */
  killGroup(signal: NodeJS.Signals): void;
}

export interface OffThreadSpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Its own process group, so `killGroup` reaches what it forked. */
  detached?: boolean;
  /** Written to stdin, which is then closed; without it (and without `stdin: 'pipe'`) stdin is /dev/null. */
  input?: string | Uint8Array;
  /** 'pipe': stdin is a stream to write (`child.stdin`). */
  stdin?: 'pipe';
  /**
   * 'ignore': stdout and stderr go to /dev/null (the streams here just end). Otherwise read both: an
   * unread stream pauses the child's pipe once its buffer is full, as with `spawn()`.
   */
  output?: 'ignore';
  /** Aborting kills the child with SIGTERM and emits an AbortError `error`, as `spawn()` does. */
  signal?: AbortSignal;
}

interface Slot {
  worker: Worker;
  children: Map<number, Handle>;
  idleTimer?: NodeJS.Timeout;
}

class Handle extends EventEmitter implements OffThreadChild {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable | null;
  pid: number | undefined;
  private readonly acks: ((err?: Error) => void)[] = [];
  private readonly paused = { stdout: false, stderr: false };
  constructor(private readonly send: (request: SpawnRequest) => void, private readonly id: number, streamStdin: boolean) {
    super();
    this.stdin = streamStdin
      ? new Writable({
          write: (chunk: Buffer, _encoding, callback) => {
            this.acks.push(callback);
            const copy = new Uint8Array(chunk);
            send({ type: 'stdin', id, chunk: copy });
          },
          final: (callback) => {
            send({ type: 'stdin-end', id });
            callback();
          },
        })
      : null;
  }
  kill(signal: NodeJS.Signals = 'SIGTERM') {
    this.send({ type: 'kill', id: this.id, signal, group: false });
  }
  killGroup(signal: NodeJS.Signals) {
    if (this.pid === undefined) return this.send({ type: 'kill', id: this.id, signal, group: true });
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone already.
    }
  }
  receive(reply: SpawnReply) {
    if (reply.type === 'spawn') {
      this.pid = reply.pid;
      this.emit('spawn');
    } else if (reply.type === 'data') {
      const stream = reply.stream === 'stdout' ? this.stdout : this.stderr;
      // A reader that falls behind pauses the child's pipe, so output never piles up here.
      if (!stream.write(Buffer.from(reply.chunk.buffer, reply.chunk.byteOffset, reply.chunk.byteLength)) && !this.paused[reply.stream]) {
        this.paused[reply.stream] = true;
        this.send({ type: 'pause', id: this.id, stream: reply.stream });
        stream.once('drain', () => {
          this.paused[reply.stream] = false;
          this.send({ type: 'resume', id: this.id, stream: reply.stream });
        });
      }
    } else if (reply.type === 'stdin-ack') {
      this.acks.shift()?.(reply.error ? Object.assign(new Error(reply.error.message), { code: reply.error.code }) : undefined);
    } else if (reply.type === 'exit') {
      this.emit('exit', reply.code, reply.signal);
    } else if (reply.type === 'error') {
      this.emit('error', Object.assign(new Error(reply.message), { code: reply.code, errno: reply.errno, syscall: reply.syscall, path: reply.path }));
    } else {
      // Writes the child can no longer take fail, as on a real pipe.
      for (const ack of this.acks.splice(0)) ack(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      void this.closeStreams().then(() => this.emit('close', reply.code, reply.signal));
    }
  }
  /** As with a real child, `close` comes after both streams ended; output nobody ever read is dropped. */
  private async closeStreams() {
    const ended = [this.stdout, this.stderr].map((s) => new Promise((resolve) => (s.readableEnded ? resolve(undefined) : s.once('end', resolve))));
    for (const s of [this.stdout, this.stderr]) {
      s.end();
      if (s.readableFlowing === null) s.resume();
    }
    await Promise.all(ended);
  }
}


const threads = Math.max(1, Math.min(2, availableParallelism()));
const IDLE_MS = 30_000;
const slots: (Slot | undefined)[] = new Array<Slot | undefined>(threads).fill(undefined);
let nextId = 1;
let turn = 0;
let broken = false;

function startSlot(index: number): Slot {
  const worker = startWorkerThread(new URL('./spawn-worker.js', import.meta.url));
  const slot: Slot = { worker, children: new Map() };
  const stop = (err: Error) => {
    if (slots[index] === slot) slots[index] = undefined;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    // Children of a worker that died cannot be followed any more: they count as failed to run.
    for (const [id, handle] of slot.children) {
      handle.receive({ type: 'error', id, message: err.message });
      handle.receive({ type: 'close', id, code: null, signal: null });
    }
    slot.children.clear();
  };
  worker.on('message', (reply: SpawnReply) => {
    const handle = slot.children.get(reply.id);
    if (!handle) return;
    if (reply.type === 'close') {
      slot.children.delete(reply.id);
      if (slot.children.size === 0) idle(slot);
    }
    handle.receive(reply);
  });
  worker.on('error', (err) => {
    broken = true;
    stop(err);
  });
  worker.on('exit', (code) => stop(new Error(`the process-spawning worker exited with code ${code}`)));
  slots[index] = slot;
  return slot;
}

// A worker with no child running must not keep the process alive, and goes away after a while;
// it leaves its slot first, so a spawn meanwhile starts a new worker instead of messaging a dying one.
function idle(slot: Slot) {
  slot.worker.unref();
  slot.idleTimer = setTimeout(() => {
    if (slot.children.size > 0) return;
    const index = slots.indexOf(slot);
    if (index >= 0) slots[index] = undefined;
    void slot.worker.terminate();
  }, IDLE_MS);
  slot.idleTimer.unref();
}

/** Starts `file args` on this thread, behind the same handle (no worker available). */
function spawnOnThisThread(file: string, args: readonly string[], options: OffThreadSpawnOptions): OffThreadChild {
  const output = options.output ?? 'pipe';
  const child = spawnHere(file, [...args], { cwd: options.cwd, env: options.env, detached: options.detached ?? false, stdio: [options.input !== undefined || options.stdin === 'pipe' ? 'pipe' : 'ignore', output, output] });
  const send = (request: SpawnRequest) => {
    if (request.type === 'stdin') {
      child.stdin!.write(request.chunk, (err) => handle.receive({ type: 'stdin-ack', id: 0, ...(err ? { error: { message: err.message } } : {}) }));
      return;
    }
    if (request.type === 'stdin-end') return void child.stdin!.end();
    if (request.type === 'pause' || request.type === 'resume') return void child[request.stream]?.[request.type]();
    if (request.type !== 'kill') return;
    try {
      if (request.group && child.pid !== undefined) process.kill(-child.pid, request.signal);
      else child.kill(request.signal);
    } catch {
      // Gone already.
    }
  };
  const handle = new Handle(send, 0, options.stdin === 'pipe');
  child.on('spawn', () => handle.receive({ type: 'spawn', id: 0, pid: child.pid }));
  child.stdout?.on('data', (chunk: Buffer) => handle.receive({ type: 'data', id: 0, stream: 'stdout', chunk }));
  child.stderr?.on('data', (chunk: Buffer) => handle.receive({ type: 'data', id: 0, stream: 'stderr', chunk }));
  child.on('error', (err: NodeJS.ErrnoException) => handle.receive({ type: 'error', id: 0, message: err.message, ...(err.code !== undefined ? { code: err.code } : {}) }));
  child.on('exit', (code, signal) => handle.receive({ type: 'exit', id: 0, code, signal }));
  child.on('close', (code, signal) => handle.receive({ type: 'close', id: 0, code, signal }));
  if (child.stdin) {
    child.stdin.on('error', () => undefined);
    if (options.stdin !== 'pipe') child.stdin.end(options.input);
  }
  return handle;
}

/** Starts `file args` from a worker thread; `close` tells when it is over, as with `spawn()`. */
export function spawnOffThread(file: string, args: readonly string[], options: OffThreadSpawnOptions = {}): OffThreadChild {
  let handle: OffThreadChild;
  if (broken) {
    handle = spawnOnThisThread(file, args, options);
  } else {
    const index = turn++ % threads;
    let slot: Slot;
    try {
      slot = slots[index] ?? startSlot(index);
    } catch {
      broken = true;
      return spawnOffThread(file, args, options);
    }
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    // A running child keeps the process alive, as a real one would.
    slot.worker.ref();
    const id = nextId++;
    const send = (request: SpawnRequest) => slot.worker.postMessage(request);
    const pooled = new Handle(send, id, options.stdin === 'pipe');
    slot.children.set(id, pooled);
    send({ type: 'spawn', id, file, args: [...args], ...(options.cwd !== undefined ? { cwd: options.cwd } : {}), ...(options.env !== undefined ? { env: options.env } : {}), detached: options.detached ?? false, ...(options.input !== undefined ? { input: options.input } : {}), stdin: options.stdin === 'pipe' ? 'stream' : options.input !== undefined ? 'input' : 'ignore', output: options.output ?? 'pipe' });
    handle = pooled;
  }
  const signal = options.signal;
  if (signal) {
    const onAbort = () => {
      handle.kill('SIGTERM');
      handle.emit('error', Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' }));
    };
    if (signal.aborted) queueMicrotask(onAbort);
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      handle.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  return handle;
}
