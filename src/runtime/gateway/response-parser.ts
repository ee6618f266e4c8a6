/**
 * An HTTP/1.1 response parser for the gateway's upstream connections (RFC 9112): the status line and
 * fields, then the body framed by Content-Length, chunked coding, or the end of the connection. It
 * replaces node:http's client for the proxy path, whose per-request objects (ClientRequest,
 * IncomingMessage, agent bookkeeping, stream plumbing) cost the gateway about two thirds of its CPU
 * (bench/gateway). It parses only what a proxy must: fields are handed on raw, chunked bodies are
 * unframed (the client side frames them again), trailers are read and dropped.
 */
import { scanFieldLine, type FieldLineBounds } from '../../kernel/index.js';

/** What a response carries, as it is parsed. */
export interface ResponseEvents {
  /** The final (non-1xx) status and fields, names as sent, `[name, value, name, value, …]`. */
  onHead(statusCode: number, rawHeaders: string[]): void;
  /** `last`: this chunk ends a body of known length (the caller may hand it on together with the end). */
  onBody(chunk: Buffer, last: boolean): void;
  /** The body is complete; `reusable` when the connection may carry another request. */
  onComplete(reusable: boolean): void;
}

/** node:http's default limit for a message head is 16 KiB; a proxy is a little more forgiving. */
export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 8 * 1024;
const HEAD_PROBE_BYTES = 4096;

const HEX_SIZE = /^[0-9a-fA-F]{1,12}$/;
const DECIMAL = /^\d{1,15}$/;
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** The status code of `HTTP/1.x NNN[ reason]` (the first `eol` characters of the head). */
function statusOf(text: string, eol: number): number {
  const ok =
    eol >= 12 && text.startsWith('HTTP/1.') && (text.charCodeAt(7) === 0x30 || text.charCodeAt(7) === 0x31) && text.charCodeAt(8) === 0x20 &&
    isDigit(text.charCodeAt(9)) && isDigit(text.charCodeAt(10)) && isDigit(text.charCodeAt(11)) && text.charCodeAt(9) !== 0x30 && (eol === 12 || text.charCodeAt(12) === 0x20);
  if (!ok) throw new ResponseParseError(`the replica's status line ${JSON.stringify(text.slice(0, Math.min(eol, 80)))} is not HTTP/1.x`);
  return (text.charCodeAt(9) - 0x30) * 100 + (text.charCodeAt(10) - 0x30) * 10 + (text.charCodeAt(11) - 0x30);
}

/** The one FieldLineBounds the response parser fills (parsing is synchronous: nothing else holds it meanwhile). */
const bounds: FieldLineBounds = { colon: 0, from: 0, to: 0 };

