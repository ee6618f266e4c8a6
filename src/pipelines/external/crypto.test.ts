import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCredentialKey, seal, unseal } from './crypto.js';

const dataDir = mkdtempSync(join(tmpdir(), 'plinth-external-crypto-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('credential sealing', () => {
  it('round-trips a value bound to its repository, and refuses it for another', async () => {
    const key = await loadCredentialKey(dataDir, undefined);
    const sealed = seal(key, 'ghp_token', 'token:repo-1');
    expect(sealed).not.toContain('ghp_token');
    expect(seal(key, 'ghp_token', 'token:repo-1')).not.toBe(sealed);
    expect(unseal(key, sealed, 'token:repo-1')).toBe('ghp_token');
    expect(() => unseal(key, sealed, 'token:repo-2')).toThrow();
  });

  it('derives the key from the platform master key file, created 0600 once, or from PLINTH_SECRETS_KEY', async () => {
    const first = await loadCredentialKey(dataDir, undefined);
    const again = await loadCredentialKey(dataDir, undefined);
    expect(again.id).toBe(first.id);
    const file = join(dataDir, 'keys', 'secrets.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Derived, not the master key itself.
    expect(first.key.equals(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'))).toBe(false);
    const configured = await loadCredentialKey(dataDir, randomBytes(32).toString('base64'));
    expect(configured.id).not.toBe(first.id);
    expect(() => unseal(configured, seal(first, 'x', 'a'), 'a')).toThrow(/restore the PLINTH_SECRETS_KEY/);
  });
});
