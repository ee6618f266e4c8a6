import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FrontExchange, ResponseWatcher } from '../../kernel/index.js';
import type { Endpoint } from '../driver/local.js';
import type { UpstreamConnection, UpstreamExchange, UpstreamPool } from './upstream.js';

// RFC 9110 §7.6.1: hop-by-hop fields, never forwarded (plus any named in Connection).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Set by the gateway itself; a client's own values are replaced (x-forwarded-for is extended). */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
/** Distinct replicas one request may try when connections are refused. */
export const MAX_ATTEMPTS = 3;
// RFC 9110 §9.2.2: only these may be sent again after the connection failed with no response.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** The fields of a request the gateway reads, from one pass over its raw header list. */
export interface RequestFields {
  host: string;
  cookie: string | undefined;
  canary: string | undefined;
  forwardedFor: string | undefined;
  /** Content-Length or Transfer-Encoding present and not a zero length: the request has a body to stream. */
  body: 'none' | 'length' | 'chunked';
  /** Lower-cased tokens of the Connection field other than keep-alive/close: more fields not to forward. */
  connectionTokens: string[] | undefined;
}

export function readRequestFields(raw: readonly string[]): RequestFields {
  const fields: RequestFields = { host: '', cookie: undefined, canary: undefined, forwardedFor: undefined, body: 'none', connectionTokens: undefined };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // Most fields are none of these: their length rules them out before any lower-casing.
    switch (name.length) {
      case 4:
        if (fields.host === '' && name.toLowerCase() === 'host') fields.host = value; // the first, as node:http's req.headers
        break;
      case 6:
        if (name.toLowerCase() === 'cookie') fields.cookie = fields.cookie === undefined ? value : `${fields.cookie}; ${value}`;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          for (const token of value.split(',')) {
            const t = token.trim().toLowerCase();
            if (t !== '' && t !== 'keep-alive' && t !== 'close') (fields.connectionTokens ??= []).push(t);
          }
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length' && fields.body === 'none' && value.trim() !== '0') fields.body = 'length';
        break;
      case 15:
        if (name.toLowerCase() === 'x-forwarded-for') fields.forwardedFor = fields.forwardedFor === undefined ? value : `${fields.forwardedFor}, ${value}`;
        else if (name.toLowerCase() === 'x-plinth-canary' && fields.canary === undefined) fields.canary = value;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') fields.body = 'chunked';
        break;
    }
  }
  return fields;
}

/** The request line and fields sent to a replica: end-to-end fields as received, then the X-Forwarded-* set. */
export function requestHead(req: Downstream, fields: RequestFields): string {
  const raw = req.rawHeaders;
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || FORWARDED.has(lower) || fields.connectionTokens?.includes(lower)) continue;
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  const remote = req.remoteAddress;
  head += `x-forwarded-for: ${fields.forwardedFor ? `${fields.forwardedFor}, ${remote}` : remote}\r\nx-forwarded-proto: http\r\nx-forwarded-host: ${fields.host}\r\n`;
  // The client's chunked body arrives unframed from node:http and is framed again for the replica.
  if (fields.body === 'chunked') head += 'transfer-encoding: chunked\r\n';
  return `${head}\r\n`;
}

/** The replica's fields minus hop-by-hop ones, plus what the gateway adds. */
function responseFields(raw: readonly string[], releaseId: string, setCookie: string | undefined): string[] {
  let tokens: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') for (const t of raw[i + 1]!.split(',')) (tokens ??= []).push(t.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !tokens?.includes(lower)) out.push(raw[i]!, raw[i + 1]!);
  }
  out.push('x-plinth-release', releaseId);
  if (setCookie) out.push('set-cookie', setCookie);
  return out;
}

/** The gateway's own answer (404, 502, 503…), or a cut connection once a response has begun. */
export function reply(downstream: Downstream, status: number, message: string): void {
  if (downstream.headersSent) {
    downstream.destroy();
    return;
  }
  downstream.writeHead(status, ['content-type', 'text/plain; charset=utf-8', 'cache-control', 'no-store']);
  downstream.end(Buffer.from(`${message}\n`));
}

