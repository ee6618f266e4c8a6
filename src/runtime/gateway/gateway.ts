import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { createWeightedPicker, parseCanaryOverride, preselectRelease, type TrafficSplit } from '../model/index.js';
import type { Endpoint } from '../driver/local.js';
import { createTrafficStats, type ReleaseTrafficStats } from './stats.js';

/** What the gateway needs from a runtime driver. */
export interface EndpointSource {
  readyEndpoints(releaseId: string): readonly Endpoint[];
  markUnreachable(endpoint: Endpoint): void;
}

/**
 * The built-in gateway (DESIGN: port 7080): routes `<service>.<environment>.localhost` to the ready
 * replicas of the releases in that service's traffic split.
 */
export interface Gateway {
  /** Listens; returns the bound port. Rejects with a message naming the port when it is taken. */
  listen(): Promise<number>;
  /** The bound port while listening. */
  port(): number | undefined;
  close(): Promise<void>;
  /** Sets (absolute) or removes the split of a service in an environment; applies to the next request. */
  setSplit(service: string, environment: string, split: TrafficSplit | undefined): void;
  split(service: string, environment: string): TrafficSplit | undefined;
  /** Per-release request counts, status classes and latency histograms since start. */
  stats(service: string, environment: string): ReleaseTrafficStats[];
}

export interface GatewayOptions {
  host: string;
  port: number;
  endpoints: EndpointSource;
  registry?: Registry;
  /** Kept-alive upstream sockets per replica. */
  maxFreeSockets?: number;
}

// RFC 9110 §7.6.1: hop-by-hop fields, never forwarded (plus any named in Connection).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const HOST_PATTERN = /^([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)\.localhost$/;
const STICKY_COOKIE = 'plinth-release';
const MAX_ATTEMPTS = 3;

interface Route {
  split: TrafficSplit;
  pick: () => string | undefined;
  /** Round-robin position per release. */
  next: Map<string, number>;
}

function forwardedHeaders(raw: readonly string[]): string[] {
  const connectionTokens = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') for (const t of raw[i + 1]!.split(',')) connectionTokens.add(t.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(name) && !connectionTokens.has(name)) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function reply(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${message}\n`);
}

