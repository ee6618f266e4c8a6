import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it, expect } from 'vitest';
import { run } from './main.js';
import { memoryIo } from './memory-io.js';

// The real server's stream is covered in cli.test.ts; a dropped connection cannot be caused there
// without restarting the server, so these tests use an event stream fake (a plain node:http server
// speaking the same SSE framing as src/kernel/http/sse.ts).

type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function eventStreamFake(handler: Handler): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    // Where the ledger ends when the tail starts (it resumes from there before the first event).
    if (req.url === '/api/status') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ledger: { lastSeq: 0 } }));
    requests.push(req);
    handler(req, res, requests.length);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function event(seq: number, kind = 'kernel.token.created'): string {
  const data = { seq, id: `e${seq}`, time: `2026-11-26T10:00:0${seq}.000Z`, kind, subjects: ['user:default/admin'], actor: 'user:default/admin', payload: { n: seq } };
  return `id: ${seq}\nevent: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
}

function openStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.write(': ready\n\n');
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function env(): Promise<Record<string, string>> {
  return { PLINTH_CONFIG_DIR: await mkdtemp(join(tmpdir(), 'plinth-events-')), PLINTH_TOKEN: 'test-token' };
}

describe('plinth events tail (event stream fake)', () => {
  it('reconnects with Last-Event-ID after the connection drops and misses nothing', async () => {
    const fake = await eventStreamFake((_req, res, attempt) => {
      openStream(res);
      if (attempt === 1) {
        res.write(event(1) + event(2));
        // Drop the connection as a crashing server or a proxy timeout would.
        setTimeout(() => res.socket?.destroy(), 50);
      } else {
        res.write(event(3));
      }
    });
    const io = memoryIo(await env());
    const exit = run(['events', 'tail', '--server', fake.url, '--kind', 'kernel.token.created', '--subject', 'user:default/admin'], io);
    await until(() => io.stdoutText().split('\n').length > 3);
    io.interrupt();
    expect(await exit).toBe(0);

    const lines = io.stdoutText().trimEnd().split('\n');
    expect(lines.map((l) => l.split('  ')[0])).toEqual(['2026-11-26T10:00:01.000Z', '2026-11-26T10:00:02.000Z', '2026-11-26T10:00:03.000Z']);
    expect(lines[0]).toBe('2026-11-26T10:00:01.000Z  kernel.token.created  user:default/admin  by user:default/admin  {"n":1}');
    expect(io.stderrText()).toBe(`connection to ${fake.url} lost; reconnecting…\nreconnected to ${fake.url}\n`);

    const [first, second] = fake.requests;
    expect(first?.headers['last-event-id']).toBeUndefined();
    expect(new URL(first?.url ?? '', fake.url).searchParams.get('afterSeq')).toBe('0');
    expect(first?.headers.authorization).toBe('Bearer test-token');
    expect(first?.headers.accept).toBe('text/event-stream');
    expect(new URL(first?.url ?? '', fake.url).searchParams.get('kind')).toBe('kernel.token.created');
    expect(new URL(first?.url ?? '', fake.url).searchParams.get('subject')).toBe('user:default/admin');
    expect(second?.headers['last-event-id']).toBe('2');
    expect(new URL(second?.url ?? '', fake.url).searchParams.get('afterSeq')).toBe('2');
  });

  it('reconnects when the server ends the stream, e.g. on shutdown', async () => {
    const fake = await eventStreamFake((_req, res, attempt) => {
      openStream(res);
      if (attempt === 1) res.end(event(5));
      else res.write(event(6));
    });
    const io = memoryIo(await env());
    const exit = run(['events', 'tail', '--server', fake.url, '--since-seq', '4', '--json'], io);
    await until(() => io.stdoutText().split('\n').length > 2);
    io.interrupt();
    expect(await exit).toBe(0);
    expect(io.stdoutText().trimEnd().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([5, 6]);
    expect(new URL(fake.requests[0]?.url ?? '', fake.url).searchParams.get('afterSeq')).toBe('4');
    expect(fake.requests[1]?.headers['last-event-id']).toBe('5');
  });

  it('resumes from where the tail began when the connection drops before any event', async () => {
    const fake = await eventStreamFake((_req, res, attempt) => {
      openStream(res);
      if (attempt === 1) setTimeout(() => res.socket?.destroy(), 50);
      else res.write(event(1));
    });
    const io = memoryIo(await env());
    const exit = run(['events', 'tail', '--server', fake.url], io);
    await until(() => io.stdoutText() !== '');
    io.interrupt();
    expect(await exit).toBe(0);
    expect(fake.requests.map((r) => new URL(r.url ?? '', fake.url).searchParams.get('afterSeq'))).toEqual(['0', '0']);
    expect(fake.requests[1]?.headers['last-event-id']).toBeUndefined();
  });

  it('fails with the server’s message when the first connection is refused', async () => {
    const fake = await eventStreamFake((req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { name: 'NotAllowedError', message: 'this token lacks the "read" scope' }, request: { method: 'GET', url: req.url }, response: { statusCode: 403 } }));
    });
    const io = memoryIo(await env());
    expect(await run(['events', 'tail', '--server', fake.url], io)).toBe(1);
    expect(io.stderrText()).toBe('error: this token lacks the "read" scope (NotAllowedError)\n');
  });

  it('stops cleanly on Ctrl-C while waiting for events', async () => {
    const fake = await eventStreamFake((_req, res) => openStream(res));
    const io = memoryIo(await env());
    const exit = run(['events', 'tail', '--server', fake.url], io);
    await until(() => fake.requests.length === 1);
    io.interrupt();
    expect(await exit).toBe(0);
    expect(io.stdoutText()).toBe('');
    expect(io.stderrText()).toBe('');
  });
});
