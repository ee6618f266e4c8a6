import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KEY_FILE, loadMasterKey, seal, unseal } from './crypto.js';

const dir = mkdtempSync(join(tmpdir(), 'plinth-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secret envelope encryption', () => {
  it('creates the key file 0600 on first start and reuses it', async () => {
    const first = await loadMasterKey(dir, undefined);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect((await loadMasterKey(dir, undefined)).id).toBe(first.id);
  });

  it('round-trips a value and never stores it in the clear', async () => {
    const key = await loadMasterKey(dir, undefined);
    const sealed = seal(key, 'hunter2-very-secret', 'secret:db:v1');
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(unseal(key, sealed, 'secret:db:v1')).toBe('hunter2-very-secret');
    // Two seals of one value differ (fresh data key and IV each time).
    expect(seal(key, 'hunter2-very-secret', 'secret:db:v1').ciphertext).not.toBe(sealed.ciphertext);
  });

  it('refuses a ciphertext moved to another secret or version, a tampered one, and the wrong master key', async () => {
    const key = await loadMasterKey(dir, undefined);
    const sealed = seal(key, 'value', 'secret:a:v1');
    expect(() => unseal(key, sealed, 'secret:b:v1')).toThrow();
    expect(() => unseal(key, sealed, 'secret:a:v2')).toThrow();
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => unseal(key, { ...sealed, ciphertext: bytes.toString('base64') }, 'secret:a:v1')).toThrow();
    const other = await loadMasterKey(dir, Buffer.alloc(32, 7).toString('base64'));
    expect(() => unseal(other, sealed, 'secret:a:v1')).toThrow(/sealed with master key/);
  });
});
