import { describe, expect, it } from 'vitest';
import { AnalysisConfig, analyseCanary, binomialGreater, decideCanaryStep, fisherExactGreater, histogramCountAbove, histogramQuantile, logGamma, mannWhitneyGreater, normalCdf, RolloutStrategy, thinnedAnalyses, windowBetween, type RolloutStatus, type TrafficWindow } from './index.js';

const BUCKETS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];
const config = AnalysisConfig.parse({});
/** A window of `requests` with `errors` 5xx, all latencies in the bucket ≤ `bucketMs`. */
function window(requests: number, errors: number, bucketMs = 5): TrafficWindow {
  const latencyCounts = new Array<number>(BUCKETS.length + 1).fill(0);
  latencyCounts[BUCKETS.indexOf(bucketMs)] = requests;
  return { requests, errors, latencyCounts };
}
/** Deterministic pseudo-random source (mulberry32), so the noise tests are reproducible. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('statistics', () => {
  it('logGamma gives log factorials', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 10);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 8);
  });
  it('Fisher exact test matches the lady tasting tea (17/70) and small tables', () => {
    expect(fisherExactGreater(3, 4, 1, 4)).toBeCloseTo(17 / 70, 10);
    expect(fisherExactGreater(3, 3, 0, 3)).toBeCloseTo(1 / 20, 10);
    expect(fisherExactGreater(0, 10, 5, 10)).toBeCloseTo(1, 10);
    expect(fisherExactGreater(0, 0, 5, 10)).toBe(1);
  });
  it('binomial tail is exact', () => {
    expect(binomialGreater(3, 3, 0.5)).toBeCloseTo(0.125, 12);
    expect(binomialGreater(2, 3, 0.5)).toBeCloseTo(0.5, 12);
    expect(binomialGreater(0, 3, 0.5)).toBe(1);
  });
  it('normal CDF', () => {
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
  });
  it('Mann-Whitney: identical histograms are not significant, a shifted one is', () => {
    const same = [0, 10, 30, 10, 0];
    expect(mannWhitneyGreater(same, same)).toBeGreaterThan(0.4);
    expect(mannWhitneyGreater([0, 0, 0, 10, 40], [0, 10, 30, 10, 0])).toBeLessThan(1e-6);
    expect(mannWhitneyGreater([0, 10, 30, 10, 0], [0, 0, 0, 10, 40])).toBeGreaterThan(0.999);
  });
  it('histogram quantiles interpolate inside a bucket; +Inf gives the last bound', () => {
    expect(histogramQuantile(0.5, [10, 20], [50, 50, 0])).toBeCloseTo(10, 10);
    expect(histogramQuantile(0.99, [10, 20], [50, 50, 0])).toBeCloseTo(19.8, 10);
    // The count above a limit agrees with the quantile: p99 is above 19 exactly when more than 1% is.
    expect(histogramCountAbove(19, [10, 20], [50, 50, 0])).toBeCloseTo(5, 10);
    expect(histogramCountAbove(19.8, [10, 20], [50, 50, 0])).toBeCloseTo(1, 10);
    expect(histogramCountAbove(20, [10, 20], [50, 50, 7])).toBe(7);
    expect(histogramCountAbove(30, [10, 20], [50, 50, 7])).toBe(7);
    expect(histogramQuantile(0.99, [10, 20], [0, 0, 5])).toBe(20);
    expect(histogramQuantile(0.99, [10, 20], [0, 0, 0])).toBeUndefined();
  });
});

describe('canary analysis', () => {
  it('too little traffic is inconclusive and says how much is missing', () => {
    const r = analyseCanary(config, BUCKETS, window(12, 6), window(500, 0));
    expect(r.verdict).toBe('inconclusive');
    expect(r.summary).toMatch(/too little traffic to judge: the canary served 12 of the 50 requests needed/);
  });
  it('20% 5xx on the canary fails, naming the checks', () => {
    const r = analyseCanary(config, BUCKETS, window(60, 12), window(540, 5));
    expect(r.verdict).toBe('fail');
    expect(r.checks.find((c) => c.name === 'error-rate-vs-stable')?.verdict).toBe('fail');
    expect(r.checks.find((c) => c.name === 'error-rate')?.verdict).toBe('fail');
    expect(r.summary).toMatch(/canary 5xx 20% vs stable 0.93%/);
  });
  it('a healthy canary passes; a few extra errors within noise do not fail it', () => {
    expect(analyseCanary(config, BUCKETS, window(100, 1), window(900, 9)).verdict).toBe('pass');
    // 3% vs 1%: above the 2-point effect size but not significant at alpha 0.0001.
    expect(analyseCanary(config, BUCKETS, window(100, 3), window(900, 9)).verdict).toBe('pass');
  });
  it('10,000 healthy windows with 1% background errors on both sides: no false failure', () => {
    const next = random(42);
    const draw = (n: number) => {
      let e = 0;
      for (let i = 0; i < n; i++) if (next() < 0.01) e++;
      return e;
    };
    let failures = 0;
    for (let i = 0; i < 10_000; i++) if (analyseCanary(config, BUCKETS, window(60, draw(60)), window(540, draw(540))).verdict === 'fail') failures++;
    expect(failures).toBeLessThanOrEqual(1);
  });
  it('latency: slower canary fails only with a significant, large enough regression', () => {
    const slow = analyseCanary(config, BUCKETS, window(100, 0, 250), window(900, 0, 5));
    expect(slow.verdict).toBe('fail');
    expect(slow.checks.find((c) => c.name === 'p99-latency-vs-stable')?.verdict).toBe('fail');
    // 2.5 ms → 5 ms doubles p99 but is below the 25 ms minimum increase: not a regression.
    expect(analyseCanary(config, BUCKETS, window(100, 0, 5), window(900, 0, 2.5)).verdict).toBe('pass');
    const absolute = analyseCanary(config, BUCKETS, window(100, 0, 2500), null);
    expect(absolute.checks.find((c) => c.name === 'p99-latency')?.verdict).toBe('fail');
    // A slow minority well above 1% fails the absolute bound too.
    const someSlow = window(200, 0);
    someSlow.latencyCounts[BUCKETS.indexOf(2500)] = 20;
    someSlow.latencyCounts[BUCKETS.indexOf(5)] = 180;
    expect(analyseCanary(config, BUCKETS, someSlow, null).checks.find((c) => c.name === 'p99-latency')).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/20\/200 slower/) });
  });
  it('one stalled request among a few dozen (a GC pause, a busy host) does not fail the absolute p99 bound', () => {
    // 1 of 60 requests took over a second: the interpolated p99 is above 1000 ms, but 1/60 is no
    // evidence that more than 1% of the canary's requests are that slow.
    const stalled = window(60, 0);
    stalled.latencyCounts[BUCKETS.indexOf(5)] = 59;
    stalled.latencyCounts[BUCKETS.indexOf(2500)] = 1;
    const r = analyseCanary(config, BUCKETS, stalled, window(540, 0));
    expect(r.canary.p99Ms).toBeGreaterThan(1000);
    expect(r.checks.find((c) => c.name === 'p99-latency')).toMatchObject({ verdict: 'pass', detail: expect.stringMatching(/1\/60 slower/) });
    expect(r.verdict).toBe('pass');
  });
  it('without stable traffic the relative checks are skipped, absolute ones still judge', () => {
    const r = analyseCanary(config, BUCKETS, window(100, 0), window(3, 0));
    expect(r.verdict).toBe('pass');
    expect(r.checks.filter((c) => c.verdict === 'skipped').map((c) => c.name)).toEqual(['error-rate-vs-stable', 'p99-latency-vs-stable']);
  });
  it('windows subtract the baseline, and restart from zero after a counter reset', () => {
    const base = { requests: 100, errors: 2, latencyCounts: [100, 0] };
    expect(windowBetween(base, { requests: 150, errors: 5, latencyCounts: [140, 10] }, 2)).toEqual({ requests: 50, errors: 3, latencyCounts: [40, 10] });
    expect(windowBetween(base, { requests: 7, errors: 1, latencyCounts: [7, 0] }, 2)).toEqual({ requests: 7, errors: 1, latencyCounts: [7, 0] });
    expect(windowBetween(base, undefined, 2)).toEqual({ requests: 0, errors: 0, latencyCounts: [0, 0] });
  });
});

describe('canary step decisions', () => {
  const strategy = RolloutStrategy.parse({ kind: 'canary', bakeMs: 1000 });
  if (strategy.kind !== 'canary') throw new Error('unreachable');
  const status = (over: Partial<RolloutStatus>): RolloutStatus => ({
    phase: 'progressing', stepIndex: 0, weightPercent: 10, stepStartedAt: '2026-01-01T00:00:00.000Z', smokeTestPassed: true, message: null, lastAnalysis: null,
    baseline: null, approvals: [], pausedFrom: null, finishedAt: null, ...over,
  });
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const pass = analyseCanary(config, BUCKETS, window(100, 0), window(900, 0));
  const fail = analyseCanary(config, BUCKETS, window(100, 30), window(900, 0));
  const thin = analyseCanary(config, BUCKETS, window(5, 0), window(900, 0));

  it('defaults to 10 → 25 → 50 → promotion', () => {
    expect(strategy.steps.map((s) => s.weightPercent)).toEqual([10, 25, 50]);
  });
  it('rolls back at once on a failed analysis, even before the bake time', () => {
    expect(decideCanaryStep(strategy, status({}), fail, t0 + 10)).toMatchObject({ kind: 'rollback' });
  });
  it('waits while baking, and while traffic is too thin even after the bake time', () => {
    expect(decideCanaryStep(strategy, status({}), pass, t0 + 500)).toMatchObject({ kind: 'wait' });
    expect(decideCanaryStep(strategy, status({}), thin, t0 + 5000)).toEqual({ kind: 'wait', message: expect.stringMatching(/too little traffic/) });
    expect(decideCanaryStep(strategy, status({}), null, t0 + 5000)).toMatchObject({ kind: 'wait' });
  });
  it('advances after the bake with a passing analysis, then promotes after the last step', () => {
    expect(decideCanaryStep(strategy, status({}), pass, t0 + 1000)).toEqual({ kind: 'next-step', stepIndex: 1, needsApproval: false });
    expect(decideCanaryStep(strategy, status({ stepIndex: 2 }), pass, t0 + 1000)).toEqual({ kind: 'promote' });
  });
  it('a gated next step needs approval; a step without analysis advances on time alone', () => {
    const gated = RolloutStrategy.parse({ kind: 'canary', bakeMs: 0, steps: [{ weightPercent: 10, analysis: false }, { weightPercent: 50, approval: true }] });
    if (gated.kind !== 'canary') throw new Error('unreachable');
    expect(decideCanaryStep(gated, status({}), null, t0)).toEqual({ kind: 'next-step', stepIndex: 1, needsApproval: true });
  });
});

describe('analysis history thinning', () => {
  const rows = (n: number, stepOf: (i: number) => number = () => 0, failAt: number[] = []) =>
    Array.from({ length: n }, (_, i) => ({ seq: i + 1, stepIndex: stepOf(i), verdict: failAt.includes(i + 1) ? 'fail' : 'pass' }));

  it('keeps everything up to the limit', () => {
    expect(thinnedAnalyses(rows(10), 10)).toEqual([]);
  });

  it('past the limit drops every second one of the older half, keeping failures and the first of each step', () => {
    expect(thinnedAnalyses(rows(11), 10)).toEqual([2, 4]);
    expect(thinnedAnalyses(rows(21), 20)).toEqual([2, 4, 6, 8, 10]);
    expect(thinnedAnalyses(rows(21, (i) => (i < 5 ? 0 : 1), [8]), 20)).toEqual([2, 4, 10]);
  });

  it('thinning again and again keeps the history bounded, recent analyses dense', () => {
    let history = rows(0);
    for (let seq = 1; seq <= 500; seq++) {
      history.push({ seq, stepIndex: 0, verdict: 'pass' });
      const doomed = new Set(thinnedAnalyses(history, 50));
      history = history.filter((r) => !doomed.has(r.seq));
      expect(history.length).toBeLessThanOrEqual(50);
    }
    expect(history.at(-1)!.seq).toBe(500);
    expect(history.slice(-20).map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 481 + i));
    expect(history[0]!.seq).toBe(1);
  });
});
