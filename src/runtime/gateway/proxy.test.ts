import { describe, expect, it } from 'vitest';
import { readRequestFields } from './proxy.js';

describe('readRequestFields (one pass over a request\'s raw fields)', () => {
  it('reads the fields the gateway routes by: the first Host, every Cookie, the canary override, Connection tokens', () => {
    const raw = ['Host', 'web.prod.localhost', 'Cookie', 'a=1', 'cookie', 'plinth-release=r2', 'X-Plinth-Canary', 'always', 'Connection', 'keep-alive, X-Secret', 'X-Secret', 's', 'host', 'other'];
    expect(readRequestFields(raw)).toEqual({ host: 'web.prod.localhost', cookie: 'a=1; plinth-release=r2', canary: 'always', forwardedFor: undefined, body: 'none', connectionTokens: ['x-secret'] });
  });

  it('says whether a body follows: a non-zero length, or chunked coding', () => {
    expect(readRequestFields(['Host', 'a', 'Content-Length', '0']).body).toBe('none');
    expect(readRequestFields(['Host', 'a', 'Content-Length', '5']).body).toBe('length');
    expect(readRequestFields(['Host', 'a', 'Transfer-Encoding', 'chunked']).body).toBe('chunked');
    expect(readRequestFields(['X-Forwarded-For', '10.0.0.1', 'x-forwarded-for', '10.0.0.2']).forwardedFor).toBe('10.0.0.1, 10.0.0.2');
  });
});
