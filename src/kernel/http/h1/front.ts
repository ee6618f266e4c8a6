/**
 * A front end: an HTTP/1.1 server side of its own for plain requests (request-head.ts says which),
 * on the sockets a node:http server accepts. Measured by bench/gateway and bench/kernel, node:http's
 * per-request objects (IncomingMessage, ServerResponse, their streams and events) were the larger part
 * of what the gateway spent per request, and of what a `/healthz` probe costs. A connection whose
 * request is not plain, or not one its owner takes, is handed to node:http for the rest of its life,
 * the unparsed bytes put back first: node:http then parses that request from its first byte, with its
 * own limits, timeouts and errors.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { parseRequestHead } from './request-head.js';

/** node:http's limit for a request head (maxHeaderSize): a longer one is handed over, and node:http answers 431. */
const MAX_REQUEST_HEAD_BYTES = 16 * 1024;
/** node:http's keepAliveTimeout: an idle kept-alive connection is closed after it. */
export const KEEP_ALIVE_TIMEOUT_MS = 5000;
/** node:http's headersTimeout: a request head must be complete this long after the connection went idle. */
export const HEADERS_TIMEOUT_MS = 60_000;
const SWEEP_INTERVAL_MS = 1000;
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** Told once when a response is over: `finished` when it was sent whole. */
export interface ResponseWatcher {
  onResponseClosed(finished: boolean): void;
}

/** One plain request the front end took, and the writing of its response. */
export interface FrontExchange {
  readonly method: string;
  /** The request target, origin-form. */
  readonly url: string;
  /** Field names as sent, `[name, value, name, value, …]`. */
  readonly rawHeaders: readonly string[];
  readonly remoteAddress: string;
  readonly headersSent: boolean;
  readonly statusCode: number;
  watch(watcher: ResponseWatcher): void;
  /** `fields` as `[name, value, …]`, without framing fields: the front end frames the body itself. */
  writeHead(statusCode: number, fields: string[]): void;
  /** False when the client reads slower than this is written: wait for `onceDrain`. */
  write(chunk: Buffer): boolean;
  onceDrain(resume: () => void): void;
  end(last: Buffer | undefined): void;
  /** Cuts the response short: the client must not take it as complete. */
  destroy(): void;
}

export interface FrontOptions {
  /** Serves one plain request it takes; answers through the exchange (once, complete or cut). */
  handle(exchange: FrontExchange): void;
  /** Whether to serve this plain request (default: every one); one it does not is handed to node:http with its connection. */
  takes?(method: string, url: string): boolean;
  /** Gives the socket, its unread bytes put back, to node:http. */
  handOff(socket: Socket): void;
  keepAliveTimeoutMs?: number;
  headersTimeoutMs?: number;
}

export interface Front {
  accept(socket: Socket): void;
  /** Closes every connection not in the middle of a response, and each other one once its response is complete. */
  closeAll(): void;
  /** Keeps connections open again (after closeAll, a gateway listening anew). */
  reopen(): void;
  stop(): void;
}

export function createFront(options: FrontOptions): Front {
  const connections = new Set<FrontConnection>();
  const keepAliveMs = options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS;
  const headersMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  // A clock read once a sweep: timeouts need seconds, and a clock read per request is a measurable cost. A time
  // taken from it may be up to one interval old, so a timeout is judged one interval late: never early.
  const clock = { now: performance.now() };
  const interval = Math.min(SWEEP_INTERVAL_MS, keepAliveMs / 2, headersMs / 2);
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    clock.now = performance.now();
    for (const c of connections) c.expire(clock.now, keepAliveMs + interval, headersMs + interval);
  };
  const context: FrontContext = {
    clock,
    closing: false,
    handle: options.handle,
    takes: options.takes,
    handOff(connection, socket) {
      connections.delete(connection);
      options.handOff(socket);
    },
    forget: (connection) => connections.delete(connection),
  };
  return {
    accept(socket) {
      sweeper ??= setInterval(sweep, interval).unref();
      connections.add(new FrontConnection(socket, context));
    },
    closeAll() {
      context.closing = true;
      for (const c of connections) c.closeIfIdle();
    },
    reopen() {
      context.closing = false;
    },
    stop() {
      clearInterval(sweeper);
      sweeper = undefined;
    },
  };
}

