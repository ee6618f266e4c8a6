import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { frontOf } from '../../kernel/index.js';
import { compileRoutePath, createWeightedPicker, DEFAULT_BASE_DOMAIN, parseCanaryOverride, preselectRelease, type RoutePathMatcher, type TrafficSplit, type WorkloadRoute } from '../model/index.js';
import type { Endpoint } from '../driver/local.js';
import { endpointKey, NodeDownstream, ProxyExchange, readRequestFields, reply, type Downstream, type ProxyContext, type RequestFields } from './proxy.js';
import { createTrafficStats, type ReleaseTrafficStats } from './stats.js';
import { UpstreamPool } from './upstream.js';

/** What the gateway needs from a runtime driver. */
export interface EndpointSource {
  readyEndpoints(releaseId: string): readonly Endpoint[];
  markUnreachable(endpoint: Endpoint): void;
}

/**
 * The built-in gateway (DESIGN: port 7080): routes `<service>.<environment>.<baseDomain>` to the ready
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
  /**
   * Sets (replaces) the hosts and paths routed to a service in an environment besides its own host (a
   * workload's `routes`); an empty list removes them. Throws when another service routes one of them.
   */
  setRoutes(service: string, environment: string, routes: readonly Pick<WorkloadRoute, 'host' | 'path'>[]): void;
  /** The service and environment a host and path are routed to by another service's routes, if any. */
  routedBy(host: string, path: string): { service: string; environment: string } | undefined;
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
  /** Host names are `<service>.<environment>.<baseDomain>` (default `localhost`). */
  baseDomain?: string;
}

const hostPattern = (baseDomain: string) => new RegExp(`^([a-z][a-z0-9-]*)\\.([a-z][a-z0-9-]*)\\.${baseDomain.replace(/\./g, '\\.')}$`);
const STICKY_COOKIE = 'plinth-release';

interface Route {
  split: TrafficSplit;
  pick: () => string | undefined;
  /** Round-robin position per release. */
  next: Map<string, number>;
}

/** A path on a host routed to a service (a workload's `routes`). */
interface PathRoute {
  path: string;
  matcher: RoutePathMatcher;
  service: string;
  environment: string;
  key: string;
}

/** What a Host field names: `name` is the host without its port, lower-cased. */
interface HostRoute {
  name: string;
  service: string;
  environment: string;
  key: string;
}

/** The service and environment a Host field names, or only its name when it names none (a 404). */
function parseHost(host: string, pattern: RegExp): HostRoute | { name: string; service?: undefined } {
  const name = host.replace(/:\d+$/, '').toLowerCase();
  const m = pattern.exec(name);
  return m ? { name, service: m[1]!, environment: m[2]!, key: `${m[1]!}.${m[2]!}` } : { name };
}

/** Host fields seen recently: a client sends the same one on every request. Bounded, as clients choose them. */
const HOST_CACHE_SIZE = 1024;

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined; // a malformed escape names no release: the weights decide, and the cookie is set anew
      }
    }
  }
  return undefined;
}

