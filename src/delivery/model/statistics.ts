// Exact and rank tests for canary analysis, pure and dependency-free. Kayenta judges with a
// Mann-Whitney U test plus an effect size (NetflixACAJudge); for error counts an exact test avoids
// the normal approximation's false alarms at the small counts a 10% canary sees.

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) for x > 0 (Lanczos, g = 7): accurate to ~1e-13, enough for factorials up to millions. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const logChoose = (n: number, k: number) => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/**
 * One-sided Fisher exact test: the probability, if canary and stable failed at the same rate, of the
 * canary having at least `canaryFailures` of the `canaryFailures + stableFailures` failures.
 */
export function fisherExactGreater(canaryFailures: number, canaryTotal: number, stableFailures: number, stableTotal: number): number {
  const failures = canaryFailures + stableFailures;
  const total = canaryTotal + stableTotal;
  if (failures === 0 || canaryTotal === 0 || stableTotal === 0) return 1;
  const denominator = logChoose(total, canaryTotal);
  let p = 0;
  for (let k = canaryFailures; k <= Math.min(failures, canaryTotal); k++) {
    if (canaryTotal - k > total - failures) continue;
    p += Math.exp(logChoose(failures, k) + logChoose(total - failures, canaryTotal - k) - denominator);
  }
  return Math.min(1, p);
}

/** One-sided exact binomial test: P(X ≥ failures) for X ~ Binomial(total, rate). */
export function binomialGreater(failures: number, total: number, rate: number): number {
  if (failures <= 0) return 1;
  if (rate <= 0) return 0;
  if (rate >= 1) return 1;
  let p = 0;
  for (let k = failures; k <= total; k++) p += Math.exp(logChoose(total, k) + k * Math.log(rate) + (total - k) * Math.log(1 - rate));
  return Math.min(1, p);
}

/** Standard normal CDF (erfc by W. J. Cody's rational approximation as in Numerical Recipes' erfcc, |error| < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * One-sided Mann-Whitney U test on two histograms with the same buckets: the probability of the
 * canary's latencies ranking at least this high above the stable's if both came from one
 * distribution. Requests in one bucket are ties (mid-ranks, tie-corrected variance, continuity correction).
 */
export function mannWhitneyGreater(canaryCounts: readonly number[], stableCounts: readonly number[]): number {
  const n1 = canaryCounts.reduce((a, b) => a + b, 0);
  const n2 = stableCounts.reduce((a, b) => a + b, 0);
  if (n1 === 0 || n2 === 0) return 1;
  let u = 0;
  let stableBelow = 0;
  let tieTerm = 0;
  for (let i = 0; i < Math.max(canaryCounts.length, stableCounts.length); i++) {
    const c = canaryCounts[i] ?? 0;
    const s = stableCounts[i] ?? 0;
    u += c * (stableBelow + s / 2);
    stableBelow += s;
    const t = c + s;
    tieTerm += t * t * t - t;
  }
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return 1;
  const z = (u - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  return 1 - normalCdf(z);
}

/**
 * A quantile from a cumulative-bucket histogram, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does; in the +Inf bucket it is the last finite bound.
 */
export function histogramQuantile(q: number, boundsMs: readonly number[], counts: readonly number[]): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (below + c >= rank && c > 0) {
      if (i >= boundsMs.length) return boundsMs[boundsMs.length - 1];
      const lower = i === 0 ? 0 : boundsMs[i - 1]!;
      return lower + (boundsMs[i]! - lower) * ((rank - below) / c);
    }
    below += c;
  }
  return boundsMs[boundsMs.length - 1];
}

/**
 * How many of a histogram's requests were slower than `limitMs`, interpolating linearly inside the
 * bucket that holds the limit (the assumption histogramQuantile makes, so `countAbove > (1 − q) × total`
 * exactly when the q-quantile is above the limit). The +Inf bucket counts as wholly above its bound.
 */
export function histogramCountAbove(limitMs: number, boundsMs: readonly number[], counts: readonly number[]): number {
  let above = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const lower = i === 0 ? 0 : boundsMs[i - 1]!;
    const upper = i < boundsMs.length ? boundsMs[i]! : Infinity;
    if (lower >= limitMs) above += c;
    else if (upper > limitMs) above += upper === Infinity ? c : (c * (upper - limitMs)) / (upper - lower);
  }
  return above;
}