/**
 * Puts a front end before a node:http server: every connection starts on it, and one it hands over goes
 * on with node:http's own connection handling (the one 'connection' listener its server registers for
 * itself, checked here).
 */
export function frontOf(server: Server, options: Omit<FrontOptions, 'handOff'>): Front {
  const listeners = server.listeners('connection');
  if (listeners.length !== 1) throw new Error(`node:http's server has ${listeners.length} connection listeners where the front end expects its one`);
  const nodeConnection = listeners[0] as (socket: Socket) => void;
  server.removeAllListeners('connection');
  const front = createFront({ ...options, handOff: (socket) => nodeConnection.call(server, socket) });
  server.on('connection', (socket: Socket) => front.accept(socket));
  return front;
}

interface FrontContext {
  clock: { now: number };
  /** The server is closing: no connection is kept alive past its response in flight. */
  closing: boolean;
  handle: FrontOptions['handle'];
  takes: FrontOptions['takes'];
  handOff(connection: FrontConnection, socket: Socket): void;
  forget(connection: FrontConnection): void;
}

/**
 * One client connection and, one at a time, its requests: it is the exchange of the request in
 * flight. Pipelined requests wait in `pending` (the socket paused past a head's worth) until the
 * response before them is complete, as RFC 9112 §9.3.2 orders them.
 */
class FrontConnection implements FrontExchange {
  method = '';
  url = '';
  rawHeaders: readonly string[] = [];
  readonly remoteAddress: string;
  statusCode = 0;
  headersSent = false;
  /** Bytes received and not yet parsed: the start of the next request. */
  private pending: Buffer | undefined;
  /** A request is in flight (its response not yet complete). */
  private busy = false;
  private watcher: ResponseWatcher | undefined;
  /** The response head, written with the first body bytes (so that a short response is one write). */
  private head: string | undefined;
  private chunked = false;
  private closeAfter = false;
  private parsing = false;
  private drainWaiter: (() => void) | undefined;
  /** When the connection last went idle (clock of the sweep). */
  private idleSince: number;

