import { z } from 'zod';

/**
 * How a service's traffic in one environment is split between its stable release and an optional
 * canary. Weights are absolute (STYLE §6: effects are absolute), so setting them twice changes nothing.
 */
export const TrafficSplit = z.strictObject({
  stable: z.string().min(1).max(100),
  canary: z.string().min(1).max(100).optional(),
  /** Percent of requests the canary receives; the stable release gets the rest. */
  canaryWeightPercent: z.number().int().min(0).max(100).default(0),
  /** Keep a client on the version it was first routed to (a cookie), so a user does not flip between versions. */
  sticky: z.boolean().default(false),
});
export type TrafficSplit = z.infer<typeof TrafficSplit>;

export interface WeightedTarget<T> {
  target: T;
  weight: number;
}

/**
 * Smooth weighted round robin (nginx's upstream algorithm): deterministic, spreads the minority target
 * evenly (10% → every tenth request) instead of in bursts, and is exact over every window of
 * sum(weights) picks — so a 10% canary gets exactly 100 of 1,000 requests.
 */
export function createWeightedPicker<T>(targets: readonly WeightedTarget<T>[]): () => T | undefined {
  const live = targets.filter((t) => t.weight > 0);
  const current = live.map(() => 0);
  const total = live.reduce((s, t) => s + t.weight, 0);
  return () => {
    if (live.length === 0) return undefined;
    if (live.length === 1) return live[0]!.target;
    let best = 0;
    for (let i = 0; i < live.length; i++) {
      current[i]! += live[i]!.weight;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    return live[best]!.target;
  };
}

/** One independent weighted draw (the alternative to round robin, compared in the tests). */
export function pickWeighted<T>(targets: readonly WeightedTarget<T>[], random: () => number = Math.random): T | undefined {
  const total = targets.reduce((s, t) => s + Math.max(0, t.weight), 0);
  if (total <= 0) return undefined;
  let r = random() * total;
  for (const t of targets) {
    if (t.weight <= 0) continue;
    r -= t.weight;
    if (r < 0) return t.target;
  }
  return targets.filter((t) => t.weight > 0).at(-1)!.target;
}

/** The `x-plinth-canary` header: `always` forces the canary, `never` the stable release. */
export type CanaryOverride = 'always' | 'never' | undefined;

export function parseCanaryOverride(header: string | string[] | undefined): CanaryOverride {
  const value = (Array.isArray(header) ? header[0] : header)?.trim().toLowerCase();
  return value === 'always' || value === 'never' ? value : undefined;
}

/**
 * Which release serves a request before weights are consulted: the override header wins, then a
 * sticky cookie naming a release that is still in the split; undefined means "use the weights".
 */
export function preselectRelease(split: TrafficSplit, override: CanaryOverride, stickyRelease: string | undefined): string | undefined {
  if (override === 'never') return split.stable;
  if (override === 'always') return split.canary ?? split.stable;
  if (split.sticky && stickyRelease !== undefined && (stickyRelease === split.stable || (stickyRelease === split.canary && split.canaryWeightPercent > 0))) {
    return stickyRelease;
  }
  return undefined;
}
