import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../../../test/helpers/app.js';
import { testDialects } from '../../../test/helpers/dialects.js';
import { manualClock } from '../../../test/helpers/kernel.js';

const dialects = await testDialects();

interface ErrorBodyShape {
  error: { name: string; message: string };
  request: { method: string; url: string };
  response: { statusCode: number };
}

describe.each(dialects)('kernel HTTP API on %s', (dialect) => {
  const clock = manualClock(new Date());
  let t: TestApp;
  let member: { id: string; token: string };
  let viewer: { id: string; token: string };
  const inject = (opts: InjectOptions) => t.app.server.inject(opts);
  const asAdmin = (opts: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: unknown; headers?: Record<string, string> }) =>
    inject({ ...opts, payload: opts.payload as InjectOptions['payload'], headers: { authorization: `Bearer ${t.adminToken}`, ...opts.headers } });
  const expectError = (res: { statusCode: number; json(): unknown }, status: number, name: string, message?: RegExp) => {
    expect(res.statusCode).toBe(status);
    const body = res.json() as ErrorBodyShape;
    expect(body.error.name).toBe(name);
    expect(body.response.statusCode).toBe(status);
    expect(body.request.method).toBeTruthy();
    if (message) expect(body.error.message).toMatch(message);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
  };

  beforeAll(async () => {
    t = await startTestApp({ dialect, clock });
    member = await t.createUser('mia', 'member');
    viewer = await t.createUser('vic', 'viewer');
  });
  afterAll(() => t?.close());

  describe('health', () => {
    it('answers /healthz and /readyz without credentials', async () => {
      expect((await inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      const ready = await inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', migrations: 'ok' } });
      expect((await inject({ method: 'GET', url: '/healthz', headers: { authorization: 'Bearer nonsense' } })).statusCode).toBe(200);
    });
    it('serves metrics and status to signed-in callers only', async () => {
      expectError(await inject({ method: 'GET', url: '/metrics' }), 401, 'AuthenticationError');
      const metrics = await asAdmin({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/plinth_http_request_duration_seconds_bucket/);
      expect(metrics.body).toMatch(/plinth_job_queue_depth\{state="queued"\}/);
      expect(metrics.body).toMatch(/plinth_ledger_events_appended_total/);
      const status = await asAdmin({ method: 'GET', url: '/api/status' });
      expect(status.json()).toMatchObject({ dialect, queue: { queued: expect.any(Number) }, ledger: { lastSeq: expect.any(Number) } });
    });
    it('counts every request in the latency histogram by route, method and status', async () => {
      const count = async (labels: string) => {
        const body = (await asAdmin({ method: 'GET', url: '/metrics' })).body;
        const line = body.split('\n').find((l) => l.startsWith(`plinth_http_request_duration_seconds_count{${labels}}`));
        return line ? Number(line.split(' ').pop()) : 0;
      };
      const healthz = 'method="GET",route="/healthz",status_code="200"';
      const unauthorized = 'method="GET",route="/api/users",status_code="401"';
      const [healthzBefore, unauthorizedBefore] = [await count(healthz), await count(unauthorized)];
      for (let i = 0; i < 3; i++) await inject({ method: 'GET', url: '/healthz' });
      await inject({ method: 'GET', url: '/api/users' });
      expect(await count(healthz)).toBe(healthzBefore + 3);
      expect(await count(unauthorized)).toBe(unauthorizedBefore + 1);
      const body = (await asAdmin({ method: 'GET', url: '/metrics' })).body;
      expect(body).toMatch(/^# TYPE plinth_http_request_duration_seconds histogram$/m);
      expect(body).toMatch(/^plinth_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/healthz",status_code="200"\} \d+$/m);
    });
    it('gives every response a request id and the security headers, keeping a caller\u2019s plain id', async () => {
      const [a, b] = [await inject({ method: 'GET', url: '/healthz' }), await inject({ method: 'GET', url: '/api/users' })];
      for (const res of [a, b]) {
        expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{8,}$/);
        expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'same-origin' });
      }
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
      expect((await inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'lb-42.a_b' } })).headers['x-request-id']).toBe('lb-42.a_b');
      expect((await inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'not ok\u00e9' } })).headers['x-request-id']).not.toMatch(/not ok/);
    });
    it('answers public routes whatever cookie comes along, and still needs credentials for the API', async () => {
      expect((await inject({ method: 'GET', url: '/healthz', headers: { cookie: 'plinth_session=forged; other=1' } })).statusCode).toBe(200);
      expectError(await inject({ method: 'GET', url: '/api/users', headers: { cookie: 'other=1' } }), 401, 'AuthenticationError', /authentication required/);
      expectError(await inject({ method: 'GET', url: '/metrics?x=1' }), 401, 'AuthenticationError');
    });
    it('publishes an OpenAPI document and a browsable reference', async () => {
      const doc = (await asAdmin({ method: 'GET', url: '/api/openapi.json' })).json() as { openapi: string; paths: Record<string, unknown> };
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/auth/login', '/api/users', '/api/events', '/api/jobs/{id}']));
      const ui = await asAdmin({ method: 'GET', url: '/api/reference/' });
      expect(ui.statusCode).toBe(200);
      expect(ui.body).toMatch(/swagger/i);
    });
  });

  describe('sessions', () => {
    it('logs in with a session cookie that is httpOnly and SameSite', async () => {
      const res = await inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
      expect(res.statusCode).toBe(200);
      const setCookie = String(res.headers['set-cookie']);
      expect(setCookie).toMatch(/plinth_session=/);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      expect(res.json()).toMatchObject({ user: { username: 'admin', role: 'platform-admin' }, csrfToken: expect.any(String) });
      expect(JSON.stringify(res.json())).not.toMatch(/password/i);
    });
    it('refuses a wrong password with the same message as an unknown user', async () => {
      const wrong = await inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: 'nope-nope' } });
      const unknown = await inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'ghost', password: 'nope-nope' } });
      expectError(wrong, 401, 'AuthenticationError', /wrong username or password/);
      expectError(unknown, 401, 'AuthenticationError', /wrong username or password/);
    });
    it('requires the CSRF token on state-changing requests from a session', async () => {
      const s = await t.login('admin', ADMIN_PASSWORD);
      const without = await inject({ method: 'POST', url: '/api/auth/tokens', headers: { cookie: s.cookie }, payload: { name: 'x' } });
      expectError(without, 403, 'NotAllowedError', /x-csrf-token/);
      const wrong = await inject({ method: 'POST', url: '/api/auth/tokens', headers: { cookie: s.cookie, 'x-csrf-token': 'forged' }, payload: { name: 'x' } });
      expectError(wrong, 403, 'NotAllowedError');
      const ok = await inject({ method: 'POST', url: '/api/auth/tokens', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, payload: { name: 'x' } });
      expect(ok.statusCode).toBe(201);
      const me = await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: s.cookie } });
      expect(me.json()).toMatchObject({ authMethod: 'session', csrfToken: s.csrfToken });
    });
    it('ends a session on logout and when it idles out', async () => {
      const s = await t.login('admin', ADMIN_PASSWORD);
      const out = await inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } });
      expect(out.statusCode).toBe(204);
      expectError(await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: s.cookie } }), 401, 'AuthenticationError');
      const s2 = await t.login('admin', ADMIN_PASSWORD);
      clock.advance(13 * 3600 * 1000);
      expectError(await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: s2.cookie } }), 401, 'AuthenticationError', /session expired/);
    });
    it('rate-limits repeated failed logins with Retry-After', async () => {
      let res;
      for (let i = 0; i < 11; i++) {
        res = await inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '10.9.9.9', payload: { username: 'mia', password: 'bad-password' } });
      }
      expectError(res!, 429, 'TooManyRequestsError', /too many failed logins/);
      expect(Number(res!.headers['retry-after'])).toBeGreaterThan(0);
      // The right password from that address still waits: guessing is what is limited.
      const right = await inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '10.9.9.9', payload: { username: 'mia', password: 'mia-password' } });
      expect(right.statusCode).toBe(429);
    });
  });

  describe('API tokens', () => {
    it('creates a scoped token whose secret is shown once and stored hashed', async () => {
      const created = await inject({ method: 'POST', url: '/api/auth/tokens', headers: { authorization: `Bearer ${member.token}` }, payload: { name: 'ci', scopes: ['read'] } });
      expect(created.statusCode).toBe(201);
      const { token, secret } = created.json() as { token: { id: string; prefix: string }; secret: string };
      expect(secret.startsWith(token.prefix)).toBe(true);
      const list = (await inject({ method: 'GET', url: '/api/auth/tokens', headers: { authorization: `Bearer ${member.token}` } })).json() as { items: object[] };
      expect(JSON.stringify(list)).not.toContain(secret);
      // A read-only token can read but not write.
      expect((await inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${secret}` } })).json()).toMatchObject({ scopes: ['read'] });
      expectError(
        await inject({ method: 'POST', url: '/api/auth/tokens', headers: { authorization: `Bearer ${secret}` }, payload: { name: 'escalate', scopes: ['write'] } }),
        403,
        'NotAllowedError',
        /exceed/,
      );
    });
    it('refuses scopes beyond the user\u2019s role', async () => {
      expectError(
        await inject({ method: 'POST', url: '/api/auth/tokens', headers: { authorization: `Bearer ${viewer.token}` }, payload: { name: 'x', scopes: ['write'] } }),
        403,
        'NotAllowedError',
      );
    });
    it('stops accepting a revoked or expired token', async () => {
      const created = (await inject({ method: 'POST', url: '/api/auth/tokens', headers: { authorization: `Bearer ${member.token}` }, payload: { name: 'short', expiresInDays: 1 } })).json() as {
        token: { id: string };
        secret: string;
      };
      const revoked = (await inject({ method: 'POST', url: '/api/auth/tokens', headers: { authorization: `Bearer ${member.token}` }, payload: { name: 'gone' } })).json() as {
        token: { id: string };
        secret: string;
      };
      // Both are used first, so their principals sit in the token cache when they stop being valid.
      for (const secret of [created.secret, revoked.secret]) expect((await inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${secret}` } })).statusCode).toBe(200);
      expect((await inject({ method: 'DELETE', url: `/api/auth/tokens/${revoked.token.id}`, headers: { authorization: `Bearer ${member.token}` } })).statusCode).toBe(204);
      expectError(await inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${revoked.secret}` } }), 401, 'AuthenticationError', /revoked/);
      clock.advance(2 * 86_400_000);
      expectError(await inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${created.secret}` } }), 401, 'AuthenticationError', /expired/);
    });
    it('does not let a member revoke someone else\u2019s token', async () => {
      const other = (await asAdmin({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'admin-own' } })).json() as { token: { id: string } };
      expectError(await inject({ method: 'DELETE', url: `/api/auth/tokens/${other.token.id}`, headers: { authorization: `Bearer ${member.token}` } }), 403, 'NotAllowedError');
      const all = (await asAdmin({ method: 'GET', url: '/api/auth/tokens?all=true' })).json() as { items: { username: string }[] };
      expect(new Set(all.items.map((i) => i.username))).toEqual(new Set(['admin', 'mia', 'vic']));
      expectError(await inject({ method: 'GET', url: '/api/auth/tokens?all=true', headers: { authorization: `Bearer ${member.token}` } }), 403, 'NotAllowedError');
    });
  });

  describe('users', () => {
    it('lets admins create, list and change users; others may not', async () => {
      const created = await asAdmin({ method: 'POST', url: '/api/users', payload: { username: 'neo', role: 'viewer', password: 'neo-password', email: 'neo@example.com' } });
      expect(created.statusCode).toBe(201);
      const neo = created.json() as { id: string };
      expect(created.json()).toMatchObject({ username: 'neo', role: 'viewer', email: 'neo@example.com', disabled: false });
      expect(JSON.stringify(created.json())).not.toMatch(/hash|password/i);
      const patched = await asAdmin({ method: 'PATCH', url: `/api/users/${neo.id}`, payload: { role: 'member', disabled: true } });
      expect(patched.json()).toMatchObject({ role: 'member', disabled: true });
      expectError(await inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'neo', password: 'neo-password' } }), 401, 'AuthenticationError', /disabled/);
      expectError(await asAdmin({ method: 'POST', url: '/api/users', payload: { username: 'neo', password: 'xxxxxxxx' } }), 409, 'ConflictError', /taken/);
      expectError(await inject({ method: 'GET', url: '/api/users', headers: { authorization: `Bearer ${member.token}` } }), 403, 'NotAllowedError', /platform-admin/);
      expectError(await asAdmin({ method: 'PATCH', url: '/api/users/00000000-0000-0000-0000-000000000000', payload: { role: 'member' } }), 404, 'NotFoundError');
    });
    it('keeps an admin from locking themselves out', async () => {
      const me = (await asAdmin({ method: 'GET', url: '/api/auth/me' })).json() as { user: { id: string } };
      expectError(await asAdmin({ method: 'PATCH', url: `/api/users/${me.user.id}`, payload: { disabled: true } }), 403, 'NotAllowedError');
    });
  });

  describe('bad input', () => {
    it('answers malformed JSON with an InputError', async () => {
      const res = await inject({ method: 'POST', url: '/api/users', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' }, payload: '{"username": ' });
      expectError(res, 400, 'InputError', /malformed JSON/);
    });
    it('names the field with the wrong type or an unknown field', async () => {
      expectError(await asAdmin({ method: 'POST', url: '/api/users', payload: { username: 42, password: 'xxxxxxxxx' } }), 400, 'InputError', /body\.username/);
      expectError(await asAdmin({ method: 'POST', url: '/api/users', payload: { username: 'ok', password: 'xxxxxxxxx', isAdmin: true } }), 400, 'InputError', /isAdmin/);
      expectError(await asAdmin({ method: 'POST', url: '/api/users', payload: { username: 'Bad Name', password: 'xxxxxxxxx' } }), 400, 'InputError', /lowercase/);
      expectError(await asAdmin({ method: 'GET', url: '/api/events?limit=100000' }), 400, 'InputError', /limit/);
      expectError(await asAdmin({ method: 'GET', url: '/api/events?kind=DROP TABLE' }), 400, 'InputError', /layer\.noun\.verb/);
    });
    it('refuses oversized bodies with 413', async () => {
      const res = await asAdmin({ method: 'POST', url: '/api/users', payload: { username: 'big', password: 'x'.repeat(2 * 1024 * 1024) } });
      expectError(res, 413, 'PayloadTooLargeError', /limit/);
    });
    it('refuses an unsupported content type with 415', async () => {
      const res = await inject({ method: 'POST', url: '/api/users', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/xml' }, payload: '<user/>' });
      expectError(res, 415, 'UnsupportedMediaTypeError');
    });
    it('refuses bad tokens and missing credentials with 401', async () => {
      expectError(await inject({ method: 'GET', url: '/api/users' }), 401, 'AuthenticationError', /authentication required/);
      expectError(await inject({ method: 'GET', url: '/api/users', headers: { authorization: 'Bearer plinth_notreal' } }), 401, 'AuthenticationError', /unknown API token/);
      expectError(await inject({ method: 'GET', url: '/api/users', headers: { authorization: 'Basic YTpi' } }), 401, 'AuthenticationError', /Bearer/);
      expectError(await inject({ method: 'GET', url: '/api/users', headers: { cookie: 'plinth_session=forged' } }), 401, 'AuthenticationError');
    });
    it('refuses path traversal in path parameters', async () => {
      for (const url of ['/api/jobs/..%2F..%2Fetc%2Fpasswd', '/api/users/%2e%2e%2f%2e%2e', '/api/auth/tokens/a%00b']) {
        const res = await asAdmin({ method: url.startsWith('/api/users') ? 'PATCH' : url.includes('tokens') ? 'DELETE' : 'GET', url, payload: url.startsWith('/api/users') ? { role: 'member' } : undefined });
        expectError(res, 400, 'InputError', /id/);
      }
      const raw = await inject({ method: 'GET', url: '/../../etc/passwd' });
      expect(raw.statusCode).not.toBe(500);
      expect(raw.body).not.toMatch(/root:/);
    });
    it('answers unknown API routes with a NotFoundError', async () => {
      expectError(await asAdmin({ method: 'GET', url: '/api/nothing-here' }), 404, 'NotFoundError', /no route/);
    });
  });

  describe('audit log', () => {
    it('records state-changing calls with actor, action, origin and outcome, for admins only', async () => {
      await inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: 'wrong-wrong' } });
      const page = (await asAdmin({ method: 'GET', url: '/api/audit?limit=200' })).json() as {
        items: { actor: string; action: string; outcome: string; ip: string; statusCode: number }[];
      };
      expect(page.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ actor: 'user:default/admin', action: 'users.create', outcome: 'success', statusCode: 201 }),
          expect.objectContaining({ actor: 'user:default/admin', action: 'auth.login', outcome: 'denied', statusCode: 401 }),
          expect.objectContaining({ actor: 'user:default/mia', action: 'auth.token.revoke', outcome: 'denied', statusCode: 403 }),
        ]),
      );
      expect(page.items[0]!.ip).toBeTruthy();
      const denied = (await asAdmin({ method: 'GET', url: '/api/audit?outcome=denied&limit=1' })).json() as { items: unknown[]; nextCursor: string };
      expect(denied.items).toHaveLength(1);
      const next = (await asAdmin({ method: 'GET', url: `/api/audit?outcome=denied&limit=1&cursor=${denied.nextCursor}` })).json() as { items: unknown[] };
      expect(next.items).toHaveLength(1);
      expect(next.items[0]).not.toEqual(denied.items[0]);
      expectError(await inject({ method: 'GET', url: '/api/audit', headers: { authorization: `Bearer ${member.token}` } }), 403, 'NotAllowedError');
    });
  });

  describe('events', () => {
    it('lists ledger events by kind and subject with a cursor', async () => {
      const res = await asAdmin({ method: 'GET', url: '/api/events?kind=kernel.user.created&limit=2' });
      const page = res.json() as { items: { seq: number; kind: string }[]; nextCursor: string };
      expect(page.items.map((e) => e.kind)).toEqual(['kernel.user.created', 'kernel.user.created']);
      const next = (await asAdmin({ method: 'GET', url: `/api/events?kind=kernel.user.created&limit=2&afterSeq=${page.nextCursor}` })).json() as { items: { seq: number }[] };
      expect(next.items[0]!.seq).toBeGreaterThan(page.items[1]!.seq);
      const mia = (await inject({ method: 'GET', url: '/api/events?subject=user:default/mia', headers: { authorization: `Bearer ${viewer.token}` } })).json() as { items: { subjects: string[] }[] };
      expect(mia.items.length).toBeGreaterThan(0);
      expect(mia.items.every((e) => e.subjects.includes('user:default/mia'))).toBe(true);
    });
  });

  describe('jobs', () => {
    it('lets admins inspect, cancel and retry jobs', async () => {
      const { job } = await t.app.kernel.jobs.enqueue({ kind: 'test.never-handled', payload: { a: 1 } });
      const got = await asAdmin({ method: 'GET', url: `/api/jobs/${job.id}` });
      expect(got.json()).toMatchObject({ id: job.id, state: 'queued', payload: { a: 1 }, progress: [] });
      expect((await asAdmin({ method: 'POST', url: `/api/jobs/${job.id}/cancel` })).json()).toMatchObject({ state: 'cancelled' });
      expectError(await asAdmin({ method: 'POST', url: `/api/jobs/${job.id}/cancel` }), 409, 'ConflictError', /cancelled/);
      expect((await asAdmin({ method: 'POST', url: `/api/jobs/${job.id}/retry` })).json()).toMatchObject({ state: 'queued' });
      expect((await asAdmin({ method: 'GET', url: '/api/jobs?state=queued' })).json()).toMatchObject({ items: expect.arrayContaining([expect.objectContaining({ id: job.id })]) });
      expectError(await inject({ method: 'GET', url: `/api/jobs/${job.id}`, headers: { authorization: `Bearer ${member.token}` } }), 403, 'NotAllowedError');
      expectError(await asAdmin({ method: 'GET', url: '/api/jobs/does-not-exist' }), 404, 'NotFoundError');
    });
  });
});
