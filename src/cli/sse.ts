/**
 * A Server-Sent Events parser following the WHATWG "event stream interpretation" rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end in CRLF, LF or CR; `:` starts a comment (keep-alive); `data` lines join with "\n";
 * a blank line dispatches; an `id` containing NUL is ignored; `retry` takes digits only.
 */
export interface SseMessage {
  /** `event:` field, "message" when absent. */
  event: string;
  data: string;
  /** The last event id seen so far in the stream (the spec's "last event ID buffer"). */
  lastEventId: string;
}

export interface SseParser {
  /** Feeds decoded text (any chunking) and returns the messages completed by it. */
  feed(text: string): SseMessage[];
  /** The id of the last message received; send it as `Last-Event-ID` when reconnecting. */
  readonly lastEventId: string;
  /** The reconnection delay the server asked for with `retry:`, if any. */
  readonly retryMs: number | undefined;
}

export function createSseParser(): SseParser {
  let buffer = '';
  let first = true;
  // A CR at the very end of a chunk may be the first half of a CRLF split across chunks.
  let pendingCr = false;
  let data: string[] = [];
  let event = '';
  let idBuffer = '';
  let lastEventId = '';
  let retryMs: number | undefined;

  function processLine(line: string, out: SseMessage[]): void {
    if (line === '') {
      lastEventId = idBuffer;
      if (data.length > 0) out.push({ event: event === '' ? 'message' : event, data: data.join('\n'), lastEventId });
      data = [];
      event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        data.push(value);
        break;
      case 'event':
        event = value;
        break;
      case 'id':
        if (!value.includes('\0')) idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored by the spec.
        break;
    }
  }

  return {
    feed(text: string): SseMessage[] {
      const out: SseMessage[] = [];
      let chunk = text;
      if (pendingCr) {
        pendingCr = false;
        if (chunk.startsWith('\n')) chunk = chunk.slice(1);
      }
      if (first && chunk.length > 0) {
        first = false;
        if (chunk.startsWith('\uFEFF')) chunk = chunk.slice(1);
      }
      buffer += chunk;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== '\n' && c !== '\r') continue;
        processLine(buffer.slice(start, i), out);
        if (c === '\r') {
          if (i + 1 === buffer.length) pendingCr = true;
          else if (buffer[i + 1] === '\n') i++;
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
      return out;
    },
    get lastEventId() {
      return lastEventId;
    },
    get retryMs() {
      return retryMs;
    },
  };
}

/** Reads an event stream body, yielding each message; ends with the stream (aborting the fetch rejects the read). */
export async function* readSse(body: ReadableStream<Uint8Array>, parser: SseParser = createSseParser()): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder('utf-8');
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
    // An incomplete message at the end of the stream is discarded, as the spec says.
    parser.feed(decoder.decode());
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
