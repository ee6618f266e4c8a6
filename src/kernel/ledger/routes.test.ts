import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/helpers/app.js';
import { testDialects } from '../../../test/helpers/dialects.js';

const dialects = await testDialects();

/** Reads SSE messages from a real HTTP stream. */
async function openStream(url: string, token: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: controller.signal });
  const messages: { id?: string; event?: string; data: string }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const msg: { id?: string; event?: string; data: string } = { data: '' };
          let isData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) msg.id = line.slice(4);
            else if (line.startsWith('event: ')) msg.event = line.slice(7);
            else if (line.startsWith('data: ')) {
              msg.data += line.slice(6);
              isData = true;
            }
          }
          if (isData) messages.push(msg);
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    res,
    messages,
    async waitFor(n: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (messages.length < n) throw new Error(`got ${messages.length} of ${n} messages`);
    },
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}

describe.each(dialects)('event stream (SSE) on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ dialect, listen: true });
  });
  afterAll(() => t?.close());

  const append = (username: string) =>
    t.app.kernel.ledger.append({ kind: 'kernel.user.created', subjects: [`user:default/${username}`], payload: { userId: username, username, role: 'member' } });

  it('streams live events of the requested kinds', async () => {
    const stream = await openStream(`${t.url}/api/events/stream?kind=kernel.user.created`, t.adminToken);
    expect(stream.res.headers.get('content-type')).toMatch(/text\/event-stream/);
    await new Promise((r) => setTimeout(r, 50));
    await t.app.kernel.ledger.append({ kind: 'kernel.token.revoked', subjects: [], payload: { tokenId: 'x', userId: 'y' } });
    await append('sse-1');
    await stream.waitFor(1);
    expect(stream.messages[0]!.event).toBe('kernel.user.created');
    expect(JSON.parse(stream.messages[0]!.data)).toMatchObject({ kind: 'kernel.user.created', payload: { username: 'sse-1' } });
    await stream.close();
  });

  it('resumes after Last-Event-ID without losing or repeating events', async () => {
    const [first] = await append('resume-1');
    await append('resume-2');
    await append('resume-3');
    const stream = await openStream(`${t.url}/api/events/stream?kind=kernel.user.created`, t.adminToken, { 'last-event-id': String(first!.seq) });
    await stream.waitFor(2);
    await append('resume-4');
    await stream.waitFor(3);
    expect(stream.messages.map((m) => JSON.parse(m.data).payload.username)).toEqual(['resume-2', 'resume-3', 'resume-4']);
    expect(stream.messages.map((m) => Number(m.id))).toEqual([...stream.messages.map((m) => Number(m.id))].sort((a, b) => a - b));
    await stream.close();
  });

  it('resumes after ?after= (the portal reconnecting when a hidden tab comes back)', async () => {
    const [first] = await append('after-1');
    await append('after-2');
    const stream = await openStream(`${t.url}/api/events/stream?kind=kernel.user.created&after=${first!.seq}`, t.adminToken);
    await stream.waitFor(1);
    expect(stream.messages.map((m) => JSON.parse(m.data).payload.username)).toEqual(['after-2']);
    await stream.close();
  });

    it('refuses a stream without credentials or with a bad filter', async () => {
    expect((await fetch(`${t.url}/api/events/stream`)).status).toBe(401);
    const bad = await fetch(`${t.url}/api/events/stream?kind=Not-A-Kind`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { name: string } }).error.name).toBe('InputError');
  });
});
