import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/helpers/app.js';

// `/healthz` over a real socket is answered before Fastify routes it (server.ts, answerHealthz): the
// same answer as the route, counted in the same metric.

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
});
