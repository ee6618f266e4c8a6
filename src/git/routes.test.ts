import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../test/helpers/dialects.js';
import { startGitTestApp, type GitTestApp } from '../../test/helpers/git.js';

const dialects = await testDialects();

describe.each(dialects)('/api/git/repos (%s)', (dialect) => {
  let t: GitTestApp;

  beforeAll(async () => {
    t = await startGitTestApp({ dialect });
  });
  afterAll(async () => {
    await t?.close();
  });

  function call(method: 'GET' | 'POST' | 'DELETE', url: string, token: string | undefined, payload?: unknown) {
    return t.app.server.inject({ method, url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  }

  function expectError(res: Awaited<ReturnType<typeof call>>, status: number, name: string) {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json()).toMatchObject({ error: { name, message: expect.any(String) }, request: { method: expect.any(String), url: expect.any(String) }, response: { statusCode: status } });
  }

  it('creates a repository (201), answers 200 with the same repository after, and shows its clone URL', async () => {
    const created = await call('POST', '/api/git/repos', t.tokens.alice, { owner: 'team-a', name: 'payments' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      owner: 'team-a',
      name: 'payments',
      fullName: 'team-a/payments',
      ownerRef: 'group:default/team-a',
      defaultBranch: 'main',
      createdBy: 'user:default/alice',
      cloneUrl: 'http://localhost:80/git/team-a/payments.git',
    });
    const again = await call('POST', '/api/git/repos', t.tokens.alice, { owner: 'team-a', name: 'payments' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(created.json());
    const shown = await call('GET', '/api/git/repos/team-a/payments', t.tokens.vera);
    expect(shown.json()).toEqual(created.json());
  });

  it('lists repositories with a cursor', async () => {
    for (const name of ['one', 'two', 'three']) await call('POST', '/api/git/repos', t.tokens.bob, { owner: 'team-b', name });
    const first = await call('GET', '/api/git/repos?owner=team-b&limit=2', t.tokens.vera);
    expect(first.json()).toMatchObject({ items: [{ name: 'one' }, { name: 'three' }], nextCursor: 'team-b/three' });
    const second = await call('GET', '/api/git/repos?owner=team-b&limit=2&cursor=team-b/three', t.tokens.vera);
    expect(second.json()).toMatchObject({ items: [{ name: 'two' }], nextCursor: null });
  });

  it('refuses bad input with a 400 InputError naming the field', async () => {
    const cases: unknown[] = [
      { owner: 'team-a' },
      { owner: 'team-a', name: '..' },
      { owner: '../..', name: 'x' },
      { owner: 'team-a', name: 'a/b' },
      { owner: 'team-a', name: 'Upper' },
      { owner: 'team-a', name: 'x'.repeat(300) },
      { owner: 'team-a', name: 'svc', defaultBranch: '--force' },
      { owner: 'team-a', name: 'svc', visibility: 'public' },
      { owner: 'team-a', name: 42 },
    ];
    for (const body of cases) expectError(await call('POST', '/api/git/repos', t.tokens.alice, body), 400, 'InputError');
    const res = await call('POST', '/api/git/repos', t.tokens.alice, { owner: 'team-a', name: '..' });
    expect(res.json().error.message).toContain('name');
    expectError(await call('GET', '/api/git/repos/team-a/..%2F..%2Fetc', t.tokens.alice), 400, 'InputError');
    expectError(await call('GET', '/api/git/repos?limit=0', t.tokens.alice), 400, 'InputError');
    expectError(await call('GET', '/api/git/repos?cursor=nonsense', t.tokens.alice), 400, 'InputError');
  });

  it('answers 401 without credentials and 403 for another team, a viewer, or a non-admin deleting', async () => {
    expectError(await call('GET', '/api/git/repos', undefined), 401, 'AuthenticationError');
    expectError(await call('POST', '/api/git/repos', undefined, { owner: 'team-a', name: 'x' }), 401, 'AuthenticationError');
    expectError(await call('POST', '/api/git/repos', t.tokens.bob, { owner: 'team-a', name: 'not-bobs' }), 403, 'NotAllowedError');
    expectError(await call('POST', '/api/git/repos', t.tokens.vera, { owner: 'vera', name: 'mine' }), 403, 'NotAllowedError');
    expectError(await call('DELETE', '/api/git/repos/team-a/payments', t.tokens.alice), 403, 'NotAllowedError');
  });

  it('answers 404 for an unknown repository and deletes for admins (204)', async () => {
    expectError(await call('GET', '/api/git/repos/team-a/unknown', t.tokens.alice), 404, 'NotFoundError');
    await call('POST', '/api/git/repos', t.tokens.alice, { owner: 'team-a', name: 'short-lived' });
    const deleted = await call('DELETE', '/api/git/repos/team-a/short-lived', t.tokens.admin);
    expect(deleted.statusCode).toBe(204);
    expectError(await call('GET', '/api/git/repos/team-a/short-lived', t.tokens.alice), 404, 'NotFoundError');
    expectError(await call('DELETE', '/api/git/repos/team-a/short-lived', t.tokens.admin), 404, 'NotFoundError');
  });

  it('documents the routes in the OpenAPI description, and not the git protocol endpoints', async () => {
    const spec = (await call('GET', '/api/openapi.json', t.tokens.vera)).json() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/git/repos', '/api/git/repos/{owner}/{name}']));
    expect(Object.keys(spec.paths).filter((p) => p.startsWith('/git/'))).toEqual([]);
  });
});
