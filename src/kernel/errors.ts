/**
 * Errors whose `name` is the wire contract (Backstage's error names), so Backstage clients and our portal
 * surface them by name. Each sets `name` as a literal: `constructor.name` changes under bundling.
 */
export class PlinthError extends Error {
  override readonly name: string = 'PlinthError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
export class InputError extends PlinthError { override readonly name = 'InputError'; }
export class AuthenticationError extends PlinthError { override readonly name = 'AuthenticationError'; }
export class NotAllowedError extends PlinthError { override readonly name = 'NotAllowedError'; }
export class NotFoundError extends PlinthError { override readonly name = 'NotFoundError'; }
export class ConflictError extends PlinthError { override readonly name = 'ConflictError'; }
export class PayloadTooLargeError extends PlinthError { override readonly name = 'PayloadTooLargeError'; }
export class UnsupportedMediaTypeError extends PlinthError { override readonly name = 'UnsupportedMediaTypeError'; }
export class TooManyRequestsError extends PlinthError {
  override readonly name = 'TooManyRequestsError';
  constructor(message: string, readonly retryAfterS: number) {
    super(message);
  }
}
export class NotImplementedError extends PlinthError { override readonly name = 'NotImplementedError'; }
export class ServiceUnavailableError extends PlinthError { override readonly name = 'ServiceUnavailableError'; }

const statusByName: Record<string, number> = {
  InputError: 400,
  AuthenticationError: 401,
  NotAllowedError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  PayloadTooLargeError: 413,
  UnsupportedMediaTypeError: 415,
  TooManyRequestsError: 429,
  NotImplementedError: 501,
  ServiceUnavailableError: 503,
};

/** The HTTP status for a named error, or undefined for anything unnamed (which becomes a 500). */
export function statusForError(error: unknown): number | undefined {
  return error instanceof PlinthError ? statusByName[error.name] : undefined;
}

/** The wire body of an error response (Backstage's ErrorResponseBody). */
export interface ErrorResponseBody {
  error: { name: string; message: string };
  request: { method: string; url: string };
  response: { statusCode: number };
}
