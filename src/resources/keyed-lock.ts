/**
 * An in-process lock over sets of keys: `run(keys, fn)` starts `fn` once every earlier call holding
 * any of the keys has finished. Calls queue per key in arrival order and take all their keys at once,
 * so no two calls can wait on each other (no deadlock).
 */
export function createKeyedLock() {
  const tails = new Map<string, Promise<void>>();
  return async function run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const before = unique.map((k) => tails.get(k));
    for (const k of unique) tails.set(k, held);
    await Promise.all(before);
    try {
      return await fn();
    } finally {
      release();
      for (const k of unique) if (tails.get(k) === held) tails.delete(k);
    }
  };
}
