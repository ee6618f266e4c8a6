import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { outcomeForStatus } from '../audit/model.js';
import type { Audit } from '../audit/service.js';
import { principalRef, type Principal } from '../auth/model.js';
import type { Auth } from '../auth/service.js';
import type { Clock } from '../clock.js';
import { newId, toIso } from '../clock.js';
import {
  AuthenticationError,
  InputError,
  NotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PlinthError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnsupportedMediaTypeError,
  statusForError,
  type ErrorResponseBody,
} from '../errors.js';
import { lazyChild, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Dialect } from '../store/index.js';
import { frontOf, type Front, type FrontExchange } from './h1/front.js';

export const SESSION_COOKIE = 'plinth_session';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the auth hook (undefined only on public routes). */
    principal: Principal | undefined;
    /** Actor to audit when the call had no principal (e.g. the username of a login attempt). */
    auditActor: string | undefined;
    /** The session's CSRF token (session auth only), for the portal to read back. */
    csrfToken: string | undefined;
  }
  interface FastifyContextConfig {
    /** `public` needs no credentials; `required` (the default under /api/) answers 401 without them. */
    auth?: 'public' | 'required';
    /** Audit action name for state-changing calls; false to skip (the call is audited elsewhere). */
    audit?: string | false;
  }
}

export type Server = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

type AuthMode = 'public' | 'required';

/** Headers every response carries (besides its request id). */
const securityHeaders = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'same-origin' } as const;
const securityHeaderNames = Object.keys(securityHeaders) as (keyof typeof securityHeaders)[];
const securityFields = securityHeaderNames.flatMap((name) => [name, securityHeaders[name]]);

/** The API and the metrics need credentials unless a route says `config: { auth: 'public' }`; pages and assets do not. */
function defaultAuthMode(url: string): AuthMode {
  return url.startsWith('/api/') || url === '/metrics' || url.startsWith('/metrics?') ? 'required' : 'public';
}

const authenticationRequired = () => new AuthenticationError('authentication required: log in, or send "Authorization: Bearer <API token>"');

/** `request.cookies` of a request without a Cookie header (never written to). */
const noCookies: Record<string, string | undefined> = Object.freeze({});

/**
 * Request ids: the caller's `x-request-id` when it is a plain token, otherwise a random per-process
 * prefix and a counter, unique across restarts and replicas without a random UUID per request.
 */
function createRequestIds(): (given: string | string[] | undefined) => string {
  const prefix = `${randomBytes(6).toString('base64url')}-`;
  let seq = 0;
  return (given) => (typeof given === 'string' && /^[A-Za-z0-9._-]{1,100}$/.test(given) ? given : prefix + (++seq).toString(36));
}

/** The value of the one `x-request-id` field among raw fields; several are none (node:http joins them, and the join is no token). */
function givenRequestId(raw: readonly string[]): string | undefined {
  let given: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 12 || raw[i]!.toLowerCase() !== 'x-request-id') continue;
    if (given !== undefined) return undefined;
    given = raw[i + 1]!;
  }
  return given;
}

/** An HTTP date (RFC 9110 §5.6.7) for the Date field, made at most once a second, as node:http does. */
function createHttpDates(): () => string {
  let second = -1;
  let text = '';
  return () => {
    const now = Date.now();
    if (Math.floor(now / 1000) !== second) {
      second = Math.floor(now / 1000);
      text = new Date(now).toUTCString();
    }
    return text;
  };
}

/** The liveness body: constant, so neither path serializes anything. */
export const HEALTHZ_BODY = JSON.stringify({ status: 'ok' });
const HEALTHZ_BYTES = Buffer.from(HEALTHZ_BODY);

/** Fastify's defaults for a server it makes itself, which a server factory has to set. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Probes and scrapes would drown the log: no request lines for them. */
const quietPaths = /^\/(healthz|readyz|metrics)\b/;

