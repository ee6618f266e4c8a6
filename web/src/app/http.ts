/**
 * The portal's one fetch helper: same-origin cookies, JSON in and out, the CSRF header on every
 * state-changing call, and the server's Backstage-shaped error body turned into an ApiError whose
 * message the screens show as it is.
 */

/** A failed API call; `name` is the server's error name (`InputError`, `ConflictError`, …). */
export class ApiError extends Error {
  override readonly name: string;
  readonly statusCode: number;

  constructor(name: string, message: string, statusCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
    this.statusCode = statusCode;
  }
}

export function isApiError(error: unknown, statusCode?: number): error is ApiError {
  return error instanceof ApiError && (statusCode === undefined || error.statusCode === statusCode);
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  body?: unknown;
  /** Appended as a query string; undefined, null and '' values are left out. */
  query?: Record<string, QueryValue>;
  signal?: AbortSignal;
  /**
   * By default a 401 ends the session in the portal and sends the user to the login page. The
   * login call and the session probe turn this off: for them a 401 is an answer, not an expiry.
   */
  redirectOnUnauthorized?: boolean;
}

let csrfToken: string | undefined;

/** The session's CSRF token, from login or GET /api/auth/me; undefined when signed out. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

let unauthorizedHandler: () => void = () => {
  window.location.assign('/login');
};

/** The auth provider replaces the default full-page redirect with an in-app one. */
export function setUnauthorizedHandler(handler: () => void): void {
  unauthorizedHandler = handler;
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return search === '' ? path : `${path}?${search}`;
}

const stateChanging = new Set<Method>(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (stateChanging.has(method) && csrfToken !== undefined) headers['x-csrf-token'] = csrfToken;

  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    throw new ApiError('NetworkError', 'cannot reach the Plinth server; check that it is running', 0, { cause });
  }

  if (!response.ok) {
    const error = await readError(response);
    if (response.status === 401 && options.redirectOnUnauthorized !== false) unauthorizedHandler();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  // The one place untyped JSON becomes a server type; the server's response schemas are the contract.
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

async function readError(response: Response): Promise<ApiError> {
  const fallback = `${response.status} ${response.statusText || 'request failed'}`.trim();
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return new ApiError(response.status >= 500 ? 'ServerError' : 'Error', fallback, response.status);
  }
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const name = typeof error?.name === 'string' ? error.name : 'Error';
  const message = typeof error?.message === 'string' && error.message !== '' ? error.message : fallback;
  return new ApiError(name, message, response.status);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export const http = {
  get: <T>(path: string, options?: Omit<RequestOptions, 'body'>) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PATCH', path, { ...options, body }),
  delete: <T = void>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
};