export function createGateway(options: GatewayOptions): Gateway {
  const routes = new Map<string, Route>();
  const stats = createTrafficStats(options.registry);
  // Chosen by bench/gateway: node:http with a keep-alive agent (undici is not a dependency here).
  const agent = new Agent({ keepAlive: true, maxFreeSockets: options.maxFreeSockets ?? 256, scheduling: 'lifo' });
  const sockets = new Set<Socket>();
  const server = createServer({ keepAlive: true }, (req, res) => handle(req, res));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  function chooseEndpoint(route: Route, releaseId: string, tried: ReadonlySet<string>): Endpoint | undefined {
    const ready = options.endpoints.readyEndpoints(releaseId).filter((e) => !tried.has(`${e.releaseId}/${e.replica}`));
    if (ready.length === 0) return undefined;
    const n = route.next.get(releaseId) ?? 0;
    route.next.set(releaseId, n + 1);
    return ready[n % ready.length];
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const m = HOST_PATTERN.exec(host);
    if (!m) return reply(res, 404, `no service at "${host}": deployed services are reached at <service>.<environment>.localhost`);
    const [, service, environment] = m as unknown as [string, string, string];
    const route = routes.get(`${service}.${environment}`);
    if (!route) return reply(res, 503, `service "${service}" has no release routed in environment "${environment}"`);
    const { split } = route;
    const override = parseCanaryOverride(req.headers['x-plinth-canary']);
    const sticky = split.sticky ? readCookie(req.headers.cookie, STICKY_COOKIE) : undefined;
    let releaseId = preselectRelease(split, override, sticky) ?? route.pick() ?? split.stable;
    // A weighted pick of a release with nothing ready falls back to the other one; a forced pick does not.
    if (override === undefined && options.endpoints.readyEndpoints(releaseId).length === 0) {
      const other = releaseId === split.stable ? split.canary : split.stable;
      if (other !== undefined && options.endpoints.readyEndpoints(other).length > 0) releaseId = other;
    }
    // Nothing of either release is ready (both starting after a restart, or the service is down): the 503 is
    // the gateway's own answer, not the release's, so no release's counters (the canary analysis) count it.
    if (options.endpoints.readyEndpoints(releaseId).length === 0) return reply(res, 503, `no ready replica of ${service}.${environment} (release ${releaseId})`);
    const setCookie = split.sticky && sticky !== releaseId ? `${STICKY_COOKIE}=${encodeURIComponent(releaseId)}; Path=/; HttpOnly; SameSite=Lax` : undefined;
    res.once('close', () => stats.record(service, environment, releaseId, res.statusCode, performance.now() - started));
    proxy(req, res, route, releaseId, setCookie, new Set(), `${service}.${environment}`);
  }

  function proxy(req: IncomingMessage, res: ServerResponse, route: Route, releaseId: string, setCookie: string | undefined, tried: Set<string>, name: string): void {
    const endpoint = chooseEndpoint(route, releaseId, tried);
    if (!endpoint) {
      // handle() saw a ready replica, so every one of them has been tried and refused.
      return reply(res, 502, `no replica of ${name} (release ${releaseId}) accepted the connection`);
    }
    tried.add(`${endpoint.releaseId}/${endpoint.replica}`);
    const headers = forwardedHeaders(req.rawHeaders);
    const remote = req.socket.remoteAddress ?? '';
    const priorFor = req.headers['x-forwarded-for'];
    headers.push('x-forwarded-for', priorFor ? `${String(priorFor)}, ${remote}` : remote, 'x-forwarded-proto', 'http', 'x-forwarded-host', req.headers.host ?? '');
    const upstream = httpRequest({ host: endpoint.host, port: endpoint.port, method: req.method, path: req.url, headers, agent, setHost: false });
    let bodySent = false;
    upstream.on('response', (up) => {
      const out = forwardedHeaders(up.rawHeaders);
      out.push('x-plinth-release', releaseId);
      if (setCookie) out.push('set-cookie', setCookie);
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      const refused = err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && !bodySent);
      if (refused) options.endpoints.markUnreachable(endpoint);
      // Nothing reached the replica yet when the connection is refused: safe to try another one.
      const replayable = refused && !bodySent && (req.method === 'GET' || req.method === 'HEAD' || req.headers['content-length'] === '0');
      if (replayable && tried.size < MAX_ATTEMPTS && !res.headersSent) return proxy(req, res, route, releaseId, setCookie, tried, name);
      reply(res, 502, `replica ${endpoint.replica} of ${name} (release ${releaseId}) failed: ${err.code ?? err.message}`);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (req.method === 'GET' || req.method === 'HEAD') {
      upstream.end();
    } else {
      bodySent = true;
      req.pipe(upstream); // streamed, never buffered
    }
  }

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(err.code === 'EADDRINUSE' ? new Error(`gateway port ${options.port} on ${options.host} is in use; choose another with --gateway-port or PLINTH_GATEWAY_PORT`) : err),
        );
        server.listen({ host: options.host, port: options.port }, () => {
          const address = server.address();
          resolve(typeof address === 'object' && address !== null ? address.port : options.port);
        });
      });
    },
    async close() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // In-flight requests get a moment to finish; then the remaining sockets go.
      const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), 2000);
      await closed;
      clearTimeout(timer);
      agent.destroy();
    },
    setSplit(service, environment, split) {
      const key = `${service}.${environment}`;
      if (!split) {
        routes.delete(key);
        return;
      }
      const targets = [{ target: split.stable, weight: 100 - (split.canary ? split.canaryWeightPercent : 0) }];
      if (split.canary) targets.push({ target: split.canary, weight: split.canaryWeightPercent });
      routes.set(key, { split, pick: createWeightedPicker(targets), next: routes.get(key)?.next ?? new Map() });
    },
    port() {
      const address = server.listening ? server.address() : null;
      return typeof address === 'object' && address !== null ? address.port : undefined;
    },
    split: (service, environment) => routes.get(`${service}.${environment}`)?.split,
    stats: (service, environment) => stats.of(service, environment),
  };
}
