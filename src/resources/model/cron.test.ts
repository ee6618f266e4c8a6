import { describe, expect, it } from 'vitest';
import { nextRun, parseCron, previousRun } from './cron.js';

const at = (iso: string) => new Date(iso);
const next = (schedule: string, after: string) => nextRun(parseCron(schedule)!, at(after))?.toISOString();
const previous = (schedule: string, before: string) => previousRun(parseCron(schedule)!, at(before))?.toISOString();

describe('cron schedules', () => {
  it('reads the five fields with lists, ranges and steps, and refuses anything else', () => {
    expect([...parseCron('*/15 3 * * *')!.minutes]).toEqual([0, 15, 30, 45]);
    expect([...parseCron('0 1-5/2 * * *')!.hours]).toEqual([1, 3, 5]);
    expect([...parseCron('0 0 * * 7')!.weekdays].sort()).toEqual([0, 7]);
    for (const bad of ['', '* * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '5-1 * * * *', '*/0 * * * *', 'a * * * *', '* * * * * *']) {
      expect(parseCron(bad), bad).toBeUndefined();
    }
  });

  it('finds the next run strictly after a time', () => {
    expect(next('0 3 * * *', '2026-11-26T22:30:00Z')).toBe('2026-11-27T03:00:00.000Z');
    expect(next('0 3 * * *', '2026-11-27T03:00:00Z')).toBe('2026-11-28T03:00:00.000Z');
    expect(next('*/15 * * * *', '2026-11-26T22:30:10Z')).toBe('2026-11-26T22:45:00.000Z');
    expect(next('0 0 1 1 *', '2026-11-26T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    // Both day fields restricted: either matches (cron(8)); 2026-11-27 is a Friday.
    expect(next('0 12 1 * 5', '2026-11-26T00:00:00Z')).toBe('2026-11-27T12:00:00.000Z');
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('0 0 31 2 *', '2026-03-01T00:00:00Z')).toBeUndefined();
  });

  it('finds the last run at or before a time', () => {
    expect(previous('0 3 * * *', '2026-11-26T22:30:00Z')).toBe('2026-11-26T03:00:00.000Z');
    expect(previous('0 3 * * *', '2026-11-26T03:00:00Z')).toBe('2026-11-26T03:00:00.000Z');
    expect(previous('0 3 * * *', '2026-11-26T02:59:59Z')).toBe('2026-11-25T03:00:00.000Z');
    expect(previous('30 23 * * 0', '2026-11-26T12:00:00Z')).toBe('2026-11-22T23:30:00.000Z');
    expect(previous('0 0 1 3 *', '2026-02-10T00:00:00Z')).toBe('2025-03-01T00:00:00.000Z');
  });
});
