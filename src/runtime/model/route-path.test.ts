import { describe, expect, it } from 'vitest';
import { compileRoutePath, routePathProblem } from './route-path.js';

describe('route paths', () => {
  it('matches a literal prefix by whole segments, as Gateway API PathPrefix', () => {
    const api = compileRoutePath('/api');
    expect(['/api', '/api/', '/api/v1/orders'].every((p) => api.matches(p))).toBe(true);
    expect(['/apix', '/ap', '/', '/v1/api'].some((p) => api.matches(p))).toBe(false);
    expect(compileRoutePath('/api/').matches('/api/x')).toBe(true);
    expect(compileRoutePath('/').matches('/anything/at/all')).toBe(true);
    // "." is literal in a path without pattern syntax.
    expect(compileRoutePath('/v1.2').matches('/v1x2')).toBe(false);
  });

  it('matches score-compose patterns from the start, ending at a segment boundary', () => {
    const fizz = compileRoutePath('/my/[^/]+/path');
    expect(fizz.matches('/my/fizz/path')).toBe(true);
    expect(fizz.matches('/my/buzz/path/index.html')).toBe(true);
    expect(fizz.matches('/my//path')).toBe(false);
    expect(fizz.matches('/my/a/b/path')).toBe(false);
    expect(fizz.matches('/my/fizz/pathology')).toBe(false);
    expect(fizz.matches('/x/my/fizz/path')).toBe(false);
    const versions = compileRoutePath('/v[0-9]+/items?');
    expect(['/v1/item', '/v12/items', '/v3/items/7'].every((p) => versions.matches(p))).toBe(true);
    expect(['/v/items', '/va/items', '/v1/itemss'].some((p) => versions.matches(p))).toBe(false);
    expect(compileRoutePath('/files/.*\\.txt').matches('/files/a/b.txt')).toBe(true);
    expect(compileRoutePath('/files/.*\\.txt').matches('/files/a/bxtxt')).toBe(false);
  });

  it('ranks longer paths first and a literal before a pattern of its length', () => {
    expect(compileRoutePath('/api/v1').rank).toBeGreaterThan(compileRoutePath('/api').rank);
    expect(compileRoutePath('/a.c').rank).toBeGreaterThan(compileRoutePath('/a.+').rank);
  });

  it('runs in time linear in the path, where a backtracking regular expression would not end', () => {
    const evil = compileRoutePath(`/${'a*'.repeat(30)}b`);
    const path = `/${'a'.repeat(20_000)}`;
    const started = performance.now();
    expect(evil.matches(path)).toBe(false);
    // Generous: a backtracking engine would take longer than the age of the universe here.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('names what is wrong with a path it refuses', () => {
    expect(routePathProblem('api')).toMatch(/must start with "\/"/);
    expect(routePathProblem('/a(b|c)')).toMatch(/no groups, "\|", "\{\}" or anchors/);
    expect(routePathProblem('/a(b)+')).toMatch(/"\(" is not supported/);
    expect(routePathProblem('/a+$')).toMatch(/"\$" is not supported/);
    expect(routePathProblem('/*a')).toBe(undefined);
    expect(routePathProblem('/a**')).toMatch(/two quantifiers/);
    expect(routePathProblem('/[a-')).toMatch(/never closed/);
    expect(routePathProblem('/[z-a]')).toMatch(/backwards/);
    expect(routePathProblem('/a b')).toMatch(/URL path cannot/);
    expect(routePathProblem(`/${'a'.repeat(300)}`)).toMatch(/256/);
    expect(routePathProblem('/my/[^/]+/path')).toBe(undefined);
  });
});
