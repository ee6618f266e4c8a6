import { z } from 'zod';
import { binomialGreater, fisherExactGreater, histogramCountAbove, histogramQuantile, mannWhitneyGreater } from './statistics.js';

/**
 * Canary analysis thresholds (README "Progressive delivery" documents them). Every failing check
 * needs both statistical evidence (p < alpha) and an effect at least as large as configured, so noise
 * in a healthy release does not roll it back (Kayenta's judge: a rank test plus an effect size).
 */
export const AnalysisConfig = z.strictObject({
  /** Canary requests in the window before anything is judged; fewer → the rollout waits and says so. */
  minRequests: z.number().int().min(1).max(1_000_000).default(50),
  /** Absolute: the canary fails when its 5xx rate is significantly above this (success rate ≥ 95%). */
  maxErrorRatePercent: z.number().min(0).max(100).default(5),
  /** Relative: the canary fails when its 5xx rate is significantly above the stable's by at least this many points. */
  minErrorRateIncreasePercent: z.number().min(0).max(100).default(2),
  /** Absolute: the canary fails when its p99 is above this and significantly more than 1% of its requests were slower. */
  maxP99Ms: z.number().positive().max(600_000).default(1000),
  /** Relative: canary p99 above stable p99 × this (and by at least `minP99IncreaseMs`), with a significant rank test, fails. */
  maxP99Ratio: z.number().min(1).max(100).default(1.5),
  minP99IncreaseMs: z.number().min(0).max(600_000).default(25),
  /** Significance level of the one-sided tests; small because a rollout looks many times (sequential peeking). */
  alpha: z.number().gt(0).lt(0.5).default(0.0001),
});
export type AnalysisConfig = z.infer<typeof AnalysisConfig>;

/** What the gateway counted for one release over an analysis window. */
export interface TrafficWindow {
  requests: number;
  errors: number;
  /** Counts per latency bucket (upper bounds `bucketsMs`, then +Inf). */
  latencyCounts: number[];
}

export interface AnalysisCheck {
  name: 'min-requests' | 'error-rate' | 'error-rate-vs-stable' | 'p99-latency' | 'p99-latency-vs-stable';
  verdict: 'pass' | 'fail' | 'skipped';
  /** The measured value, the threshold, the test's p-value when one ran: why it passed or failed. */
  value: number | null;
  threshold: number | null;
  pValue: number | null;
  detail: string;
}