  constructor(
    private readonly socket: Socket,
    private readonly context: FrontContext,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.idleSince = context.clock.now;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.busy) {
      // Pipelined: kept until the response before it is complete; past a head's worth the client waits.
      if (this.pending.length > MAX_REQUEST_HEAD_BYTES) this.socket.pause();
      return;
    }
    this.parse();
  };

  /** Starts every complete request in `pending`, one at a time; hands the connection over at the first one that is not plain. */
  private parse(): void {
    if (this.parsing) return;
    this.parsing = true;
    try {
      while (!this.busy && this.pending !== undefined && !this.socket.destroyed) {
        const buffer = this.pending;
        const text = buffer.toString('latin1', 0, Math.min(buffer.length, MAX_REQUEST_HEAD_BYTES + 4));
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffer.length > MAX_REQUEST_HEAD_BYTES) return this.handOff();
          return;
        }
        const request = parseRequestHead(text.slice(0, end));
        if (!request || (this.context.takes !== undefined && !this.context.takes(request.method, request.url))) return this.handOff();
        this.pending = end + 4 === buffer.length ? undefined : buffer.subarray(end + 4);
        this.method = request.method;
        this.url = request.url;
        this.rawHeaders = request.rawHeaders;
        this.closeAfter = request.close;
        this.busy = true;
        this.headersSent = false;
        this.statusCode = 0;
        this.context.handle(this);
      }
    } finally {
      this.parsing = false;
    }
  }

  /** node:http takes the connection from the start of the request not parsed here. */
  private handOff(): void {
    const socket = this.socket;
    socket.pause();
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('drain', this.onDrain);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    if (this.pending) socket.unshift(this.pending);
    this.pending = undefined;
    this.context.handOff(this, socket);
    socket.resume();
  }

  watch(watcher: ResponseWatcher): void {
    this.watcher = watcher;
  }

  writeHead(statusCode: number, fields: string[]): void {
    this.statusCode = statusCode;
    this.headersSent = true;
    let head = `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Unknown'}\r\n`;
    let length = false;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      head += `${name}: ${fields[i + 1]}\r\n`;
    }
    if (this.closeAfter) head += 'connection: close\r\n';
    // RFC 9112 §6.3: these responses have no body whatever their fields say; a length is passed on as it came.
    const bodyless = this.method === 'HEAD' || statusCode === 204 || statusCode === 304;
    this.chunked = !bodyless && !length;
    this.head = head;
  }

  write(chunk: Buffer): boolean {
    const socket = this.socket;
    socket.cork();
    if (this.head !== undefined) {
      socket.write(`${this.head}${this.chunked ? 'transfer-encoding: chunked\r\n' : ''}\r\n`, 'latin1');
      this.head = undefined;
    }
    let flushed: boolean;
    if (this.chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      flushed = socket.write('\r\n', 'latin1');
    } else flushed = socket.write(chunk);
    socket.uncork();
    return flushed;
  }

  onceDrain(resume: () => void): void {
    this.drainWaiter = resume;
  }

  end(last: Buffer | undefined): void {
    const size = last?.length ?? 0;
    let prefix = '';
    let suffix = '';
    if (this.head !== undefined) {
      // Nothing written yet: a body whose length was not given is sent with one, as node:http does for end(data).
      prefix = `${this.head}${this.chunked ? `content-length: ${size}\r\n` : ''}\r\n`;
      this.head = undefined;
    } else if (this.chunked) {
      if (size > 0) prefix = `${size.toString(16)}\r\n`;
      suffix = size > 0 ? '\r\n0\r\n\r\n' : '0\r\n\r\n';
    }
    // One write for the whole rest: a response that fits one read of the replica is one write to the client.
    const out = Buffer.allocUnsafe(prefix.length + size + suffix.length);
    out.write(prefix, 0, 'latin1');
    if (last) last.copy(out, prefix.length);
    if (suffix) out.write(suffix, prefix.length + size, 'latin1');
    this.socket.write(out);
    this.finish(true);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The response is over: the watcher is told, and the next request (if any) starts. */
  private finish(finished: boolean): void {
    const watcher = this.watcher;
    this.watcher = undefined;
    this.busy = false;
    this.drainWaiter = undefined;
    this.idleSince = this.context.clock.now;
    watcher?.onResponseClosed(finished);
    if (!finished || this.socket.destroyed) return;
    if (this.closeAfter || this.context.closing) {
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    this.parse();
  }

  closeIfIdle(): void {
    if (!this.busy) this.socket.destroy();
  }

  /** The sweep: a kept-alive connection idle too long is closed; a head not complete in time gets a 408. */
  expire(now: number, keepAliveMs: number, headersMs: number): void {
    if (this.busy) return;
    if (this.pending === undefined) {
      if (now - this.idleSince > keepAliveMs) this.socket.destroy();
    } else if (now - this.idleSince > headersMs) {
      this.pending = undefined;
      this.socket.end(REQUEST_TIMEOUT_RESPONSE, 'latin1');
      this.socket.destroySoon();
    }
  }

  /** The client ended its side: as node:http's server does (without httpAllowHalfOpen), a response in flight is abandoned. */
  private readonly onEnd = (): void => {
    this.pending = undefined;
    if (this.busy) this.finish(false);
    this.socket.end();
  };

  private readonly onDrain = (): void => {
    const resume = this.drainWaiter;
    this.drainWaiter = undefined;
    resume?.();
  };

  // The close that follows says what matters; the error itself is the client's business.
  private readonly onError = (): void => undefined;

  private readonly onClose = (): void => {
    this.context.forget(this);
    this.pending = undefined;
    if (this.busy) this.finish(false);
  };
}
