import { describe, it, expect } from 'vitest';
import { createSseParser, readSse, type SseMessage } from './sse.js';

function parseAll(chunks: string[]): SseMessage[] {
  const parser = createSseParser();
  return chunks.flatMap((c) => parser.feed(c));
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

describe('createSseParser', () => {
  it('parses a message with id, event and data', () => {
    expect(parseAll(['id: 7\nevent: kernel.token.created\ndata: {"seq":7}\n\n'])).toEqual([
      { event: 'kernel.token.created', data: '{"seq":7}', lastEventId: '7' },
    ]);
  });

  it('defaults the event type to "message" and joins data lines with a newline', () => {
    expect(parseAll(['data: one\ndata: two\n\n'])).toEqual([{ event: 'message', data: 'one\ntwo', lastEventId: '' }]);
  });

  it('does not dispatch a message until the blank line arrives', () => {
    const parser = createSseParser();
    expect(parser.feed('data: a\n')).toEqual([]);
    expect(parser.feed('\n')).toEqual([{ event: 'message', data: 'a', lastEventId: '' }]);
  });

  it('handles any chunking, including a field split mid-line', () => {
    const text = 'id: 1\nevent: x\ndata: {"a":1}\n\nid: 2\nevent: y\ndata: {"b":2}\n\n';
    const whole = parseAll([text]);
    const byChar = parseAll([...text]);
    const inTwo = parseAll([text.slice(0, 13), text.slice(13)]);
    expect(whole).toHaveLength(2);
    expect(byChar).toEqual(whole);
    expect(inTwo).toEqual(whole);
  });

  it('accepts CRLF and lone CR line endings, also with CRLF split across chunks', () => {
    const expected = [{ event: 'e', data: 'd', lastEventId: '3' }];
    expect(parseAll(['id: 3\r\nevent: e\r\ndata: d\r\n\r\n'])).toEqual(expected);
    expect(parseAll(['id: 3\revent: e\rdata: d\r\r'])).toEqual(expected);
    expect(parseAll(['id: 3\r', '\nevent: e\r', '\ndata: d\r', '\n\r', '\n'])).toEqual(expected);
  });

  it('ignores comment lines used as keep-alives', () => {
    expect(parseAll([':keep-alive\n\n', ': ping\ndata: x\n\n'])).toEqual([{ event: 'message', data: 'x', lastEventId: '' }]);
  });

  it('strips exactly one leading space from a value', () => {
    expect(parseAll(['data:  two spaces\n\n', 'data:none\n\n'])).toEqual([
      { event: 'message', data: ' two spaces', lastEventId: '' },
      { event: 'message', data: 'none', lastEventId: '' },
    ]);
  });

  it('treats a line without a colon as a field with an empty value', () => {
    expect(parseAll(['data\ndata\n\n'])).toEqual([{ event: 'message', data: '\n', lastEventId: '' }]);
  });

  it('keeps the last event id across messages and updates it even for a message without data', () => {
    const parser = createSseParser();
    expect(parser.feed('id: 5\ndata: a\n\n')[0]?.lastEventId).toBe('5');
    expect(parser.feed('data: b\n\n')[0]?.lastEventId).toBe('5');
    expect(parser.feed('id: 9\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('9');
  });

  it('ignores an id containing NUL', () => {
    const parser = createSseParser();
    parser.feed('id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n');
    expect(parser.lastEventId).toBe('1');
  });

  it('reads retry only when it is all digits', () => {
    const parser = createSseParser();
    parser.feed('retry: 2500\n\n');
    expect(parser.retryMs).toBe(2500);
    parser.feed('retry: soon\n\n');
    expect(parser.retryMs).toBe(2500);
  });

  it('drops a leading byte order mark and ignores unknown fields', () => {
    expect(parseAll(['\uFEFFdata: x\nfoo: bar\n\n'])).toEqual([{ event: 'message', data: 'x', lastEventId: '' }]);
  });

  it('resets the event type after each dispatch', () => {
    expect(parseAll(['event: a\ndata: 1\n\ndata: 2\n\n']).map((m) => m.event)).toEqual(['a', 'message']);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 split across chunks and yields each message', async () => {
    const bytes = new TextEncoder().encode('id: 1\ndata: {"name":"café ☕"}\n\n: ka\n\nid: 2\ndata: b\n\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three-byte "☕"
    const messages: SseMessage[] = [];
    for await (const m of readSse(streamOf([bytes.slice(0, cut), bytes.slice(cut)]))) messages.push(m);
    expect(messages).toEqual([
      { event: 'message', data: '{"name":"café ☕"}', lastEventId: '1' },
      { event: 'message', data: 'b', lastEventId: '2' },
    ]);
  });

  it('discards an incomplete message at the end of the stream', async () => {
    const messages: SseMessage[] = [];
    for await (const m of readSse(streamOf([new TextEncoder().encode('data: done\n\ndata: partial\n')]))) messages.push(m);
    expect(messages.map((m) => m.data)).toEqual(['done']);
  });
});
