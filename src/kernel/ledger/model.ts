import { z } from 'zod';

/**
 * Event kinds are `<layer>.<noun>.<past-verb>`. The kernel's own kinds are typed here; a layer's kinds
 * carry the payload type its model.ts declares (`PayloadOf` falls back to a JSON object for them).
 */
export interface EventPayloads {
  'kernel.user.created': { userId: string; username: string; role: string };
  'kernel.user.updated': { userId: string; username: string; changes: string[] };
  'kernel.session.started': { userId: string; username: string };
  'kernel.token.created': { tokenId: string; userId: string; name: string; scopes: string[] };
  'kernel.token.revoked': { tokenId: string; userId: string };
  'kernel.job.dead-lettered': { jobId: string; kind: string; attempts: number; lastError: string | null };
}

export type EventKind = string;

/** The payload of a kernel kind, or a JSON object for a layer's kind. */
export type PayloadOf<K extends string> = K extends keyof EventPayloads ? EventPayloads[K] : Record<string, unknown>;

export const eventKindPattern = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/;
/** Subject refs name what an event is about: `service:default/payments`, `group:default/team-a`, `environment:production`. */
export const subjectRefPattern = /^[a-z][a-z0-9-]*:[^\s]{1,300}$/i;

/** An event to append. `subjects` are what later queries and metrics filter by. */
export interface NewEvent<K extends EventKind = EventKind> {
  kind: K;
  subjects?: readonly string[];
  /** Who caused it: `user:default/alice`, `system:jobs`, or null. */
  actor?: string | null;
  payload: PayloadOf<K>;
  /** Defaults to the clock's now. */
  time?: Date;
}

/** An appended event, as stored and served. */
export interface LedgerEvent<K extends EventKind = EventKind> {
  /** Monotonic across the whole ledger, gap-free in commit order per reader. */
  seq: number;
  id: string;
  time: string;
  kind: K;
  subjects: string[];
  actor: string | null;
  payload: PayloadOf<K>;
}

export interface EventFilter {
  kinds?: readonly string[];
  subject?: string;
  /** Inclusive ISO time bounds. */
  since?: string;
  until?: string;
  afterSeq?: number;
}

export function matchesFilter(event: LedgerEvent, filter: EventFilter): boolean {
  if (filter.kinds && filter.kinds.length > 0 && !filter.kinds.includes(event.kind)) return false;
  if (filter.subject !== undefined && !event.subjects.includes(filter.subject)) return false;
  if (filter.since !== undefined && event.time < filter.since) return false;
  if (filter.until !== undefined && event.time > filter.until) return false;
  if (filter.afterSeq !== undefined && event.seq <= filter.afterSeq) return false;
  return true;
}

const kindList = z
  .string()
  .max(1000)
  .transform((s) => s.split(',').map((k) => k.trim()).filter((k) => k.length > 0))
  .refine((kinds) => kinds.every((k) => eventKindPattern.test(k)), {
    message: 'each kind looks like layer.noun.verb, e.g. kernel.user.created',
  });

export const EventQuery = z.strictObject({
  kind: kindList.optional(),
  subject: z.string().regex(subjectRefPattern, 'a subject ref looks like kind:namespace/name').optional(),
  since: z.iso.datetime().optional(),
  until: z.iso.datetime().optional(),
  afterSeq: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type EventQuery = z.infer<typeof EventQuery>;

/** `after` is the portal's resume parameter (the last event id seen before the tab was hidden), the same as `afterSeq`. */
export const EventStreamQuery = EventQuery.omit({ since: true, until: true, limit: true }).extend({ after: z.coerce.number().int().min(0).optional() });

export const LedgerEventView = z.object({
  seq: z.number(),
  id: z.string(),
  time: z.string(),
  kind: z.string(),
  subjects: z.array(z.string()),
  actor: z.string().nullable(),
  payload: z.unknown(),
});
export type LedgerEventView = z.infer<typeof LedgerEventView>;

export function validateNewEvent(event: NewEvent): void {
  if (!eventKindPattern.test(event.kind)) throw new Error(`event kind "${event.kind}" is not layer.noun.verb`);
  for (const subject of event.subjects ?? []) {
    if (!subjectRefPattern.test(subject)) throw new Error(`event subject "${subject}" is not a ref like kind:namespace/name`);
  }
}
