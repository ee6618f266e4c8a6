import { z } from 'zod';
import type { Tx } from '../store/index.js';

/**
 * Job phases:
 * - queued: waiting for `runAt` and a free worker
 * - running: claimed by a worker holding an unexpired lease
 * - succeeded: the handler finished; its effects committed with the completion
 * - failed: the handler reported a terminal failure
 * - cancelled: cancelled before or while running
 * - dead: dead-lettered after `maxAttempts` attempts; an admin may retry it
 */
export const jobStates = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead'] as const;
export type JobState = (typeof jobStates)[number];

export function isTerminal(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled' || state === 'dead';
}

export interface Job {
  id: string;
  kind: string;
  payload: unknown;
  state: JobState;
  priority: number;
  runAt: string;
  attempts: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  workerId: string | null;
  leaseExpiresAt: string | null;
  cancelRequested: boolean;
  lastError: string | null;
  output: unknown;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** A job as a worker holds it: the lease token fences every write the worker makes. */
export interface ClaimedJob extends Job {
  leaseToken: string;
}

export interface EnqueueInput {
  kind: string;
  payload?: unknown;
  /** A second enqueue with the same key returns the first job instead of creating one. */
  idempotencyKey?: string;
  runAt?: Date;
  /** Higher runs first. */
  priority?: number;
  maxAttempts?: number;
}

/** What a handler decided; effects in `commit` run in the same transaction that records completion. */
export type JobOutcome =
  | { kind: 'done'; output?: unknown; commit?: (tx: Tx) => Promise<void> }
  | { kind: 'wait'; until: Date }
  | { kind: 'retry'; error: Error }
  | { kind: 'fail'; reason: string };

export interface JobProgress {
  seq: number;
  time: string;
  message: string;
  data: unknown;
}

export interface JobContext {
  /** Aborted when the job is cancelled, its lease is lost, or the worker shuts down. */
  signal: AbortSignal;
  /** Appends a progress record to the job. */
  progress(message: string, data?: unknown): Promise<void>;
}

export type JobHandler = (job: ClaimedJob, ctx: JobContext) => Promise<JobOutcome>;

export interface HandlerOptions {
  /** How long a claim holds without a heartbeat; heartbeats run every third of it. */
  leaseMs?: number;
}

/** Exponential backoff with full jitter, capped: attempt 1 → up to 1 s, 2 → 2 s, … ≤ 5 min. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.max(0, attempt - 1), 5 * 60_000);
  return Math.round(base / 2 + (base / 2) * random());
}

export const JobView = z.object({
  id: z.string(),
  kind: z.string(),
  payload: z.unknown(),
  state: z.enum(jobStates),
  priority: z.number(),
  runAt: z.string(),
  attempts: z.number(),
  maxAttempts: z.number(),
  idempotencyKey: z.string().nullable(),
  workerId: z.string().nullable(),
  leaseExpiresAt: z.string().nullable(),
  cancelRequested: z.boolean(),
  lastError: z.string().nullable(),
  output: z.unknown(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const JobListQuery = z.strictObject({
  state: z.enum(jobStates).optional(),
  kind: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
export type JobListQuery = z.infer<typeof JobListQuery>;
