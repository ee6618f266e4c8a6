import { describe, expect, it } from 'vitest';
import { createLoginLimiter } from './login-limiter.js';
import { decideAccess, scopesForRole, type Principal, type Role, type TokenScope } from './model.js';

function user(role: Role, scopes: TokenScope[] = scopesForRole(role), refs: string[] = ['user:default/ann']): Principal {
  return { kind: 'user', userId: 'u1', username: 'ann', role, authMethod: 'token', scopes, ownershipRefs: refs };
}
const read = { name: 'read things', verb: 'read' } as const;
const write = { name: 'change things', verb: 'write' } as const;
const admin = { name: 'administer', verb: 'admin' } as const;

describe('decideAccess', () => {
  it('lets platform admins do everything their token allows', () => {
    expect(decideAccess(user('platform-admin'), admin)).toBeUndefined();
    expect(decideAccess(user('platform-admin'), write, { type: 'service', ownerRef: 'group:default/other' })).toBeUndefined();
    expect(decideAccess(user('platform-admin', ['read']), admin)).toMatch(/lacks the "admin" scope/);
  });
  it('lets members read everything and change what they own or what has no owner', () => {
    const ann = user('member', ['read', 'write'], ['user:default/ann', 'group:default/team-a']);
    expect(decideAccess(ann, read, { type: 'service', ownerRef: 'group:default/other' })).toBeUndefined();
    expect(decideAccess(ann, write)).toBeUndefined();
    expect(decideAccess(ann, write, { type: 'service', ownerRef: 'group:default/team-a' })).toBeUndefined();
    expect(decideAccess(ann, write, { type: 'service', ownerRef: 'Group:default/Team-A' })).toBeUndefined();
    expect(decideAccess(ann, write, { type: 'service', id: 'pay', ownerRef: 'group:default/team-b' })).toMatch(/reserved to its owner group:default\/team-b/);
    expect(decideAccess(ann, admin)).toMatch(/needs the platform-admin role/);
  });
  it('keeps viewers read-only', () => {
    expect(decideAccess(user('viewer'), read)).toBeUndefined();
    expect(decideAccess(user('viewer'), write)).toMatch(/viewers cannot/);
  });
  it('limits a member to the scopes of the token used', () => {
    expect(decideAccess(user('member', ['read']), write)).toMatch(/lacks the "write" scope/);
  });
  it('lets the platform itself act', () => {
    expect(decideAccess({ kind: 'system', name: 'jobs' }, admin)).toBeUndefined();
  });
});

describe('login limiter', () => {
  it('blocks a key after the allowed failures until the window passes', () => {
    const limiter = createLoginLimiter({ maxFailures: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterS('ip:1', 1000 + i)).toBe(0);
      limiter.recordFailure('ip:1', 1000 + i);
    }
    expect(limiter.retryAfterS('ip:1', 2000)).toBe(59);
    expect(limiter.retryAfterS('ip:2', 2000)).toBe(0);
    expect(limiter.retryAfterS('ip:1', 61_001)).toBe(0);
  });
  it('forgets a key on reset and bounds the keys it remembers', () => {
    const limiter = createLoginLimiter({ maxFailures: 1, windowMs: 60_000, maxKeys: 2 });
    limiter.recordFailure('a', 0);
    limiter.reset('a');
    expect(limiter.retryAfterS('a', 1)).toBe(0);
    limiter.recordFailure('b', 0);
    limiter.recordFailure('c', 0);
    limiter.recordFailure('d', 0);
    expect(limiter.retryAfterS('b', 1)).toBe(0);
    expect(limiter.retryAfterS('d', 1)).toBeGreaterThan(0);
  });
});
