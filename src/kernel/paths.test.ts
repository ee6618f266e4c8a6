import { describe, expect, it } from 'vitest';
import { isInside } from './paths.js';

describe('isInside', () => {
  it('takes the root and what is below it, and nothing beside or above it', () => {
    expect(isInside('/srv/repo', '/srv/repo')).toBe(true);
    expect(isInside('/srv/repo', '/srv/repo/a/b.txt')).toBe(true);
    // A name that merely starts with two dots is below the root.
    expect(isInside('/srv/repo', '/srv/repo/..notes')).toBe(true);
    expect(isInside('/srv/repo', '/srv/repo-other/x')).toBe(false);
    expect(isInside('/srv/repo', '/srv')).toBe(false);
    expect(isInside('/srv/repo', '/etc/passwd')).toBe(false);
  });
});
