import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/helpers/app.js';

// `/healthz` over a real socket is answered by the kernel's front end before node:http parses the
// request (server.ts): the same answer as the route, counted in the same metric. Every other request
// goes to node:http and Fastify with its connection.

/** Sends `bytes` on one connection and resolves with everything the server sent back until it closed. */
function exchange(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes, 'latin1'));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

const statusLines = (text: string): string[] => text.match(/HTTP\/1\.1 \d{3} [^\r]*/g) ?? [];

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ dialect: 'sqlite', listen: true });
});
afterAll(async () => {
  await t?.close();
});

const healthzCount = async (method: string): Promise<number> => {
  const text = await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`plinth_http_request_duration_seconds_count{method="${method}",route="/healthz",status_code="200"}`));
  return line ? Number(line.split(' ').pop()) : 0;
};

describe('/healthz over HTTP', () => {
  it('answers as the route does: body, content type, request id, security headers, and the metric', async () => {
    const [getsBefore, headsBefore] = [await healthzCount('GET'), await healthzCount('HEAD')];
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'probe-7.a_b' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-request-id')).toBe('probe-7.a_b');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    const generated = (await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'not a token' } })).headers.get('x-request-id');
    expect(generated).toMatch(/^[A-Za-z0-9_-]+-[0-9a-z]+$/);
    const head = await fetch(`${t.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(await healthzCount('GET')).toBe(getsBefore + 2);
    expect(await healthzCount('HEAD')).toBe(headsBefore + 1);
  });

  it('leaves every other request to the router: a query string, another method, another path', async () => {
    expect(await (await fetch(`${t.url}/healthz?verbose=1`)).json()).toEqual({ status: 'ok' });
    const post = await fetch(`${t.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(await post.json()).toMatchObject({ error: { message: 'no route for POST /healthz' } });
    // Another path is the portal's (its index page for client-side routes), never the liveness answer.
    expect(await (await fetch(`${t.url}/healthzz`)).text()).not.toContain('"status":"ok"');
  });

  it('serves pipelined probes in order, then hands the connection to node:http at the first other request', async () => {
    const probe = 'GET /healthz HTTP/1.1\r\nHost: plinth\r\n\r\n';
    const text = await exchange(
      t.url,
      `${probe}HEAD /healthz HTTP/1.1\r\nHost: plinth\r\nX-Request-Id: a\r\nx-request-id: b\r\n\r\n${probe}` +
        `GET /api/status HTTP/1.1\r\nHost: plinth\r\nAuthorization: Bearer ${t.adminToken}\r\n\r\n${probe}` +
        'GET /healthz HTTP/1.1\r\nHost: plinth\r\nConnection: close\r\n\r\n',
    );
    expect(statusLines(text)).toEqual(Array(6).fill('HTTP/1.1 200 OK'));
    const responses = text.split(/(?=HTTP\/1\.1 200 OK\r\n)/);
    expect(responses[0]).toMatch(/\r\ncontent-length: 15\r\n[\s\S]*\r\ndate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n\r\n\{"status":"ok"\}$/);
    // Two request ids are none: a generated one, as node:http's joined value would give.
    expect(responses[1]).toMatch(/\r\nx-request-id: [A-Za-z0-9_-]+-[0-9a-z]+\r\n[\s\S]*\r\n\r\n$/);
    expect(JSON.parse(responses[3]!.split('\r\n\r\n')[1]!)).toMatchObject({ dialect: 'sqlite', queue: expect.any(Object) });
    // After the handover node:http and Fastify answer the probes of that connection, with the same body.
    expect(responses[4]).toMatch(/\{"status":"ok"\}$/);
    expect(responses[5]).toMatch(/\r\nconnection: close\r\n[\s\S]*\{"status":"ok"\}$/i);
  });

  it('leaves malformed and unusual requests to node:http, which refuses or serves them as before', async () => {
    const smuggled = await exchange(t.url, 'GET /healthz HTTP/1.1\r\nHost: plinth\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect(statusLines(smuggled)).toEqual(['HTTP/1.1 400 Bad Request']);
    const folded = await exchange(t.url, 'GET /healthz HTTP/1.1\r\nHost: plinth\r\nX-A: 1\r\n 2\r\n\r\n');
    expect(statusLines(folded)).toEqual(['HTTP/1.1 400 Bad Request']);
    const old = await exchange(t.url, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(statusLines(old)).toEqual(['HTTP/1.1 200 OK']);
    expect(old).toMatch(/\{"status":"ok"\}$/);
  });
});

describe('/healthz while the server closes', () => {
  it('closes idle probe connections at once: they do not hold the server open', async () => {
    const app = await startTestApp({ dialect: 'sqlite', listen: true });
    const { port } = new URL(app.url);
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: plinth\r\n\r\n');
    await expect.poll(() => text).toMatch(/\{"status":"ok"\}$/);
    // The kept-alive probe connection does not hold the server open for its 72 s keep-alive.
    const started = performance.now();
    await app.close();
    await closed;
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(statusLines(text)).toEqual(['HTTP/1.1 200 OK']);
  });
});