/**
 * The client's side of one exchange: the kernel's front end for plain requests, or node:http's
 * request and response for the rest (bodies, older versions, anything doubtful).
 */
export interface Downstream extends FrontExchange {
  /** The request body to stream (node:http's side only: the front end takes no request with a body). */
  readonly body?: IncomingMessage;
}

/** node:http's request and response as a Downstream. */
export class NodeDownstream implements Downstream {
  constructor(
    readonly body: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  get method(): string {
    return this.body.method!;
  }
  get url(): string {
    return this.body.url ?? '/';
  }
  get rawHeaders(): readonly string[] {
    return this.body.rawHeaders;
  }
  get remoteAddress(): string {
    return this.body.socket.remoteAddress ?? '';
  }
  get headersSent(): boolean {
    return this.res.headersSent;
  }
  get statusCode(): number {
    return this.res.statusCode;
  }
  watch(watcher: ResponseWatcher): void {
    this.res.once('close', () => watcher.onResponseClosed(this.res.writableFinished));
  }
  writeHead(statusCode: number, fields: string[]): void {
    this.res.writeHead(statusCode, fields);
  }
  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }
  onceDrain(resume: () => void): void {
    this.res.once('drain', resume);
  }
  end(last: Buffer | undefined): void {
    this.res.end(last);
  }
  destroy(): void {
    this.res.destroy();
  }
}

/** What an exchange needs from the gateway. */
export interface ProxyContext {
  pool: UpstreamPool;
  /** A ready replica of the release not yet tried by this request, round robin (`next`: the route's positions). */
  chooseEndpoint(releaseId: string, next: Map<string, number>, tried: readonly string[]): Endpoint | undefined;
  markUnreachable(endpoint: Endpoint): void;
}

export const endpointKey = (e: Endpoint): string => `${e.releaseId}/${e.replica}`;

/**
 * One request on its way to a replica and back: the request head is written as one string on a
 * pooled connection, the body (if any) streams once the connection is up, and the response streams
 * back to the client's Downstream. A connection refused before anything was sent is retried
 * on another replica (up to MAX_ATTEMPTS), a kept-alive connection found closed on another connection.
 */
export class ProxyExchange implements UpstreamExchange, ResponseWatcher {
  private head: string | undefined;
  private readonly tried: string[] = [];
  private endpoint: Endpoint | undefined;
  private connection: UpstreamConnection | undefined;
  private bodyStarted = false;
  private staleRetried = false;
  private lastChunk: Buffer | undefined;
  private closed: ((statusCode: number) => void) | undefined;

  constructor(
    private readonly context: ProxyContext,
    private readonly downstream: Downstream,
    private readonly fields: RequestFields,
    private readonly releaseId: string,
    private readonly roundRobin: Map<string, number>,
    private readonly name: string,
    private readonly setCookie: string | undefined,
  ) {}

  /** `closed` runs once the client's response is over, complete or not (the gateway records its stats there). */
  start(closed: (statusCode: number) => void): void {
    this.closed = closed;
    this.downstream.watch(this);
    this.attempt(undefined);
  }

  onResponseClosed(finished: boolean): void {
    // The client went away before the response was complete: the replica's connection goes too.
    if (!finished && this.connection) {
      this.connection.abort();
      this.connection = undefined;
    }
    this.closed?.(this.downstream.statusCode);
  }

  /** Sends the request to another replica, or (after a stale kept-alive connection) again to `same` on a new one. */
  private attempt(same: Endpoint | undefined): void {
    const endpoint = same ?? this.context.chooseEndpoint(this.releaseId, this.roundRobin, this.tried);
    if (!endpoint) {
      // The gateway saw a ready replica, so every one of them has been tried and refused.
      return reply(this.downstream, 502, `no replica of ${this.name} (release ${this.releaseId}) accepted the connection`);
    }
    if (!same) this.tried.push(endpointKey(endpoint));
    this.endpoint = endpoint;
    const connection = same ? this.context.pool.connect(endpoint) : this.context.pool.acquire(endpoint);
    this.connection = connection;
    connection.begin(this, this.downstream.method);
    connection.socket.write((this.head ??= requestHead(this.downstream, this.fields)), 'latin1');
    if (this.fields.body === 'none') connection.endRequest();
    else if (connection.connected) this.startBody();
  }

