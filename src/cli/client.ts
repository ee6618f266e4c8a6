/**
 * The CLI's one HTTP helper: base URL, bearer token, JSON in and out, and the server's Backstage-shaped
 * error body turned into an ApiError that keeps `name`, `message` and the status.
 */

/**
 * An error response from the server: `{ error: { name, message }, request, response: { statusCode } }`.
 * `body` is the parsed JSON body, for the few routes that answer an error with another shape.
 */
export class ApiError extends Error {
  override readonly name: string;
  constructor(
    name: string,
    message: string,
    readonly status: number,
    readonly method: string,
    readonly url: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = name;
  }
}

/** The server could not be reached at all (connection refused, DNS, TLS, timeout). */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
  constructor(
    readonly server: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach Plinth at ${server}${code !== undefined && code !== 'ECONNREFUSED' ? ` (${code})` : ''}: is it running? (npm start)`, options);
  }
}

export interface RequestOptions {
  /** JSON request body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Query parameters; an array repeats the parameter (`filter=a&filter=b`), undefined leaves it out. */
  query?: Record<string, string | readonly string[] | undefined>;
  /** Send the bearer token (default true). */
  auth?: boolean;
  signal?: AbortSignal;
  /** Default 30 s; streams pass `null` for none. */
  timeoutMs?: number | null;
}

export interface Client {
  readonly server: string;
  readonly token: string | undefined;
  /** Sends a request and returns the parsed JSON body (undefined for 204); throws ApiError for 4xx/5xx. */
  json<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** Sends a request and returns the response when it is 2xx (for streams and headers); throws ApiError otherwise. */
  send(method: string, path: string, options?: RequestOptions): Promise<Response>;
}

export interface ClientOptions {
  server: string;
  token?: string | undefined;
  fetch?: typeof fetch;
}

const defaultTimeoutMs = 30_000;

export function createClient(options: ClientOptions): Client {
  const { server, token } = options;
  const doFetch = options.fetch ?? fetch;

  function urlFor(path: string, query: RequestOptions['query']): string {
    const url = new URL(`${server}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (typeof value === 'string') url.searchParams.set(key, value);
      else for (const one of value ?? []) url.searchParams.append(key, one);
    }
    return url.toString();
  }

  async function send(method: string, path: string, req: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (req.auth !== false && token !== undefined) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.body);
    }
    const timeoutMs = req.timeoutMs === undefined ? defaultTimeoutMs : req.timeoutMs;
    const signals = [req.signal, timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs)].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    let res: Response;
    try {
      res = await doFetch(urlFor(path, req.query), {
        method,
        headers,
        body,
        signal: signals.length > 0 ? AbortSignal.any(signals) : null,
      });
    } catch (err) {
      if (req.signal?.aborted === true) throw err;
      throw new UnreachableError(server, errorCode(err), { cause: err });
    }
    if (res.status >= 400) throw await toApiError(res, method, path);
    return res;
  }

  async function json<T>(method: string, path: string, req: RequestOptions = {}): Promise<T> {
    const res = await send(method, path, req);
    const text = await res.text();
    if (res.status === 204 || text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError('ResponseError', `${method} ${path}: the server answered ${res.status} with a body that is not JSON`, res.status, method, path);
    }
  }

  return { server, token, json, send };
}

/** The `code` of a fetch failure (undici wraps the system error in `cause`, sometimes twice). */
function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    if (current.name === 'TimeoutError') return 'timeout';
    current = current.cause;
  }
  return undefined;
}

async function toApiError(res: Response, method: string, path: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: { name?: unknown; message?: unknown } } | undefined)?.error;
  if (error !== undefined && typeof error.name === 'string' && typeof error.message === 'string') {
    return new ApiError(error.name, error.message, res.status, method, path, parsed);
  }
  const reason = res.statusText !== '' ? `${res.status} ${res.statusText}` : `status ${res.status}`;
  return new ApiError('ResponseError', `${method} ${path} failed with ${reason}`, res.status, method, path, parsed);
}
