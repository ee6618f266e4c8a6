import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createService } from '../src/server.js';

describe('${{ values.name }}', () => {
  let failing = false;
  const server = createService({
    checks: {
      dependency: async () => {
        if (failing) throw new Error('dependency is down');
      },
    },
  });
  let base = '';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers /healthz with 200 while its checks pass and 503 when one fails', async () => {
    const ok = await fetch(`${base}/healthz`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { status: 'ok', checks: { dependency: 'ok' } });
    failing = true;
    const down = await fetch(`${base}/healthz`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { status: 'unavailable', checks: { dependency: 'dependency is down' } });
    failing = false;
  });

  it('greets by name on /hello', async () => {
    const res = await fetch(`${base}/hello?name=Ada`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { message: 'Hello, Ada!', service: '${{ values.name }}' });
  });

  it('refuses a name that is too long, unknown paths and other methods', async () => {
    assert.equal((await fetch(`${base}/hello?name=${'x'.repeat(101)}`)).status, 400);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/hello`, { method: 'POST' })).status, 405);
  });
});
