/**
 * Figure 7: latency from `ledger.append` to the event arriving at an SSE client in another process,
 * through the real app (`buildApp` + `listen`) and GET /api/events/stream with an API token.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../../src/app.js';
import { createLogger, newId } from '../../src/kernel/index.js';
import { ADMIN_PASSWORD, benchConfig, benchScript, createPostgresDatabase, onCleanup, progress, round, signalChild, sleep, spawnTracked, summarize, tempDir, wallMs } from './util.js';

async function adminToken(app: App): Promise<string> {
  const login = await app.server.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.statusCode} ${login.body}`);
  const session = login.cookies.find((c) => c.name === 'plinth_session');
  const { csrfToken } = login.json() as { csrfToken: string };
  const created = await app.server.inject({
    method: 'POST',
    url: '/api/auth/tokens',
    headers: { cookie: `plinth_session=${session!.value}`, 'x-csrf-token': csrfToken },
    payload: { name: 'bench' },
  });
  if (created.statusCode !== 201) throw new Error(`token creation failed: ${created.statusCode} ${created.body}`);
  return (created.json() as { secret: string }).secret;
}

type ClientMessage = { type: 'ready' } | { type: 'result'; latencies: number[] } | { type: 'error'; message: string };

function nextMessage(child: ChildProcess, type: ClientMessage['type'], timeoutMs: number): Promise<ClientMessage | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const onMessage = (m: ClientMessage) => {
      if (m.type === 'error') {
        cleanup();
        reject(new Error(`sse client: ${m.message}`));
      } else if (m.type === type) done(m);
    };
    const onExit = () => done(undefined);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const done = (m: ClientMessage | undefined) => {
      cleanup();
      resolve(m);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

interface DriveResult {
  events: number;
  received: number;
  ratePerS: number;
  achievedRatePerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/**
 * Starts the SSE client process on `streamUrl`, then calls `send(sentAtMs)` `events` times at a
 * steady rate (call i is due at t0 + i·interval, whatever earlier calls are doing) and collects the
 * client's latencies.
 */
async function drive(streamUrl: string, token: string, events: number, ratePerS: number, send: (sentAtMs: number) => Promise<unknown> | void): Promise<DriveResult> {
  const client = spawnTracked(process.execPath, [benchScript('sse-client'), streamUrl, token, String(events)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    if (!(await nextMessage(client, 'ready', 15_000))) throw new Error('the SSE client never saw the stream open');
    const result = nextMessage(client, 'result', (events / ratePerS) * 1000 + 15_000);
    const sends: Promise<unknown>[] = [];
    const intervalMs = 1000 / ratePerS;
    const t0 = performance.now();
    for (let i = 0; i < events; i++) {
      const wait = t0 + i * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      sends.push(Promise.resolve(send(wallMs())));
    }
    await Promise.all(sends);
    const sendMs = performance.now() - t0;
    let message = await Promise.race([result, sleep(5000).then(() => 'late' as const)]);
    if (message === 'late') {
      client.send({ type: 'finish' });
      message = await result;
    }
    const latencies = message?.type === 'result' ? message.latencies : [];
    const s = summarize(latencies);
    return { events, received: latencies.length, ratePerS, achievedRatePerS: round((events / sendMs) * 1000, 0), p50Ms: s.p50, p99Ms: s.p99, maxMs: s.max, meanMs: s.mean };
  } finally {
    signalChild(client, 'SIGKILL');
  }
}

/** Plinth: `ledger.append` in the app's process → ledger tail → GET /api/events/stream → client process. */
async function sseRun(db: { dataDir: string; databaseUrl?: string }, events: number, ratePerS: number): Promise<DriveResult> {
  // Loaded here, not at the top: the app pulls in every layer, and a layer that fails to load should
  // fail this part only, not the kernel figures that never touch it.
  const { buildApp } = await import('../../src/app.js');
  const app = await buildApp(benchConfig(db, true), { logger: createLogger({ level: 'silent', pretty: false }) });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
  };
  onCleanup(stop);
  try {
    await app.start();
    const base = (await app.listen()).replace('localhost', '127.0.0.1');
    const token = await adminToken(app);
    return await drive(`${base}/api/events/stream?kind=kernel.token.revoked`, token, events, ratePerS, (sentAtMs) =>
      app.kernel.ledger.append({
        kind: 'kernel.token.revoked',
        subjects: ['user:default/bench'],
        actor: 'system:bench',
        payload: { tokenId: String(sentAtMs), userId: 'bench' },
      }),
    );
  } finally {
    await stop();
  }
}

/** Baseline: a bare node:http SSE endpoint in this process writes the same event straight to the same client process. */
async function bareSseRun(events: number, ratePerS: number): Promise<DriveResult> {
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.socket?.setNoDelay(true);
    res.write(': ready\n\n');
    streams.add(res);
    req.once('close', () => streams.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => new Promise<void>((resolve) => {
    for (const res of streams) res.end();
    server.close(() => resolve());
  });
  onCleanup(close);
  try {
    const address = server.address() as AddressInfo;
    let seq = 0;
    return await drive(`http://127.0.0.1:${address.port}/stream`, 'none', events, ratePerS, (sentAtMs) => {
      seq += 1;
      const event = { seq, id: newId(), time: new Date().toISOString(), kind: 'kernel.token.revoked', subjects: ['user:default/bench'], actor: 'system:bench', payload: { tokenId: String(sentAtMs), userId: 'bench' } };
      const text = `id: ${seq}\nevent: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`;
      for (const res of streams) res.write(text);
    });
  } finally {
    await close();
  }
}

async function measureSse(label: string, db: { dataDir: string; databaseUrl?: string }, events: number, ratePerS: number) {
  const r = await sseRun(db, events, ratePerS);
  const base = await bareSseRun(events, ratePerS);
  progress(`sse ${label}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.received}/${r.events} received; bare node:http p99 ${base.p99Ms} ms`);
  return {
    ...r,
    baseline: { p50Ms: base.p50Ms, p99Ms: base.p99Ms, maxMs: base.maxMs, received: base.received },
    p50Ratio: round(r.p50Ms / base.p50Ms),
    p99Ratio: round(r.p99Ms / base.p99Ms),
    note: 'sent = wall time just before ledger.append, received = wall time when the chunk reaches the client process (performance.timeOrigin + now() on both sides); baseline: a bare node:http SSE endpoint in the bench process writing the same event to the same client at the same rate',
  };
}

export const measureSseSqlite = (events = 1000, ratePerS = 200) => measureSse('sqlite', { dataDir: tempDir('sse-sqlite') }, events, ratePerS);

export async function measureSsePostgres(events = 1000, ratePerS = 200) {
  const db = await createPostgresDatabase();
  try {
    return await measureSse('postgres', { dataDir: tempDir('sse-pg'), databaseUrl: db.url }, events, ratePerS);
  } finally {
    await db.drop();
  }
}
