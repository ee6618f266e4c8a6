/**
 * Counts failed logins per key (an IP, a username) in a sliding window. In memory: each replica
 * limits on its own, which bounds guessing to replicas × limit per window.
 */
export interface LoginLimiter {
  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfterS(key: string, nowMs: number): number;
  recordFailure(key: string, nowMs: number): void;
  reset(key: string): void;
}

export function createLoginLimiter(options: { maxFailures: number; windowMs: number; maxKeys?: number }): LoginLimiter {
  const failures = new Map<string, number[]>();
  const maxKeys = options.maxKeys ?? 100_000;
  const recent = (key: string, nowMs: number) => {
    const list = (failures.get(key) ?? []).filter((t) => t > nowMs - options.windowMs);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  };
  return {
    retryAfterS(key, nowMs) {
      const list = recent(key, nowMs);
      if (list.length < options.maxFailures) return 0;
      const oldest = list[list.length - options.maxFailures]!;
      return Math.max(1, Math.ceil((oldest + options.windowMs - nowMs) / 1000));
    },
    recordFailure(key, nowMs) {
      if (failures.size >= maxKeys && !failures.has(key)) {
        // Bound memory under a flood of distinct keys: forget the oldest entry.
        const first = failures.keys().next().value;
        if (first !== undefined) failures.delete(first);
      }
      const list = recent(key, nowMs);
      list.push(nowMs);
      failures.set(key, list);
    },
    reset(key) {
      failures.delete(key);
    },
  };
}
