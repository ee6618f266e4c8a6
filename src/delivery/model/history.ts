import { z } from 'zod';
import type { AnalysisResult } from './analysis.js';

/**
 * Analyses kept per rollout. A canary judged every second for an hour would make 3,600; past this many
 * the older half is thinned (see `thinnedAnalyses`), so a chart of the whole rollout stays cheap to
 * serve and draw while recent analyses keep their full resolution.
 */
export const MAX_ANALYSES_PER_ROLLOUT = 2000;

const Side = z.object({ requests: z.number(), errorRatePercent: z.number().nullable(), p99Ms: z.number().nullable() });

/** One analysis the controller made of a rollout's canary, as GET /api/delivery/rollouts/:id/analyses serves it. */
export const AnalysisRecord = z.object({
  /** Increasing per rollout; `after=<seq>` reads only newer ones. */
  seq: z.number().int(),
  at: z.string(),
  /** The step being judged and its canary weight at that time. */
  stepIndex: z.number().int(),
  weightPercent: z.number(),
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  summary: z.string(),
  canary: Side,
  stable: Side.nullable(),
  checks: z.array(z.object({
    name: z.enum(['min-requests', 'error-rate', 'error-rate-vs-stable', 'p99-latency', 'p99-latency-vs-stable']),
    verdict: z.enum(['pass', 'fail', 'skipped']),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    pValue: z.number().nullable(),
    detail: z.string(),
  })),
});
export type AnalysisRecord = z.infer<typeof AnalysisRecord>;

export const AnalysesQuery = z.strictObject({
  /** Only analyses with a greater `seq` (incremental polling). */
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ANALYSES_PER_ROLLOUT).default(MAX_ANALYSES_PER_ROLLOUT),
});
export type AnalysesQuery = z.infer<typeof AnalysesQuery>;

/** What the controller records of one analysis: the result, when, and the step and weight it judged. */
export function toAnalysisRecord(result: AnalysisResult, at: string, step: { stepIndex: number; weightPercent: number }): Omit<AnalysisRecord, 'seq'> {
  return { at, stepIndex: step.stepIndex, weightPercent: step.weightPercent, verdict: result.verdict, summary: result.summary, canary: result.canary, stable: result.stable, checks: result.checks };
}

/**
 * Which stored analyses to delete once a rollout has more than `max` (pure): every second one of the
 * older half, oldest first, except failed ones and the first of each step, so rollbacks and step
 * changes stay on the chart. Repeated, this keeps recent analyses dense and old ones ever sparser.
 */
export function thinnedAnalyses(oldestFirst: readonly { seq: number; stepIndex: number; verdict: string }[], max = MAX_ANALYSES_PER_ROLLOUT): number[] {
  if (oldestFirst.length <= max) return [];
  const older = oldestFirst.slice(0, Math.floor(oldestFirst.length / 2));
  return older.filter((row, i) => i % 2 === 1 && row.verdict !== 'fail' && row.stepIndex === older[i - 1]!.stepIndex).map((row) => row.seq);
}