export function createGateway(options: GatewayOptions): Gateway {
  const routes = new Map<string, Route>();
  const stats = createTrafficStats(options.registry);
  // Chosen by bench/gateway: with node:http's client (a keep-alive Agent, ClientRequest, IncomingMessage, pipe) the
  // gateway spent about twice the CPU per request it spends with these pooled sockets and their own response parser.
  const pool = new UpstreamPool(options.maxFreeSockets ?? 256);
  const sockets = new Set<Socket>();
  const server = createServer({ keepAlive: true }, (req, res) => handle(new NodeDownstream(req, res), readRequestFields(req.rawHeaders)));
  // Plain requests are served by the front end; a connection with any other goes on with node:http.
  const front = frontOf(server, { handle: (exchange) => handle(exchange, readRequestFields(exchange.rawHeaders)) });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  const context: ProxyContext = {
    pool,
    chooseEndpoint(releaseId, next, tried) {
      const all = options.endpoints.readyEndpoints(releaseId);
      const ready = tried.length === 0 ? all : all.filter((e) => !tried.includes(endpointKey(e)));
      if (ready.length === 0) return undefined;
      const n = next.get(releaseId) ?? 0;
      next.set(releaseId, n + 1);
      return ready[n % ready.length];
    },
    markUnreachable: (endpoint) => options.endpoints.markUnreachable(endpoint),
  };
  const hosts = new Map<string, ReturnType<typeof parseHost>>();
  /** Path routes by host name, highest precedence first. */
  const pathRoutes = new Map<string, PathRoute[]>();
  const baseDomain = options.baseDomain ?? DEFAULT_BASE_DOMAIN;
  const pattern = hostPattern(baseDomain);

  function handle(req: Downstream, fields: RequestFields): void {
    const started = performance.now();
    let host = hosts.get(fields.host);
    if (!host) {
      if (hosts.size >= HOST_CACHE_SIZE) hosts.clear();
      hosts.set(fields.host, (host = parseHost(fields.host, pattern)));
    }
    let target: { service: string; environment: string; key: string } | undefined = host.service === undefined ? undefined : host;
    const onHost = pathRoutes.get(host.name);
    if (onHost !== undefined) {
      const url = req.url;
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      target = onHost.find((r) => r.matcher.matches(path)) ?? target;
      if (target === undefined) return reply(req, 404, `no route for ${path.slice(0, 200)} on ${host.name}: it routes ${onHost.map((r) => r.path).join(', ')}`);
    }
    if (target === undefined) return reply(req, 404, `no service at "${host.name}": deployed services are reached at <service>.<environment>.${baseDomain}`);
    const { service, environment } = target;
    const route = routes.get(target.key);
    if (!route) return reply(req, 503, `service "${service}" has no release routed in environment "${environment}"`);
    const { split } = route;
    const override = parseCanaryOverride(fields.canary);
    const sticky = split.sticky ? readCookie(fields.cookie, STICKY_COOKIE) : undefined;
    let releaseId = preselectRelease(split, override, sticky) ?? route.pick() ?? split.stable;
    // A weighted pick of a release with nothing ready falls back to the other one; a forced pick does not.
    if (override === undefined && options.endpoints.readyEndpoints(releaseId).length === 0) {
      const other = releaseId === split.stable ? split.canary : split.stable;
      if (other !== undefined && options.endpoints.readyEndpoints(other).length > 0) releaseId = other;
    }
    // Nothing of either release is ready (both starting after a restart, or the service is down): the 503 is
    // the gateway's own answer, not the release's, so no release's counters (the canary analysis) count it.
    if (options.endpoints.readyEndpoints(releaseId).length === 0) return reply(req, 503, `no ready replica of ${service}.${environment} (release ${releaseId})`);
    const setCookie = split.sticky && sticky !== releaseId ? `${STICKY_COOKIE}=${encodeURIComponent(releaseId)}; Path=/; HttpOnly; SameSite=Lax` : undefined;
    new ProxyExchange(context, req, fields, releaseId, route.next, target.key, setCookie).start((status) => stats.record(service, environment, releaseId, status, performance.now() - started));
  }

  return {
    listen() {
      pool.reopen();
      front.reopen();
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
      front.closeAll();
      // In-flight requests get a moment to finish; then the remaining sockets go.
      const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), 2000);
      await closed;
      clearTimeout(timer);
      front.stop();
      pool.destroy();
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
    setRoutes(service, environment, wanted) {
      const key = `${service}.${environment}`;
      const compiled = wanted.map((r) => ({ host: r.host.toLowerCase(), route: { path: r.path, matcher: compileRoutePath(r.path), service, environment, key } }));
      for (const { host, route } of compiled) {
        const taken = pathRoutes.get(host)?.find((r) => r.key !== key && r.path === route.path);
        if (taken) throw new Error(`${host}${route.path} is routed to ${taken.service} in ${taken.environment}`);
      }
      for (const [host, list] of pathRoutes) {
        const kept = list.filter((r) => r.key !== key);
        if (kept.length > 0) pathRoutes.set(host, kept);
        else pathRoutes.delete(host);
      }
      for (const { host, route } of compiled) pathRoutes.set(host, [...(pathRoutes.get(host) ?? []), route].sort((a, b) => b.matcher.rank - a.matcher.rank));
    },
    routedBy(host, path) {
      const route = pathRoutes.get(host.toLowerCase())?.find((r) => r.path === path);
      return route && { service: route.service, environment: route.environment };
    },
    port() {
      const address = server.listening ? server.address() : null;
      return typeof address === 'object' && address !== null ? address.port : undefined;
    },
    split: (service, environment) => routes.get(`${service}.${environment}`)?.split,
    stats: (service, environment) => stats.of(service, environment),
  };
}