export interface AnalysisResult {
  /** `inconclusive`: too little traffic to judge; the rollout waits, it never promotes or rolls back on it. */
  verdict: 'pass' | 'fail' | 'inconclusive';
  summary: string;
  canary: { requests: number; errorRatePercent: number | null; p99Ms: number | null };
  stable: { requests: number; errorRatePercent: number | null; p99Ms: number | null } | null;
  checks: AnalysisCheck[];
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const rate = (w: TrafficWindow) => (w.requests === 0 ? null : (100 * w.errors) / w.requests);

/** Judges a canary's window against the stable's window of the same period (pure; every branch unit-tested). */
export function analyseCanary(config: AnalysisConfig, bucketsMs: readonly number[], canary: TrafficWindow, stable: TrafficWindow | null): AnalysisResult {
  const canaryP99 = histogramQuantile(0.99, bucketsMs, canary.latencyCounts) ?? null;
  const stableP99 = stable ? (histogramQuantile(0.99, bucketsMs, stable.latencyCounts) ?? null) : null;
  const views = {
    canary: { requests: canary.requests, errorRatePercent: rate(canary) === null ? null : round(rate(canary)!), p99Ms: canaryP99 === null ? null : round(canaryP99) },
    stable: stable ? { requests: stable.requests, errorRatePercent: rate(stable) === null ? null : round(rate(stable)!), p99Ms: stableP99 === null ? null : round(stableP99) } : null,
  };
  if (canary.requests < config.minRequests) {
    const detail = `too little traffic to judge: the canary served ${canary.requests} of the ${config.minRequests} requests needed; waiting for more`;
    return { verdict: 'inconclusive', summary: detail, ...views, checks: [{ name: 'min-requests', verdict: 'fail', value: canary.requests, threshold: config.minRequests, pValue: null, detail }] };
  }
  const checks: AnalysisCheck[] = [{ name: 'min-requests', verdict: 'pass', value: canary.requests, threshold: config.minRequests, pValue: null, detail: `${canary.requests} canary requests` }];
  const canaryRate = rate(canary)!;

  const pAbs = binomialGreater(canary.errors, canary.requests, config.maxErrorRatePercent / 100);
  const absFails = canaryRate > config.maxErrorRatePercent && pAbs < config.alpha;
  checks.push({ name: 'error-rate', verdict: absFails ? 'fail' : 'pass', value: round(canaryRate), threshold: config.maxErrorRatePercent, pValue: round(pAbs, 6), detail: `canary 5xx rate ${round(canaryRate, 2)}% (${canary.errors}/${canary.requests}) vs limit ${config.maxErrorRatePercent}% (binomial p=${pAbs.toPrecision(3)})` });

  const relativeReady = stable !== null && stable.requests >= config.minRequests;
  if (relativeReady) {
    const stableRate = rate(stable)!;
    const pRel = fisherExactGreater(canary.errors, canary.requests, stable.errors, stable.requests);
    const increase = canaryRate - stableRate;
    const fails = increase >= config.minErrorRateIncreasePercent && pRel < config.alpha;
    checks.push({ name: 'error-rate-vs-stable', verdict: fails ? 'fail' : 'pass', value: round(increase), threshold: config.minErrorRateIncreasePercent, pValue: round(pRel, 6), detail: `canary 5xx ${round(canaryRate, 2)}% vs stable ${round(stableRate, 2)}% (+${round(increase, 2)} points, Fisher exact p=${pRel.toPrecision(3)})` });
  } else {
    checks.push({ name: 'error-rate-vs-stable', verdict: 'skipped', value: null, threshold: config.minErrorRateIncreasePercent, pValue: null, detail: 'the stable release served too few requests in this window to compare with' });
  }

  // p99 above the limit means more than 1% of requests were slower than it; one stalled request among a
  // few dozen (a GC pause, a busy host) is not evidence of that, so the share is tested like the 5xx rate.
  const slow = Math.round(histogramCountAbove(config.maxP99Ms, bucketsMs, canary.latencyCounts));
  const pP99 = binomialGreater(slow, canary.requests, 0.01);
  const p99Fails = canaryP99 !== null && canaryP99 > config.maxP99Ms && pP99 < config.alpha;
  checks.push({ name: 'p99-latency', verdict: p99Fails ? 'fail' : 'pass', value: canaryP99 === null ? null : round(canaryP99), threshold: config.maxP99Ms, pValue: round(pP99, 6), detail: `canary p99 ${canaryP99 === null ? '-' : round(canaryP99, 1)} ms vs limit ${config.maxP99Ms} ms (${slow}/${canary.requests} slower, binomial p=${pP99.toPrecision(3)} against 1%)` });

  if (relativeReady && canaryP99 !== null && stableP99 !== null) {
    const pLat = mannWhitneyGreater(canary.latencyCounts, stable.latencyCounts);
    const fails = canaryP99 > stableP99 * config.maxP99Ratio && canaryP99 - stableP99 >= config.minP99IncreaseMs && pLat < config.alpha;
    checks.push({ name: 'p99-latency-vs-stable', verdict: fails ? 'fail' : 'pass', value: stableP99 > 0 ? round(canaryP99 / stableP99) : null, threshold: config.maxP99Ratio, pValue: round(pLat, 6), detail: `canary p99 ${round(canaryP99, 1)} ms vs stable ${round(stableP99, 1)} ms (Mann-Whitney p=${pLat.toPrecision(3)})` });
  } else {
    checks.push({ name: 'p99-latency-vs-stable', verdict: 'skipped', value: null, threshold: config.maxP99Ratio, pValue: null, detail: 'the stable release served too few requests in this window to compare with' });
  }

  const failed = checks.filter((c) => c.verdict === 'fail');
  return failed.length > 0
    ? { verdict: 'fail', summary: `analysis failed: ${failed.map((c) => c.detail).join('; ')}`, ...views, checks }
    : { verdict: 'pass', summary: `analysis passed over ${canary.requests} canary requests (5xx ${round(canaryRate, 2)}%, p99 ${canaryP99 === null ? '-' : round(canaryP99, 1)} ms)`, ...views, checks };
}

/** Cumulative per-release counters as the gateway reports them. */
export interface CounterSnapshot {
  requests: number;
  errors: number;
  latencyCounts: number[];
}

/**
 * The window between two cumulative snapshots. Counters start again from zero when the server
 * restarts; a counter below its baseline means that happened, so the window is everything since.
 */
export function windowBetween(baseline: CounterSnapshot | undefined, current: CounterSnapshot | undefined, buckets: number): TrafficWindow {
  const now = current ?? { requests: 0, errors: 0, latencyCounts: new Array<number>(buckets).fill(0) };
  if (!baseline || now.requests < baseline.requests) return { requests: now.requests, errors: now.errors, latencyCounts: [...now.latencyCounts] };
  return { requests: now.requests - baseline.requests, errors: now.errors - baseline.errors, latencyCounts: now.latencyCounts.map((c, i) => c - (baseline.latencyCounts[i] ?? 0)) };
}
