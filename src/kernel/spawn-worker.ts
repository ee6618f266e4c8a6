/**
 * Worker thread entry: starts child processes for the main thread (see spawn-pool.ts). `spawn()` is
 * synchronous — libuv forks the server's whole address space and waits for the child's exec — which
 * held the server's event loop 10–40 ms per process while 20 pipelines ran (issue 5); here it holds
 * only this thread. Output chunks and exits go back as messages, in the order they happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parentPort } from 'node:worker_threads';

/** `stdin`: 'input' writes `input` and closes; 'stream' takes `stdin` chunks until `stdin-end`. */
export type SpawnRequest =
  | { type: 'spawn'; id: number; file: string; args: string[]; cwd?: string; env?: Record<string, string>; detached: boolean; input?: string | Uint8Array; stdin: 'input' | 'stream' | 'ignore'; output: 'pipe' | 'ignore' }
  | { type: 'kill'; id: number; signal: NodeJS.Signals; group: boolean }
  | { type: 'stdin'; id: number; chunk: Uint8Array }
  | { type: 'stdin-end'; id: number }
  /** Flow control: the main thread's reader is behind (pause) or caught up (resume). */
  | { type: 'pause' | 'resume'; id: number; stream: 'stdout' | 'stderr' };

export type SpawnReply =
  | { type: 'spawn'; id: number; pid: number | undefined }
  | { type: 'data'; id: number; stream: 'stdout' | 'stderr'; chunk: Uint8Array }
  | { type: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'close'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'error'; id: number; message: string; code?: string; errno?: number; syscall?: string; path?: string }
  /** A stdin chunk was handed to the pipe (or failed): the main thread's writer may send the next. */
  | { type: 'stdin-ack'; id: number; error?: { message: string; code?: string } };

const port = parentPort!;
const children = new Map<number, ChildProcess>();
const send = (reply: SpawnReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

function start(request: Extract<SpawnRequest, { type: 'spawn' }>) {
  const { id } = request;
  const child = spawn(request.file, request.args, { cwd: request.cwd, env: request.env, detached: request.detached, stdio: [request.stdin === 'ignore' ? 'ignore' : 'pipe', request.output, request.output] });
  children.set(id, child);
  child.on('spawn', () => send({ type: 'spawn', id, pid: child.pid }));
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (chunk: Buffer) => {
      // A chunk may be a view into a larger pooled buffer: copy its bytes, then hand the copy over.
      const copy = new Uint8Array(chunk);
      send({ type: 'data', id, stream, chunk: copy }, [copy.buffer]);
    });
  }
  child.on('error', (err: NodeJS.ErrnoException) => send({ type: 'error', id, message: err.message, ...(err.code !== undefined ? { code: err.code } : {}), ...(err.errno !== undefined ? { errno: err.errno } : {}), ...(err.syscall !== undefined ? { syscall: err.syscall } : {}), ...(err.path !== undefined ? { path: err.path } : {}) }));
  child.on('exit', (code, signal) => send({ type: 'exit', id, code, signal }));
  child.on('close', (code, signal) => {
    children.delete(id);
    send({ type: 'close', id, code, signal });
  });
  if (child.stdin) {
    // The process may exit before reading its input; its exit code says why (a streaming writer gets the error too).
    child.stdin.on('error', () => undefined);
    if (request.stdin === 'input') child.stdin.end(request.input ?? '');
  }
}

function writeStdin(id: number, chunk: Uint8Array) {
  const stdin = children.get(id)?.stdin;
  if (!stdin || stdin.destroyed) return send({ type: 'stdin-ack', id, error: { message: 'the process is gone', code: 'EPIPE' } });
  stdin.write(chunk, (err?: NodeJS.ErrnoException | null) => send({ type: 'stdin-ack', id, ...(err ? { error: { message: err.message, ...(err.code !== undefined ? { code: err.code } : {}) } } : {}) }));
}

function kill(request: Extract<SpawnRequest, { type: 'kill' }>) {
  const child = children.get(request.id);
  if (!child || child.pid === undefined) return;
  try {
    if (request.group) process.kill(-child.pid, request.signal);
    else child.kill(request.signal);
  } catch {
    // Gone already.
  }
}

port.on('message', (request: SpawnRequest) => {
  if (request.type === 'spawn') start(request);
  else if (request.type === 'kill') kill(request);
  else if (request.type === 'stdin') writeStdin(request.id, request.chunk);
  else if (request.type === 'stdin-end') children.get(request.id)?.stdin?.end();
  else if (request.type === 'pause') children.get(request.id)?.[request.stream]?.pause();
  else children.get(request.id)?.[request.stream]?.resume();
});
