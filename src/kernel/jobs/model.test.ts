import { describe, expect, it } from 'vitest';
import { backoffMs, isTerminal } from './model.js';

describe('backoffMs', () => {
  it('doubles per attempt within [base/2, base] and caps at five minutes', () => {
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(1, () => 1)).toBe(1000);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(30, () => 1)).toBe(300_000);
  });
});

describe('isTerminal', () => {
  it('marks finished phases terminal', () => {
    expect(['queued', 'running'].map((s) => isTerminal(s as 'queued'))).toEqual([false, false]);
    expect(['succeeded', 'failed', 'cancelled', 'dead'].every((s) => isTerminal(s as 'dead'))).toBe(true);
  });
});