const enum State {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

export class ResponseParseError extends Error {
  override readonly name = 'ResponseParseError';
}

export class ResponseParser {
  private state = State.Idle;
  private headBuffer: Buffer | undefined;
  private line = '';
  private trailerBytes = 0;
  private remaining = 0;
  private keepAlive = false;
  private bodyless = false;
  /** Any byte of the current response seen (a retry is safe only before that). */
  received = false;

  constructor(private readonly events: ResponseEvents) {}

  /** Expects the response to a request with this method (a response to HEAD has no body). */
  start(method: string): void {
    this.state = State.Head;
    this.headBuffer = undefined;
    this.line = '';
    this.trailerBytes = 0;
    this.received = false;
    this.bodyless = method === 'HEAD';
  }

  /** Stops parsing the current response (its handler gave up on it); the connection is not to be reused. */
  abort(): void {
    this.state = State.Idle;
  }

  /** A handler may complete or abort the response inside execute(): the loop asks again each time. */
  private parsing(): boolean {
    return this.state !== State.Done && this.state !== State.Idle;
  }

  /** True once the response is complete (or before the first start()). */
  get done(): boolean {
    return this.state === State.Done || this.state === State.Idle;
  }

  /** Parses `chunk`; throws ResponseParseError on a malformed response or bytes nobody asked for. */
  execute(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.state === State.Idle || this.state === State.Done) throw new ResponseParseError('the replica sent bytes when no response was expected');
    this.received = true;
    let offset = 0;
    // Stops at the end of the response (bytes after it were reported through onComplete) or when the handler aborted.
    while (offset < chunk.length && this.parsing()) {
      switch (this.state) {
        case State.Head:
          offset = this.head(chunk, offset);
          break;
        case State.Length:
        case State.ChunkData: {
          const take = Math.min(this.remaining, chunk.length - offset);
          this.remaining -= take;
          this.events.onBody(offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take), this.remaining === 0 && this.state === State.Length);
          offset += take;
          if (this.remaining === 0) {
            if (this.state === State.Length) this.complete(chunk.length - offset);
            else this.state = State.ChunkDataEnd;
          }
          break;
        }
        case State.ChunkSize:
        case State.ChunkDataEnd:
        case State.Trailers: {
          const next = this.readLine(chunk, offset);
          if (next < 0) return;
          offset = next;
          this.lineDone(chunk.length - offset);
          break;
        }
        case State.UntilClose:
          this.events.onBody(offset === 0 ? chunk : chunk.subarray(offset), false);
          return;
      }
    }
  }

  /** The connection ended: completes a body that runs to the close; throws if a response was cut short. */
  finish(): void {
    if (this.state === State.UntilClose) return this.complete(0);
    if (this.state !== State.Done && this.state !== State.Idle) throw new ResponseParseError(this.received ? 'the replica closed the connection in the middle of its response' : 'the replica closed the connection without responding');
  }

  private complete(bytesLeft: number): void {
    this.state = State.Done;
    // Bytes after a complete response were never asked for: the connection cannot be trusted with another request.
    this.events.onComplete(this.keepAlive && bytesLeft === 0);
  }

  /** Collects the head; returns the offset after it (or the chunk's end while it is incomplete). */
  private head(chunk: Buffer, offset: number): number {
    if (!this.headBuffer) {
      // Most heads arrive whole in one read and are short: a string search beats Buffer.indexOf's native call.
      const probeEnd = Math.min(chunk.length, offset + HEAD_PROBE_BYTES);
      const probe = chunk.toString('latin1', offset, probeEnd);
      const end = probe.indexOf('\r\n\r\n');
      if (end >= 0) {
        this.parseHead(probe.slice(0, end), chunk.length - (offset + end + 4));
        return offset + end + 4;
      }
    }
    const part = offset === 0 ? chunk : chunk.subarray(offset);
    const buffer = this.headBuffer ? Buffer.concat([this.headBuffer, part]) : part;
    const searchFrom = this.headBuffer ? Math.max(0, this.headBuffer.length - 3) : 0;
    const end = buffer.indexOf(CRLF_CRLF, searchFrom);
    if (end < 0) {
      if (buffer.length > MAX_HEAD_BYTES) throw new ResponseParseError(`the replica's response head is over ${MAX_HEAD_BYTES} bytes`);
      this.headBuffer = Buffer.from(buffer); // a copy: `part` may be a view of a pooled socket buffer
      return chunk.length;
    }
    if (end > MAX_HEAD_BYTES) throw new ResponseParseError(`the replica's response head is over ${MAX_HEAD_BYTES} bytes`);
    const consumedBefore = this.headBuffer ? this.headBuffer.length : 0;
    this.headBuffer = undefined;
    this.parseHead(buffer.toString('latin1', 0, end), chunk.length - (offset + end + 4 - consumedBefore));
    return offset + end + 4 - consumedBefore;
  }

  private parseHead(text: string, bytesLeft: number): void {
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    const statusCode = statusOf(text, eol);
    const raw: string[] = [];
    let contentLength: string | undefined;
    let chunked = false;
    let transferEncoding = false;
    let close = text.charCodeAt(7) === 0x30; // HTTP/1.0
    for (let start = eol + 2; start < text.length; start = eol + 2) {
      eol = text.indexOf('\r\n', start);
      if (eol < 0) eol = text.length;
      const scanned = scanFieldLine(text, start, eol, bounds);
      if (scanned === 'name') throw new ResponseParseError(`the replica sent a malformed header line ${JSON.stringify(text.slice(start, Math.min(eol, start + 80)))}`);
      const name = text.slice(start, bounds.colon);
      if (scanned === 'value') throw new ResponseParseError(`the replica's header "${name}" has an invalid character`);
      const value = text.slice(bounds.from, bounds.to);
      raw.push(name, value);
      switch (name.length) {
        case 10:
          if (name.toLowerCase() === 'connection') for (const t of value.split(',')) if (t.trim().toLowerCase() === 'close') close = true;
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') {
            // Repeated or listed lengths must agree (RFC 9110 §8.6), else the body's end is ambiguous.
            for (const v of value.split(',')) {
              const n = v.trim();
              if (!DECIMAL.test(n) || (contentLength !== undefined && Number(contentLength) !== Number(n))) throw new ResponseParseError(`the replica's content-length "${value}" is invalid`);
              contentLength = n;
            }
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            transferEncoding = true;
            chunked = value.toLowerCase().split(',').at(-1)!.trim() === 'chunked';
          }
          break;
      }
    }
    if (statusCode < 200) {
      // Interim responses (100 Continue, 103 Early Hints) are not passed on: the final one follows on the same connection.
      if (statusCode === 101) throw new ResponseParseError('the replica switched protocols, which the gateway does not proxy');
      this.state = State.Head;
      return;
    }
    this.keepAlive = !close && !(transferEncoding && contentLength !== undefined);
    this.events.onHead(statusCode, raw);
    if (this.state !== State.Head) return; // the handler gave up on this response
    if (this.bodyless || statusCode === 204 || statusCode === 304) return this.complete(bytesLeft);
    if (transferEncoding) {
      if (chunked) this.state = State.ChunkSize;
      else {
        this.keepAlive = false;
        this.state = State.UntilClose;
      }
    } else if (contentLength !== undefined) {
      this.remaining = Number(contentLength);
      this.state = State.Length;
      if (this.remaining === 0) this.complete(bytesLeft);
    } else {
      this.keepAlive = false;
      this.state = State.UntilClose;
    }
  }

  /** Adds to the current line; returns the offset after its LF, or -1 when the chunk ended first. */
  private readLine(chunk: Buffer, offset: number): number {
    const lf = chunk.indexOf(10, offset);
    const end = lf < 0 ? chunk.length : lf;
    if (this.line.length + (end - offset) > MAX_LINE_BYTES) throw new ResponseParseError('the replica sent a chunked-coding line over 8 KiB');
    this.line += chunk.toString('latin1', offset, end);
    return lf < 0 ? -1 : lf + 1;
  }

  private lineDone(bytesLeft: number): void {
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
    this.line = '';
    if (this.state === State.ChunkDataEnd) {
      if (line !== '') throw new ResponseParseError('the replica sent a chunk longer than its size');
      this.state = State.ChunkSize;
    } else if (this.state === State.ChunkSize) {
      const semicolon = line.indexOf(';');
      const size = (semicolon < 0 ? line : line.slice(0, semicolon)).trim();
      if (!HEX_SIZE.test(size)) throw new ResponseParseError(`the replica sent an invalid chunk size ${JSON.stringify(size.slice(0, 20))}`);
      this.remaining = parseInt(size, 16);
      this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
    } else if (line === '') {
      this.complete(bytesLeft);
    } else {
      this.trailerBytes += line.length;
      if (this.trailerBytes > MAX_HEAD_BYTES) throw new ResponseParseError(`the replica's trailer fields are over ${MAX_HEAD_BYTES} bytes`);
    }
  }
}