/** Maps any error to a named PlinthError; undefined means an internal error (500). */
function toPlinthError(error: unknown, dialect: Dialect, bodyLimitBytes: number): PlinthError | undefined {
  if (error instanceof PlinthError) return error;
  const e = error as Partial<FastifyError> & { validation?: { instancePath?: string; message?: string }[] };
  if (Array.isArray(e.validation)) {
    const where = e.validationContext ?? 'request';
    const problems = e.validation.map((v) => `${where}${(v.instancePath ?? '').replace(/\//g, '.')}: ${v.message ?? 'invalid'}`);
    return new InputError(problems.join('; '));
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(`request body is larger than the limit of ${bodyLimitBytes} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(`content type is not supported here; send application/json`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InputError('body: empty, but the content type says JSON; send a JSON body or no content type');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InputError(`body: malformed JSON: ${e.message ?? ''}`);
  }
  if (error instanceof SyntaxError && e.statusCode === 400) return new InputError(`body: malformed JSON: ${error.message}`);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 && e.code?.startsWith('FST_')) {
    if (e.statusCode === 404) return new NotFoundError(e.message ?? 'not found');
    if (e.statusCode === 413) return new PayloadTooLargeError(e.message ?? 'too large');
    if (e.statusCode === 415) return new UnsupportedMediaTypeError(e.message ?? 'unsupported media type');
    return new InputError(e.message ?? 'bad request');
  }
  if (dialect.isUnavailable(error)) return new ServiceUnavailableError('the database is unavailable right now; retry shortly', { cause: error });
  return undefined;
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: PlinthError | undefined, status?: number) {
  const statusCode = status ?? (error ? (statusForError(error) ?? 500) : 500);
  const body: ErrorResponseBody = {
    error: error ? { name: error.name, message: error.message } : { name: 'Error', message: `internal error, logId=${request.id}` },
    request: { method: request.method, url: request.url },
    response: { statusCode },
  };
  if (error instanceof TooManyRequestsError) reply.header('retry-after', String(error.retryAfterS));
  if (statusCode === 503) reply.header('retry-after', '2');
  return reply.code(statusCode).type('application/json; charset=utf-8').send(body);
}

export interface HttpDeps {
  logger: Logger;
  clock: Clock;
  dialect: Dialect;
  auth: Auth;
  audit: Audit;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** Built portal; served at / when it exists. */
  webDir: string;
}

/** The Fastify instance with the kernel's cross-cutting hooks: request ids, auth, CSRF, audit, metrics, errors. */
export async function createServer(deps: HttpDeps): Promise<Server> {
  const { logger, clock, dialect, auth, audit, metrics, bodyLimitBytes } = deps;
  const requestIds = createRequestIds();
  let closing = false;
  const httpDates = createHttpDates();
  const healthzFields = (exchange: FrontExchange): string[] => [
    'content-type', 'application/json; charset=utf-8',
    'content-length', String(HEALTHZ_BYTES.length),
    'x-request-id', requestIds(givenRequestId(exchange.rawHeaders)),
    ...securityFields,
    'date', httpDates(),
  ];
  let front: Front | undefined;
  const server = Fastify({
    /**
     * `GET`/`HEAD /healthz` is answered by the kernel's HTTP/1.1 front end (h1/front.ts) before node:http
     * parses the request: probes and load balancers call it thousands of times a minute, and node:http's
     * per-request objects, then Fastify's routing and hooks, were most of its cost (issue #2). It answers
     * what the route below answers (body, request id, security headers) and is counted in the same
     * metric. Any other request, and every request while the server closes, goes to node:http and Fastify
     * with its connection.
     */
    serverFactory: (handler) => {
      const http = createHttpServer(handler);
      http.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      http.requestTimeout = 0;
      front = frontOf(http, {
        keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
        takes: (method, url) => !closing && url === '/healthz' && (method === 'GET' || method === 'HEAD'),
        handle(exchange) {
          const started = performance.now();
          exchange.writeHead(200, healthzFields(exchange));
          exchange.end(exchange.method === 'HEAD' ? undefined : HEALTHZ_BYTES);
          metrics.httpDuration.observe(exchange.method, '/healthz', 200, (performance.now() - started) / 1000);
        },
      });
      return http;
    },
    loggerInstance: logger.child({ layer: 'http' }),
    bodyLimit: bodyLimitBytes,
    genReqId: (req) => requestIds(req.headers['x-request-id']),
    logController: new LogController({ disableRequestLogging: (req) => quietPaths.test(req.url ?? '') }),
    // A child logger per request, serialized only if the request logs (Fastify passes empty options
    // unless a route sets its own log level or serializers).
    childLoggerFactory: (logger, bindings, options) =>
      options.level === undefined && options.serializers === undefined ? lazyChild(logger, bindings) : logger.child(bindings, options),
    routerOptions: { maxParamLength: 500 },
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>() as unknown as Server;

  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  server.decorateRequest('principal', undefined);
  server.decorateRequest('auditActor', undefined);
  server.decorateRequest('csrfToken', undefined);
  // Cookies are parsed by the auth hook, only on requests that carry a Cookie header.
  await server.register(cookie, { hook: false });
  // Backstage clients send `Content-Type: application/json` on every request, bodiless DELETEs included.
  const jsonParser = server.getDefaultJsonParser('error', 'error');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || body === undefined) return done(null, undefined);
    return jsonParser(request, body as string, done);
  });

  // Every request passes these two hooks, probes and scrapes included: they are callback-style
  // (no promise per request when there is nothing to await) and read `request.routeOptions` (a getter
  // that builds a new object) once each. A request without credentials needs no lookup at all.
  server.addHook('preClose', (done) => {
    closing = true;
    front?.closeAll();
    done();
  });
  server.addHook('onClose', (_instance, done) => {
    front?.stop();
    done();
  });
  server.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    for (const name of securityHeaderNames) void reply.header(name, securityHeaders[name]);
    const mode = request.routeOptions.config.auth ?? defaultAuthMode(request.url);
    const { authorization, cookie: cookieHeader } = request.headers;
    if (authorization === undefined && cookieHeader === undefined) {
      request.cookies = noCookies;
      done(mode === 'required' ? authenticationRequired() : undefined);
      return;
    }
    authenticate(request, reply, mode, authorization, cookieHeader).then(() => done(), done);
  });

  /** Sets `request.principal` from a bearer token or the session cookie; throws what the caller must see. */
  async function authenticate(request: FastifyRequest, reply: FastifyReply, mode: AuthMode, authorization: string | undefined, cookieHeader: string | undefined) {
    request.cookies = cookieHeader ? server.parseCookie(cookieHeader) : noCookies;
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      try {
        if (!match) throw new AuthenticationError('Authorization header must be "Bearer <token>"');
        request.principal = await auth.authenticateToken(match[1]!);
      } catch (err) {
        // Health checks and other public routes answer whatever credentials come along.
        if (!(err instanceof AuthenticationError) || mode === 'required') throw err;
      }
      return;
    }
    const sessionSecret = request.cookies[SESSION_COOKIE];
    if (sessionSecret) {
      try {
        const { principal, csrfToken } = await auth.authenticateSession(sessionSecret);
        // A cookie rides along on cross-site requests; only our own pages know the CSRF token.
        if (stateChanging.has(request.method) && request.headers[CSRF_HEADER] !== csrfToken) {
          throw new NotAllowedError(`missing or wrong ${CSRF_HEADER} header; state-changing requests from a session need the CSRF token from login`);
        }
        request.principal = principal;
        request.csrfToken = csrfToken;
      } catch (err) {
        if (err instanceof AuthenticationError) {
          reply.clearCookie(SESSION_COOKIE, { path: '/' });
          if (mode === 'required') throw err;
        } else throw err;
      }
    }
    if (mode === 'required' && !request.principal) throw authenticationRequired();
  }

  server.addHook('onResponse', (request, reply, done) => {
    const { config, url } = request.routeOptions;
    const route = url ?? 'unmatched';
    metrics.httpDuration.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (!stateChanging.has(request.method) || config.audit === false) {
      done();
      return;
    }
    const principal = request.principal;
    audit
      .record({
        id: newId(),
        time: toIso(clock.now()),
        actor: principal ? principalRef(principal) : (request.auditActor ?? 'anonymous'),
        action: config.audit ?? `${request.method} ${route}`,
        method: request.method,
        url: request.url.slice(0, 2000),
        ip: request.ip,
        statusCode: reply.statusCode,
        outcome: outcomeForStatus(reply.statusCode),
        requestId: request.id,
      })
      .then(() => done(), done);
  });

  server.setErrorHandler((error, request, reply) => {
    const mapped = toPlinthError(error, dialect, bodyLimitBytes);
    if (!mapped) request.log.error({ err: error }, 'internal error');
    else if ((statusForError(mapped) ?? 500) >= 500) request.log.warn({ err: error }, mapped.message);
    return sendError(request, reply, mapped);
  });

  const portal = existsSync(`${deps.webDir}/index.html`);
  if (portal) {
    await server.register(fastifyStatic, { root: deps.webDir, prefix: '/', wildcard: false, index: false, cacheControl: false });
  }
  server.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // Entity names may contain dots (/catalog/default/user/priya.raman): only asset-like paths are files.
    const isAsset = /\.(js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|json|txt|xml)$/i.test(path) || path.startsWith('/assets/');
    const isPage = (request.method === 'GET' || request.method === 'HEAD') && !/^\/(api|git)\//.test(path) && !isAsset;
    // The portal is a single-page app: unknown page paths render it and it routes on the client.
    if (portal && isPage) return reply.header('cache-control', 'no-cache').sendFile('index.html');
    return sendError(request, reply, new NotFoundError(`no route for ${request.method} ${path}`));
  });
  return server;
}
