import { connect, type Socket } from 'node:net';
import { ResponseParser, type ResponseEvents } from './response-parser.js';

/** Where a connection goes: one replica. */
export interface UpstreamAddress {
  host: string;
  port: number;
}

/** The one exchange a connection carries at a time: what it hears from the replica. */
export interface UpstreamExchange extends ResponseEvents {
  /** The connection failed or ended before the response was complete. */
  onUpstreamError(err: NodeJS.ErrnoException): void;
  /** The replica accepted the connection (or it was already open). */
  onConnected(): void;
  /** The socket wants more request body bytes again. */
  onUpstreamDrain(): void;
}

/**
 * One kept-alive connection to a replica, listened to once for its whole life: each exchange only
 * swaps `exchange`, so a request costs no listener or closure on the socket.
 */
export class UpstreamConnection implements ResponseEvents {
  readonly socket: Socket;
  readonly parser: ResponseParser;
  exchange: UpstreamExchange | undefined;
  /** Requests sent on this connection before the current one: a failure on a reused connection may be a stale socket. */
  served = 0;
  connected = false;
  /** The request (head and body) is fully written. */
  requestDone = false;

  constructor(
    private readonly pool: UpstreamPool,
    readonly key: string,
    address: UpstreamAddress,
  ) {
    this.parser = new ResponseParser(this);
    this.socket = connect({ host: address.host, port: address.port, noDelay: true });
    this.socket.on('connect', () => {
      this.connected = true;
      this.exchange?.onConnected();
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('drain', () => this.exchange?.onUpstreamDrain());
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    this.socket.on('close', () => {
      this.pool.forget(this);
      this.fail(Object.assign(new Error('the replica closed the connection'), { code: 'ECONNRESET' }));
    });
  }

  /** Starts an exchange: the caller writes the request head next, and its body once `connected` (or onConnected). */
  begin(exchange: UpstreamExchange, method: string): void {
    this.exchange = exchange;
    this.requestDone = false;
    this.parser.start(method);
  }

  /** The request's last byte is written. */
  endRequest(): void {
    this.requestDone = true;
  }

  /** The exchange gives up (its client went away): the connection is closed, never reused. */
  abort(): void {
    this.exchange = undefined;
    this.parser.abort();
    this.socket.destroy();
  }

  onHead(statusCode: number, rawHeaders: string[]): void {
    this.exchange?.onHead(statusCode, rawHeaders);
  }

  onBody(chunk: Buffer, last: boolean): void {
    this.exchange?.onBody(chunk, last);
  }

  onComplete(reusable: boolean): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.served += 1;
    // A response complete before its request (an early 413) leaves the rest of the body unsent: the connection is closed.
    if (reusable && this.requestDone) this.pool.release(this);
    else this.socket.destroy();
    exchange?.onComplete(reusable);
  }

  private onData(chunk: Buffer): void {
    try {
      this.parser.execute(chunk);
    } catch (err) {
      // A malformed response, or bytes on an idle connection: neither the exchange nor the connection can go on.
      const exchange = this.exchange;
      this.exchange = undefined;
      this.socket.destroy();
      exchange?.onUpstreamError(Object.assign(err instanceof Error ? err : new Error(String(err)), { code: 'EPROTO' }));
    }
  }

  private onEnd(): void {
    try {
      this.parser.finish();
      this.socket.end();
    } catch (err) {
      this.fail(Object.assign(err instanceof Error ? err : new Error(String(err)), { code: 'ECONNRESET' }));
    }
  }

  private fail(err: NodeJS.ErrnoException): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.pool.forget(this);
    this.socket.destroy();
    exchange?.onUpstreamError(err);
  }
}

/** Kept-alive connections per replica, the most recently used first ('lifo', as node:http's agent was set up). */
export class UpstreamPool {
  private readonly idle = new Map<string, UpstreamConnection[]>();
  /** After destroy(): connections that finish their exchange are closed, not kept. */
  private closed = false;

  constructor(private readonly maxFreeSockets: number) {}

  /** An idle connection to the replica, or a new one (connecting). */
  acquire(address: UpstreamAddress): UpstreamConnection {
    const key = `${address.host}:${address.port}`;
    const free = this.idle.get(key);
    return free?.pop() ?? new UpstreamConnection(this, key, address);
  }

  /** A new connection to the replica, whatever is idle (after a kept-alive one turned out closed). */
  connect(address: UpstreamAddress): UpstreamConnection {
    return new UpstreamConnection(this, `${address.host}:${address.port}`, address);
  }

  release(connection: UpstreamConnection): void {
    let free = this.idle.get(connection.key);
    if (!free) this.idle.set(connection.key, (free = []));
    if (this.closed || free.length >= this.maxFreeSockets || connection.socket.destroyed) {
      connection.socket.destroy();
      return;
    }
    // An idle connection reads, even after a slow client paused it, so that its closing (or bytes nobody asked
    // for) is noticed. It is not unref'd as node:http's agent does: the gateway's listening server keeps the
    // process alive anyway, close() destroys the idle ones, and ref()/unref() per request measurably cost.
    if (connection.socket.isPaused()) connection.socket.resume();
    free.push(connection);
  }

  /** Drops a connection that closed or failed from the idle list. */
  forget(connection: UpstreamConnection): void {
    const free = this.idle.get(connection.key);
    const at = free ? free.indexOf(connection) : -1;
    if (at >= 0) free!.splice(at, 1);
    if (free?.length === 0) this.idle.delete(connection.key);
  }

  /** Keeps connections again (a gateway listening anew after close()). */
  reopen(): void {
    this.closed = false;
  }

  destroy(): void {
    this.closed = true;
    for (const free of this.idle.values()) for (const c of free) c.socket.destroy();
    this.idle.clear();
  }
}
