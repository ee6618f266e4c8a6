import { describe, expect, it } from 'vitest';
import { parseRequestHead } from './request-head.js';

const head = (...lines: string[]): string => lines.join('\r\n');

describe('parseRequestHead (the front end\'s plain requests)', () => {
  it('takes a plain HTTP/1.1 request: method, target, fields as sent, and whether to close', () => {
    const r = parseRequestHead(head('GET /a/b?x=1&y=%20 HTTP/1.1', 'Host: web.prod.localhost', 'Cookie: a=1', 'cookie: plinth-release=r2', 'X-Plinth-Canary: always', 'Connection: keep-alive, X-Secret', 'X-Secret: s', 'Accept:  */* \t'));
    expect(r).toMatchObject({ method: 'GET', url: '/a/b?x=1&y=%20', close: false });
    expect(r!.rawHeaders).toEqual(['Host', 'web.prod.localhost', 'Cookie', 'a=1', 'cookie', 'plinth-release=r2', 'X-Plinth-Canary', 'always', 'Connection', 'keep-alive, X-Secret', 'X-Secret', 's', 'Accept', '*/*']);
    expect(parseRequestHead(head('DELETE / HTTP/1.1', 'host: a', 'Connection: close'))).toMatchObject({ method: 'DELETE', close: true });
    // Values may carry obs-text (bytes 0x80–0xFF read as latin1), as llhttp allows.
    expect(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'X-Name: caf\u00e9'))?.rawHeaders).toEqual(['Host', 'a', 'X-Name', 'caf\u00e9']);
  });

  it.each([
    ['a body by length', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5')],
    ['a zero length (still a Content-Length to judge)', head('GET / HTTP/1.1', 'Host: a', 'content-length: 0')],
    ['a chunked body', head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked')],
    ['both framings (the smuggling classic)', head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 4', 'Transfer-Encoding: chunked')],
    ['Expect: 100-continue', head('PUT / HTTP/1.1', 'Host: a', 'Expect: 100-continue')],
    ['an Upgrade field', head('GET / HTTP/1.1', 'Host: a', 'Upgrade: websocket')],
    ['Connection: upgrade', head('GET / HTTP/1.1', 'Host: a', 'Connection: Upgrade')],
    ['HTTP/1.0', head('GET / HTTP/1.0', 'Host: a')],
    ['HTTP/2 in a request line', head('GET / HTTP/2.0', 'Host: a')],
    ['no version', 'GET /'],
    ['an absolute-form target', head('GET http://a/ HTTP/1.1', 'Host: a')],
    ['an asterisk target', head('OPTIONS * HTTP/1.1', 'Host: a')],
    ['an unknown method', head('PROPFIND / HTTP/1.1', 'Host: a')],
    ['a lower-case method', head('get / HTTP/1.1', 'Host: a')],
    ['CONNECT', head('CONNECT a:443 HTTP/1.1', 'Host: a')],
    ['two spaces in the request line', head('GET  / HTTP/1.1', 'Host: a')],
    ['a space in the target', head('GET /a b HTTP/1.1', 'Host: a')],
    ['a control character in the target', head('GET /a\u0001 HTTP/1.1', 'Host: a')],
    ['a non-ASCII target', head('GET /caf\u00e9 HTTP/1.1', 'Host: a')],
    ['no Host', 'GET / HTTP/1.1'],
    ['two Hosts', head('GET / HTTP/1.1', 'Host: a', 'Host: b')],
    ['a folded line', head('GET / HTTP/1.1', 'Host: a', 'X-A: 1', ' 2')],
    ['a space before the colon', head('GET / HTTP/1.1', 'Host : a')],
    ['a line without a colon', head('GET / HTTP/1.1', 'Host: a', 'nonsense')],
    ['an empty name', head('GET / HTTP/1.1', 'Host: a', ': v')],
    ['a bare LF inside a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: 1\nX-B: 2')],
    ['a bare CR inside a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: 1\rX-B: 2')],
    ['a bare LF ending the request line', 'GET / HTTP/1.1\nHost: a'],
    ['a NUL in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: 1\u00002')],
    ['DEL in a value', head('GET / HTTP/1.1', 'Host: a', 'X-A: 1\u007f')],
    ['a leading empty line', head('', 'GET / HTTP/1.1', 'Host: a')],
    ['nothing', ''],
  ])('leaves %s to node:http', (_what, text) => {
    expect(parseRequestHead(text)).toBeUndefined();
  });
});
