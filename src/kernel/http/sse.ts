import type { FastifyReply, FastifyRequest } from 'fastify';

export interface EventStream {
  send(message: { id?: string; event?: string; data: string }): void;
  comment(text: string): void;
  onClose(fn: () => void): void;
  close(): void;
}

/** Bytes a slow client may fall behind before we drop it; it reconnects with Last-Event-ID and loses nothing. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;

/** Every open stream of a server, so shutdown can end them instead of waiting for clients to leave. */
export interface EventStreams {
  open(request: FastifyRequest, reply: FastifyReply): EventStream;
  closeAll(): void;
}

export function createEventStreams(): EventStreams {
  const open = new Set<EventStream>();
  return {
    open(request, reply) {
      const stream = openEventStream(request, reply);
      open.add(stream);
      stream.onClose(() => open.delete(stream));
      return stream;
    },
    closeAll() {
      for (const stream of [...open]) stream.close();
    },
  };
}

/** Takes over the response as a Server-Sent Events stream (one per request, closed with the request). */
function openEventStream(request: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const closers: (() => void)[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    for (const fn of closers) fn();
    res.end();
  };
  const write = (text: string) => {
    if (closed) return;
    res.write(text);
    if (res.writableLength > MAX_BUFFERED_BYTES) close();
  };
  const keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  request.raw.on('close', close);
  res.on('error', close);
  return {
    send({ id, event, data }) {
      let text = '';
      if (id !== undefined) text += `id: ${id}\n`;
      if (event !== undefined) text += `event: ${event}\n`;
      for (const line of data.split('\n')) text += `data: ${line}\n`;
      write(text + '\n');
    },
    comment: (text) => write(`: ${text}\n\n`),
    onClose: (fn) => {
      if (closed) fn();
      else closers.push(fn);
    },
    close,
  };
}
