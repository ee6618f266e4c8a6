import { randomBytes, randomUUID } from 'node:crypto';

/** The time source every layer uses, injected so tests can move time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Fixed-width ISO-8601 UTC text, the portable timestamp column format (sorts as text). */
export function toIso(date: Date): string {
  return date.toISOString();
}

export function newId(): string {
  return randomUUID();
}

/** A URL-safe random secret with `bytes` bytes of entropy. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
