import { createServer } from 'node:net';
import { describe, it, expect } from 'vitest';
import { ApiError, UnreachableError, createClient } from './client.js';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface Seen {
  url: string;
  init: RequestInit | undefined;
}

/** A fetch substitute that answers every request with one response and records what was asked. */
function answering(response: () => Response, seen: Seen[] = []): typeof fetch {
  return async (input, init) => {
    seen.push({ url: String(input), init });
    return response();
  };
}

describe('createClient', () => {
  it('sends the bearer token, JSON body and query, and parses the JSON answer', async () => {
    const seen: Seen[] = [];
    const client = createClient({
      server: 'http://plinth.test/base',
      token: 'tok',
      fetch: answering(() => Response.json({ ok: true }, { status: 201 }), seen),
    });
    expect(await client.json('POST', '/api/things', { body: { a: 1 }, query: { all: 'true', skip: undefined } })).toEqual({ ok: true });
    expect(seen[0]?.url).toBe('http://plinth.test/base/api/things?all=true');
    const headers = seen[0]?.init?.headers as Record<string, string>;
    expect(headers.authorization).toBe('Bearer tok');
    expect(headers['content-type']).toBe('application/json');
    expect(seen[0]?.init?.body).toBe('{"a":1}');
  });

  it('repeats a query parameter given as an array', async () => {
    const seen: Seen[] = [];
    const client = createClient({ server: 'http://x', fetch: answering(() => Response.json({}), seen) });
    await client.json('GET', '/api/catalog/entities/by-query', { query: { filter: ['kind=api', 'kind=component,spec.type=service'], limit: '5', none: [] } });
    const url = new URL(seen[0]!.url);
    expect(url.searchParams.getAll('filter')).toEqual(['kind=api', 'kind=component,spec.type=service']);
    expect(url.searchParams.get('limit')).toBe('5');
    expect(url.searchParams.has('none')).toBe(false);
  });

  it('leaves the token out when auth is false or there is none', async () => {
    const seen: Seen[] = [];
    await createClient({ server: 'http://x', token: 'tok', fetch: answering(() => Response.json({}), seen) }).json('GET', '/healthz', { auth: false });
    await createClient({ server: 'http://x', fetch: answering(() => Response.json({}), seen) }).json('GET', '/healthz');
    for (const s of seen) expect((s.init?.headers as Record<string, string>).authorization).toBeUndefined();
  });

  it('returns undefined for 204 No Content', async () => {
    const client = createClient({ server: 'http://x', fetch: answering(() => new Response(null, { status: 204 })) });
    expect(await client.json('DELETE', '/api/auth/tokens/t1')).toBeUndefined();
  });

  it('turns the Backstage error body into an ApiError keeping name, message and status', async () => {
    const body = {
      error: { name: 'NotAllowedError', message: 'this token lacks the "admin" scope' },
      request: { method: 'GET', url: '/api/auth/tokens?all=true' },
      response: { statusCode: 403 },
    };
    const client = createClient({ server: 'http://x', fetch: answering(() => Response.json(body, { status: 403 })) });
    const err = await client.json('GET', '/api/auth/tokens').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ name: 'NotAllowedError', message: 'this token lacks the "admin" scope', status: 403, method: 'GET' });
  });

  it('describes an error response that is not the Backstage shape by its status', async () => {
    const client = createClient({
      server: 'http://x',
      fetch: answering(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })),
    });
    await expect(client.json('GET', '/api/status')).rejects.toMatchObject({
      name: 'ResponseError',
      status: 502,
      message: 'GET /api/status failed with 502 Bad Gateway',
    });
  });

  it('keeps an error body of another shape for the caller', async () => {
    const body = { errors: [{ name: 'InputError', message: 'metadata.name is invalid' }] };
    const client = createClient({ server: 'http://x', fetch: answering(() => Response.json(body, { status: 400 })) });
    await expect(client.json('POST', '/api/catalog/validate-entity')).rejects.toMatchObject({ name: 'ResponseError', status: 400, body });
  });

  it('reports a 200 whose body is not JSON instead of crashing', async () => {
    const client = createClient({ server: 'http://x', fetch: answering(() => new Response('hello', { status: 200 })) });
    await expect(client.json('GET', '/api/status')).rejects.toThrow(/not JSON/);
  });

  it('says the server cannot be reached when nothing listens on the port', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    const err = await createClient({ server }).json('GET', '/healthz').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toBe(`cannot reach Plinth at ${server}: is it running? (npm start)`);
  });

  it('names the cause when it is not a refused connection', async () => {
    const err = await createClient({ server: 'http://plinth.invalid' }).json('GET', '/healthz').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toMatch(/^cannot reach Plinth at http:\/\/plinth\.invalid \(\w+\): is it running\?/);
  });

  it('rethrows an abort by the caller as it is', async () => {
    const controller = new AbortController();
    controller.abort();
    const client = createClient({ server: 'http://x', fetch: async (_input, init) => Promise.reject(init?.signal?.reason as Error) });
    await expect(client.json('GET', '/x', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
