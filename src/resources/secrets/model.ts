/** Master-key rotation of the secret store (issue 8): the keyring's status and re-wrap runs. */
import { z } from 'zod';

/** The job that re-wraps every secret version still on a previous master key. */
export const REWRAP_JOB = 'resources.rewrap-secrets';

/**
 * Phases of a re-wrap run:
 * - running: batches are being re-wrapped (or the job waits to resume after a crash)
 * - done: every version it found on a previous key was re-wrapped or skipped; the ledger has the counts
 */
export const rewrapPhases = ['running', 'done'] as const;
export type RewrapPhase = (typeof rewrapPhases)[number];

/** Where a run stands; each batch advances `cursor` and the counts in the same transaction as its rows. */
export interface SecretRewrap {
  jobId: string;
  toKeyId: string;
  phase: RewrapPhase;
  batchSize: number;
  /** Batches committed so far; also the record's version for conditional updates. */
  batches: number;
  /** The last version looked at, in (name, version) order; null before the first batch. */
  cursor: { name: string; version: number } | null;
  /** Versions re-wrapped, by the key id they were on. */
  rewrapped: Record<string, number>;
  /** Versions left as they were, by key id: wrapped by a key not in the keyring, or failing to unwrap. */
  skipped: Record<string, number>;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export const RewrapBody = z.strictObject({
  /** Versions per transaction: small batches keep each write lock short. */
  batchSize: z.number().int().min(1).max(5000).default(500),
});
export type RewrapBody = z.infer<typeof RewrapBody>;

export const RewrapJobPayload = z.object({ toKeyId: z.string().regex(/^[0-9a-f]{16}$/) });

export const RewrapStarted = z.object({
  jobId: z.string(),
  toKeyId: z.string(),
  /** False when a run was already going: that run's job is returned. */
  created: z.boolean(),
});
export type RewrapStarted = z.infer<typeof RewrapStarted>;

export const keyStates = ['current', 'previous', 'unknown'] as const;

export const SecretKeysView = z.object({
  currentKeyId: z.string(),
  previousKeyIds: z.array(z.string()),
  /** Secret versions per wrapping key; `unknown` keys are not in this server's keyring (those versions cannot be read). */
  versions: z.array(z.object({ keyId: z.string(), state: z.enum(keyStates), count: z.number() })),
  lastRewrap: z
    .object({
      jobId: z.string(),
      jobState: z.string(),
      toKeyId: z.string(),
      phase: z.enum(rewrapPhases),
      batches: z.number(),
      rewrapped: z.record(z.string(), z.number()),
      skipped: z.record(z.string(), z.number()),
      createdBy: z.string(),
      createdAt: z.string(),
      finishedAt: z.string().nullable(),
    })
    .nullable(),
});
export type SecretKeysView = z.infer<typeof SecretKeysView>;

/** Adds `more` to `counts` by key id (a new object). */
export function addCounts(counts: Readonly<Record<string, number>>, more: Readonly<Record<string, number>>): Record<string, number> {
  const sum = { ...counts };
  for (const [keyId, n] of Object.entries(more)) if (n > 0) sum[keyId] = (sum[keyId] ?? 0) + n;
  return sum;
}

export const sumCounts = (counts: Readonly<Record<string, number>>): number => Object.values(counts).reduce((a, b) => a + b, 0);
