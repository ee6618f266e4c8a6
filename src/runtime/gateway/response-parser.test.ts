import { describe, expect, it } from 'vitest';
import { ResponseParseError, ResponseParser } from './response-parser.js';

interface Parsed {
  status: number | undefined;
  headers: string[];
  body: string;
  completions: boolean[];
}

/** Feeds `wire` to a parser in pieces cut at `cuts`; what the parser reported. */
function parse(wire: string, options: { method?: string; cuts?: number[]; end?: boolean } = {}): Parsed {
  const out: Parsed = { status: undefined, headers: [], body: '', completions: [] };
  const parser = new ResponseParser({
    onHead: (status, raw) => {
      out.status = status;
      out.headers = raw;
    },
    onBody: (chunk) => (out.body += chunk.toString('latin1')),
    onComplete: (reusable) => out.completions.push(reusable),
  });
  parser.start(options.method ?? 'GET');
  const bytes = Buffer.from(wire, 'latin1');
  let from = 0;
  for (const cut of [...(options.cuts ?? []), bytes.length]) {
    parser.execute(bytes.subarray(from, cut));
    from = cut;
  }
  if (options.end) parser.finish();
  return out;
}

const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A:  spaced value \t\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n';

describe('ResponseParser', () => {
  it('parses a chunked body with extensions and trailers, cut at every byte', () => {
    for (let cut = 1; cut < chunked.length; cut++) {
      const r = parse(chunked, { cuts: [cut] });
      expect(r, `cut at ${cut}`).toEqual({ status: 200, headers: ['Transfer-Encoding', 'chunked', 'X-A', 'spaced value'], body: 'hello, world', completions: [true] });
    }
    // One byte at a time too.
    const bytewise = parse(chunked, { cuts: Array.from({ length: chunked.length - 1 }, (_, i) => i + 1) });
    expect(bytewise.body).toBe('hello, world');
    expect(bytewise.completions).toEqual([true]);
  });

  it('frames by content-length, and says a connection with extra bytes or Connection: close is not reusable', () => {
    expect(parse('HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc')).toMatchObject({ status: 201, body: 'abc', completions: [true] });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA')).toMatchObject({ body: 'abc', completions: [false] });
    expect(parse('HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ completions: [false] });
    expect(parse('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx')).toMatchObject({ completions: [false] });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok')).toMatchObject({ body: 'ok', completions: [true] });
  });

  it('reads a body without length to the end of the connection', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', { cuts: [30], end: true });
    expect(r).toMatchObject({ status: 200, body: 'until the end', completions: [false] });
  });

  it('expects no body for HEAD, 204 and 304, and skips interim 1xx responses', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { method: 'HEAD' })).toMatchObject({ status: 200, body: '', completions: [true] });
    expect(parse('HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ status: 204, completions: [true] });
    expect(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n')).toMatchObject({ status: 304, completions: [true] });
    expect(parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { cuts: [10, 30] })).toMatchObject({
      status: 200,
      headers: ['Content-Length', '2'],
      body: 'ok',
      completions: [true],
    });
  });

  it('refuses malformed responses with a message naming the problem', () => {
    const bad: [string, RegExp][] = [
      ['HTTP/2 200 OK\r\n\r\n', /status line "HTTP\/2 200 OK" is not HTTP\/1\.x/],
      ['HTTP/1.1 20 OK\r\n\r\n', /status line/],
      ['HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /malformed header line "Bad Name: x"/],
      ['HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\n\r\n', /malformed header line " folded"/],
      ['HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n', /header "X-A" has an invalid character/],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc', /content-length "3" is invalid/],
      ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /content-length "-1" is invalid/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size "zz"/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n', /chunk longer than its size/],
      ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /switched protocols/],
    ];
    for (const [wire, message] of bad) expect(() => parse(wire), JSON.stringify(wire)).toThrow(message);
    expect(() => parse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`)).toThrow(/head is over 65536 bytes/);
  });

  it('reports a connection closed mid-response, and bytes nobody asked for', () => {
    expect(() => parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', { end: true })).toThrow(/closed the connection in the middle of its response/);
    const parser = new ResponseParser({ onHead: () => undefined, onBody: () => undefined, onComplete: () => undefined });
    parser.start('GET');
    expect(() => parser.finish()).toThrow(/closed the connection without responding/);
    parser.start('GET');
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(() => parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n'))).toThrow(ResponseParseError);
  });
});