  onConnected(): void {
    if (this.fields.body !== 'none' && !this.bodyStarted) this.startBody();
  }

  /** Streams the request body, never buffered: only once a replica accepted the connection, so a refusal can still be retried. */
  private startBody(): void {
    this.bodyStarted = true;
    const body = this.downstream.body!;
    body.on('data', (chunk: Buffer) => {
      const socket = this.connection?.socket;
      if (!socket) return; // the response came first (or failed): the rest of the body is dropped
      let flushed: boolean;
      if (this.fields.body === 'chunked') {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        flushed = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else flushed = socket.write(chunk);
      if (!flushed) body.pause();
    });
    body.on('end', () => {
      if (!this.connection) return;
      if (this.fields.body === 'chunked') this.connection.socket.write('0\r\n\r\n', 'latin1');
      this.connection.endRequest();
    });
  }

  onUpstreamDrain(): void {
    if (this.bodyStarted && this.downstream.body!.isPaused()) this.downstream.body!.resume();
  }

  onHead(statusCode: number, rawHeaders: string[]): void {
    try {
      this.downstream.writeHead(statusCode, responseFields(rawHeaders, this.releaseId, this.setCookie));
    } catch (err) {
      this.connection?.abort();
      this.connection = undefined;
      reply(this.downstream, 502, `replica ${this.endpoint!.replica} of ${this.name} (release ${this.releaseId}) sent a response the gateway cannot forward: ${(err as Error).message}`);
    }
  }

  onBody(chunk: Buffer, last: boolean): void {
    if (last) {
      // Handed to end() with the completion that follows at once: one write call on the client's socket instead of two.
      this.lastChunk = chunk;
      return;
    }
    if (!this.downstream.write(chunk) && this.connection && !this.connection.socket.isPaused()) {
      // The client reads slower than the replica writes: the replica waits (backpressure), nothing piles up here.
      const socket = this.connection.socket;
      socket.pause();
      this.downstream.onceDrain(() => {
        if (this.connection?.socket === socket) socket.resume();
      });
    }
  }

  onComplete(): void {
    // The connection is back in the pool (reading again) or closed: a later 'drain' must not touch it.
    this.connection = undefined;
    const body = this.downstream.body;
    if (this.bodyStarted && body && !body.complete) body.resume(); // the unsent rest of the body is read and dropped
    this.downstream.end(this.lastChunk);
    this.lastChunk = undefined;
  }

  onUpstreamError(err: NodeJS.ErrnoException): void {
    const connection = this.connection!;
    const endpoint = this.endpoint!;
    this.connection = undefined;
    if (this.downstream.headersSent) {
      this.downstream.destroy(); // the response is cut short: the client must not take it as complete
      return;
    }
    const nothingBack = !connection.parser.received;
    if (!connection.connected || (connection.served === 0 && nothingBack && !this.bodyStarted && err.code === 'ECONNRESET')) {
      // Refused (or reset by a fresh connection before anything came back): out of rotation until its next passing probe.
      this.context.markUnreachable(endpoint);
      // Nothing reached the replica yet: safe to try another one, whatever the method (the body waits for a connection).
      const safe = !connection.connected || IDEMPOTENT.has(this.downstream.method);
      if (safe && this.tried.length < MAX_ATTEMPTS) return this.attempt(undefined);
    } else if (connection.served > 0 && nothingBack && !this.bodyStarted && !this.staleRetried && IDEMPOTENT.has(this.downstream.method)) {
      // A kept-alive connection the replica had closed meanwhile: the same replica, on a new connection.
      this.staleRetried = true;
      return this.attempt(endpoint);
    }
    reply(this.downstream, 502, `replica ${endpoint.replica} of ${this.name} (release ${this.releaseId}) failed: ${err.code ?? err.message}${err.code === 'EPROTO' ? ` (${err.message})` : ''}`);
  }
}
