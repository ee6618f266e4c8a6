import { createServer as createHttpServer, request, Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../driver/local.js';
import { createGateway, type Gateway } from './gateway.js';

// The gateway against real sockets: node:http replicas, and raw TCP ones for the framings and failures
// a node:http server never produces (split chunks, trailers, interim responses, stale kept-alive connections).

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const clientAgent = new Agent({ keepAlive: true });

function call(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: clientAgent, headers: { host: options.host ?? 'web.test.localhost', ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends `bytes` on a new connection; resolves with what came back once `until` holds or the gateway closed the connection. */
function rawCall(port: number, bytes: string, until: (text: string) => boolean = () => false): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes, 'latin1'));
    let text = '';
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within 5 s; got ${JSON.stringify(text.slice(0, 300))}`));
    }, 5000);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (until(text)) done(false);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}

const portOf = (server: Server | TcpServer): number => (server.address() as AddressInfo).port;
const listen = async <T extends Server | TcpServer>(server: T): Promise<T> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};

const openSockets = new Map<TcpServer, Set<Socket>>();

/** A replica that answers each request (head only; bodies are read and counted) with `respond`'s bytes. */
function rawReplica(respond: (head: string, socket: Socket, nth: number) => void): { server: TcpServer; connections: number; requests: string[] } {
  const state = { server: undefined as unknown as TcpServer, connections: 0, requests: [] as string[] };
  state.server = createTcpServer((socket) => {
    state.connections += 1;
    const open = openSockets.get(state.server) ?? new Set<Socket>();
    openSockets.set(state.server, open.add(socket));
    socket.on('close', () => open.delete(socket));
    let nth = 0;
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        state.requests.push(head);
        respond(head, socket, nth++);
      }
    });
    socket.on('error', () => undefined);
  });
  return state;
}

/** Closes the replicas and cuts their connections, which the gateway keeps alive, as a stopping replica's would be. */
function stopReplicas(servers: (Server | TcpServer)[]): void {
  for (const s of servers.splice(0)) {
    s.close();
    if ('closeAllConnections' in s) s.closeAllConnections();
    else for (const socket of openSockets.get(s) ?? []) socket.destroy();
  }
}

describe('gateway proxy path', () => {
  let gateway: Gateway;
  let port: number;
  let endpoints: Endpoint[] = [];
  const unreachable: Endpoint[] = [];
  const servers: (Server | TcpServer)[] = [];

  const route = async (...replicas: (Server | TcpServer)[]): Promise<void> => {
    for (const s of replicas) if (!s.listening) servers.push(await listen(s));
    endpoints = replicas.map((s, i) => ({ releaseId: 'r1', replica: i, host: '127.0.0.1', port: portOf(s) }));
  };

  beforeAll(async () => {
    gateway = createGateway({
      host: '127.0.0.1',
      port: 0,
      endpoints: { readyEndpoints: () => endpoints, markUnreachable: (e) => void unreachable.push(e) },
    });
    port = await gateway.listen();
    gateway.setSplit('web', 'test', { stable: 'r1', canaryWeightPercent: 0, sticky: false });
  });
  afterEach(async () => {
    unreachable.length = 0;
    clientAgent.destroy();
    stopReplicas(servers);
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('forwards end-to-end fields both ways, drops hop-by-hop ones, and sets X-Forwarded-* once', async () => {
    const replica = createHttpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'x-private', 'x-private': 'secret', 'keep-alive': 'timeout=5', 'x-app': 'yes' });
      res.end(JSON.stringify({ url: req.url, method: req.method, headers: req.headers, raw: req.rawHeaders }));
    });
    await route(replica);
    const r = await call(port, '/a/b?c=d', { headers: { connection: 'keep-alive, x-drop', 'x-drop': '1', 'x-keep': 'yes', 'x-forwarded-for': '10.1.1.1', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-app']).toBe('yes');
    expect(r.headers['x-private']).toBeUndefined();
    expect(r.headers['x-plinth-release']).toBe('r1');
    const seen = JSON.parse(r.body.toString()) as { url: string; method: string; headers: IncomingHttpHeaders; raw: string[] };
    expect(seen).toMatchObject({ url: '/a/b?c=d', method: 'GET' });
    expect(seen.headers).toMatchObject({ host: 'web.test.localhost', 'x-keep': 'yes', 'x-forwarded-for': '10.1.1.1, 127.0.0.1', 'x-forwarded-host': 'web.test.localhost', 'x-forwarded-proto': 'http' });
    expect(seen.headers['x-drop']).toBeUndefined();
    expect(seen.raw.filter((h) => h.toLowerCase().startsWith('x-forwarded'))).toHaveLength(3);
  });

  it('unframes chunked responses (trailers dropped) and keeps the replica connection for the next request', async () => {
    const replica = rawReplica((_head, socket) => {
      // Written in pieces, so the gateway sees the chunk framing split across reads.
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n4\r\nab');
      setTimeout(() => socket.write('cd\r\n6;x=y\r\nefghij\r\n0\r\nX-Checksum: 1\r\n\r\n'), 10);
    });
    await route(replica.server);
    for (let i = 0; i < 3; i++) {
      const r = await call(port, `/chunked/${i}`);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('abcdefghij');
      expect(r.headers['x-checksum']).toBeUndefined();
    }
    expect(replica.connections).toBe(1);
    expect(replica.requests).toHaveLength(3);
  });

  it('reads a body without length to the close, skips interim responses, and gives HEAD, 204 and 304 no body', async () => {
    const replica = rawReplica((head, socket) => {
      const path = head.split(' ')[1];
      if (path === '/until-close') socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it');
      else if (path === '/interim') socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal');
      else if (path === '/204') socket.write('HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n');
      else if (path === '/304') socket.write('HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n' + (head.startsWith('HEAD') ? '' : 'content'));
    });
    await route(replica.server);
    expect((await call(port, '/until-close')).body.toString()).toBe('all of it');
    expect(await call(port, '/interim')).toMatchObject({ status: 200, body: Buffer.from('final') });
    expect(await call(port, '/x', { method: 'HEAD' })).toMatchObject({ status: 200, body: Buffer.alloc(0), headers: { 'content-length': '7' } });
    expect(await call(port, '/x')).toMatchObject({ status: 200, body: Buffer.from('content') });
    expect(await call(port, '/204')).toMatchObject({ status: 204, headers: { 'x-a': '1' } });
    expect(await call(port, '/304')).toMatchObject({ status: 304, headers: { etag: '"1"' } });
    // The close-delimited body used up its connection; the others shared one.
    expect(replica.connections).toBe(2);
  });

  it('streams request bodies both ways, chunked or with a length, and large responses intact', async () => {
    const replica = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        res.writeHead(200, { 'x-te': String(req.headers['transfer-encoding']), 'x-cl': String(req.headers['content-length']) });
        res.end(req.url === '/big' ? Buffer.alloc(8 * 1024 * 1024, 'z') : body);
      });
    });
    await route(replica);
    const body = Buffer.alloc(1024 * 1024 + 7, 'q');
    const withLength = await call(port, '/echo', { method: 'POST', body, headers: { 'content-length': String(body.length) } });
    expect(withLength.body.equals(body)).toBe(true);
    expect(withLength.headers['x-cl']).toBe(String(body.length));
    const chunked = await call(port, '/echo', { method: 'PUT', body, headers: { 'transfer-encoding': 'chunked' } });
    expect(chunked.body.equals(body)).toBe(true);
    expect(chunked.headers['x-te']).toBe('chunked');
    const big = await call(port, '/big');
    expect(big.body.length).toBe(8 * 1024 * 1024);
    expect(big.body.every((b) => b === 0x7a)).toBe(true);
  });

  it('retries a refused connection on another replica and takes the refusing one out of rotation', async () => {
    const closed = await listen(createTcpServer());
    const closedPort = portOf(closed);
    await new Promise((resolve) => closed.close(resolve));
    const good = createHttpServer((_req, res) => res.end('from the good one'));
    await route(good);
    endpoints = [{ releaseId: 'r1', replica: 0, host: '127.0.0.1', port: closedPort }, ...endpoints.map((e) => ({ ...e, replica: 1 }))];
    for (let i = 0; i < 4; i++) {
      // POST too: nothing reached the refusing replica, and the body waits for an accepted connection.
      const r = await call(port, '/', { method: i % 2 ? 'POST' : 'GET', body: i % 2 ? 'payload' : undefined });
      expect(r).toMatchObject({ status: 200, body: Buffer.from('from the good one') });
    }
    expect(unreachable.map((e) => e.port)).toContain(closedPort);
    expect(unreachable.every((e) => e.port === closedPort)).toBe(true);
    endpoints = endpoints.slice(0, 1);
    expect(await call(port, '/')).toMatchObject({ status: 502, body: expect.any(Buffer) });
    expect((await call(port, '/')).body.toString()).toMatch(/no replica of web\.test \(release r1\) accepted the connection/);
  });

  it('sends a request again on a new connection when its kept-alive one turned out closed, but not a POST', async () => {
    // The replica answers the first request of each connection and silently drops the connection on the second.
    const replica = rawReplica((_head, socket, nth) => {
      if (nth === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else socket.destroy();
    });
    await route(replica.server);
    expect(await call(port, '/1')).toMatchObject({ status: 200, body: Buffer.from('ok') });
    expect(await call(port, '/2')).toMatchObject({ status: 200, body: Buffer.from('ok') });
    expect(replica.connections).toBe(2);
    expect(unreachable).toEqual([]);
    const post = await call(port, '/3', { method: 'POST' });
    expect(post.status).toBe(502);
    expect(post.body.toString()).toMatch(/replica 0 of web\.test \(release r1\) failed: ECONNRESET/);
  });

  it('answers 502 naming a malformed response, and cuts a response the replica breaks off', async () => {
    const replica = rawReplica((head, socket) => {
      if (head.includes('/garbage')) socket.write('HTTP/1.1 200 OK\r\nX-Bad\x01: 1\r\n\r\n');
      else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
    });
    await route(replica.server);
    const garbage = await call(port, '/garbage');
    expect(garbage.status).toBe(502);
    expect(garbage.body.toString()).toMatch(/failed: EPROTO \(the replica sent a malformed header line/);
    await expect(call(port, '/cut')).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    const stats = gateway.stats('web', 'test').find((s) => s.releaseId === 'r1');
    expect(stats?.statusClasses['5xx']).toBeGreaterThanOrEqual(1);
  });

  it('closes the replica connection when the client goes away mid-response', async () => {
    let replicaSocketClosed = false;
    const replica = rawReplica((_head, socket) => {
      socket.on('close', () => (replicaSocketClosed = true));
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nstart');
    });
    await route(replica.server);
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'web.test.localhost' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.on('close', () => resolve());
      setTimeout(() => reject(new Error('no response began')), 5000).unref();
      req.end();
    });
    const deadline = Date.now() + 5000;
    while (!replicaSocketClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(replicaSocketClosed).toBe(true);
  });
});

describe('gateway front end (its own server side for plain requests, node:http for the rest)', () => {
  let gateway: Gateway;
  let port: number;
  let endpoints: Endpoint[] = [];
  const servers: (Server | TcpServer)[] = [];
  const HOST = 'Host: web.test.localhost\r\n';
  const route = async (replica: Server | TcpServer): Promise<void> => {
    servers.push(await listen(replica));
    endpoints = [{ releaseId: 'r1', replica: 0, host: '127.0.0.1', port: portOf(replica) }];
  };

  beforeAll(async () => {
    gateway = createGateway({ host: '127.0.0.1', port: 0, endpoints: { readyEndpoints: () => endpoints, markUnreachable: () => undefined } });
    port = await gateway.listen();
    gateway.setSplit('web', 'test', { stable: 'r1', canaryWeightPercent: 0, sticky: false });
  });
  afterEach(() => stopReplicas(servers));
  afterAll(async () => {
    await gateway.close();
  });

  it('answers pipelined requests in order on one connection, handing one with a body to node:http where it comes', async () => {
    await route(
      createHttpServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => res.end(`${req.method} ${req.url} [${body}]`));
      }),
    );
    const r = await rawCall(
      port,
      `GET /one HTTP/1.1\r\n${HOST}\r\nGET /two HTTP/1.1\r\n${HOST}\r\nPOST /three HTTP/1.1\r\n${HOST}Content-Length: 5\r\n\r\nhelloGET /four HTTP/1.1\r\n${HOST}\r\n`,
      (text) => text.includes('GET /four []'),
    );
    const at = ['GET /one []', 'GET /two []', 'POST /three [hello]', 'GET /four []'].map((body) => r.text.indexOf(body));
    expect(at.every((n, i) => n >= 0 && (i === 0 || n > at[i - 1]!))).toBe(true);
    expect(r.text.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(4);
  });

  it('leaves malformed and ambiguous requests to node:http, which answers 400, and none reaches the replica', async () => {
    const replica = rawReplica((_head, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    await route(replica.server);
    for (const bytes of [
      // Both framings: the request smuggling classic (RFC 9112 §6.3); the second request must never be seen.
      `POST / HTTP/1.1\r\n${HOST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${HOST}\r\n`,
      `GET / HTTP/1.1\r\n${HOST}X-Folded: 1\r\n 2\r\n\r\n`,
      `GET / HTTP/1.1\r\n${HOST}Bad Name: 1\r\n\r\n`,
      `GET / HTTP/1.1\r\n${HOST}X-A: 1\nX-B: 2\r\n\r\n`,
    ]) {
      const r = await rawCall(port, bytes);
      expect(r.text, JSON.stringify(bytes)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(r.closed).toBe(true);
    }
    expect(replica.requests).toEqual([]);
  });

  it('serves HTTP/1.0 through node:http and answers 431 to a head over 16 KiB', async () => {
    const replica = rawReplica((_head, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    await route(replica.server);
    const old = await rawCall(port, `GET /old HTTP/1.0\r\n${HOST}\r\n`);
    expect(old.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
    expect(old.closed).toBe(true);
    const big = await rawCall(port, `GET / HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expect(big.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(replica.requests).toHaveLength(1);
  });

  it("keeps a connection alive past the gateway's own 404 and closes it after the response the client asked to be its last", async () => {
    await route(rawReplica((_head, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')).server);
    const r = await rawCall(port, `GET / HTTP/1.1\r\nHost: unknown.localhost\r\n\r\nGET /last HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[^]*content-length: \d+\r\n\r\nno service at "unknown\.localhost"[^]*HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nok$/);
  });

  it('frames a response without a length as chunked, and gives HEAD its length but no body', async () => {
    await route(
      rawReplica((head, socket) => {
        if (head.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
        else {
          socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
          setTimeout(() => socket.write('2\r\nde\r\n0\r\n\r\n'), 20);
        }
      }).server,
    );
    const r = await rawCall(port, `GET / HTTP/1.1\r\n${HOST}\r\nHEAD / HTTP/1.1\r\n${HOST}\r\n`, (text) => /Content-Length: 5\r\n[^]*\r\n\r\n$/.test(text));
    expect(r.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nHTTP\/1\.1 200 OK\r\nContent-Length: 5\r\nx-plinth-release: r1\r\n\r\n$/);
  });
});

describe('gateway host names under a configured base domain', () => {
  it('routes <service>.<environment>.<base domain> and answers 404 naming the pattern for any other host', async () => {
    const replica = await listen(createHttpServer((_req, res) => res.end('hello')));
    const gateway = createGateway({
      host: '127.0.0.1',
      port: 0,
      baseDomain: 'apps.example.com',
      endpoints: { readyEndpoints: () => [{ releaseId: 'r1', replica: 0, host: '127.0.0.1', port: portOf(replica) }], markUnreachable: () => undefined },
    });
    try {
      const port = await gateway.listen();
      gateway.setSplit('web', 'prod', { stable: 'r1', canaryWeightPercent: 0, sticky: false });
      const routed = await call(port, '/', { host: 'Web.Prod.Apps.Example.com:8443' });
      expect(routed.status).toBe(200);
      expect(routed.body.toString()).toBe('hello');
      for (const host of ['web.prod.localhost', 'web.prod.appsxexample.com', 'web.prod.apps.example.com.evil.test']) {
        const other = await call(port, '/', { host });
        expect(other.status, host).toBe(404);
        expect(other.body.toString()).toContain('<service>.<environment>.apps.example.com');
      }
    } finally {
      clientAgent.destroy();
      await gateway.close();
      replica.closeAllConnections();
      replica.close();
    }
  });
});

describe('gateway path routes (a workload\'s routes)', () => {
  it('sends a host\'s paths to the services that route them, longest first, and keeps each service\'s own host', async () => {
    const replicas = new Map<string, Server>();
    for (const name of ['shop', 'api', 'fizz']) replicas.set(name, await listen(createHttpServer((req, res) => res.end(`${name} ${req.url}`))));
    const endpointOf = (releaseId: string): Endpoint[] => [{ releaseId, replica: 0, host: '127.0.0.1', port: portOf(replicas.get(releaseId)!) }];
    const gateway = createGateway({ host: '127.0.0.1', port: 0, endpoints: { readyEndpoints: endpointOf, markUnreachable: () => undefined } });
    try {
      const port = await gateway.listen();
      for (const name of replicas.keys()) gateway.setSplit(name, 'prod', { stable: name, canaryWeightPercent: 0, sticky: false });
      gateway.setRoutes('shop', 'prod', [{ host: 'shop.localhost', path: '/' }]);
      gateway.setRoutes('api', 'prod', [{ host: 'shop.localhost', path: '/api' }]);
      gateway.setRoutes('fizz', 'prod', [{ host: 'fizz.prod.localhost', path: '/my/[^/]+/path' }]);
      const body = async (host: string, path: string) => {
        const r = await call(port, path, { host });
        return `${r.status} ${r.body.toString()}`;
      };
      expect(await body('shop.localhost', '/')).toBe('200 shop /');
      expect(await body('Shop.Localhost:7080', '/api/orders?x=1')).toBe('200 api /api/orders?x=1');
      expect(await body('shop.localhost', '/api')).toBe('200 api /api');
      expect(await body('shop.localhost', '/apiary')).toBe('200 shop /apiary');
      expect(await body('api.prod.localhost', '/anything')).toBe('200 api /anything');
      // A pattern on a service's own host: matching paths go to it, and so does everything else on its host.
      expect(await body('fizz.prod.localhost', '/my/buzz/path/index.html')).toBe('200 fizz /my/buzz/path/index.html');
      expect(await body('fizz.prod.localhost', '/other')).toBe('200 fizz /other');
      // Another service may not take a routed host and path; removing routes frees them.
      expect(() => gateway.setRoutes('fizz', 'prod', [{ host: 'shop.localhost', path: '/api' }])).toThrow(/routed to api in prod/);
      expect(gateway.routedBy('shop.localhost', '/api')).toEqual({ service: 'api', environment: 'prod' });
      gateway.setRoutes('shop', 'prod', []);
      const unrouted = await call(port, '/', { host: 'shop.localhost' });
      expect(unrouted.status).toBe(404);
      expect(unrouted.body.toString()).toContain('routes /api');
    } finally {
      clientAgent.destroy();
      await gateway.close();
      for (const r of replicas.values()) {
        r.closeAllConnections();
        r.close();
      }
    }
  });
});
