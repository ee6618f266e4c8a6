import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KEY_FILE, keyringOf, loadKeyring, masterKeyFromBase64, PREVIOUS_KEYS_DIR, rewrap, seal, unseal } from './crypto.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-keys-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const newKey = () => randomBytes(32).toString('base64');

describe('secret envelope encryption', () => {
  it('creates the key file 0600 on first start and reuses it', async () => {
    const dir = tempDir();
    const first = await loadKeyring(dir, { current: undefined });
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect((await loadKeyring(dir, { current: undefined })).current.id).toBe(first.current.id);
    expect(first.previous).toEqual([]);
  });

  it('round-trips a value and never stores it in the clear', async () => {
    const ring = await loadKeyring(tempDir(), { current: undefined });
    const sealed = seal(ring, 'hunter2-very-secret', 'secret:db:v1');
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(unseal(ring, sealed, 'secret:db:v1')).toBe('hunter2-very-secret');
    // Two seals of one value differ (fresh data key and IV each time).
    expect(seal(ring, 'hunter2-very-secret', 'secret:db:v1').ciphertext).not.toBe(sealed.ciphertext);
  });

  it('refuses a ciphertext moved to another secret or version, a tampered one, and a key outside the ring', async () => {
    const ring = await loadKeyring(tempDir(), { current: undefined });
    const sealed = seal(ring, 'value', 'secret:a:v1');
    expect(() => unseal(ring, sealed, 'secret:b:v1')).toThrow();
    expect(() => unseal(ring, sealed, 'secret:a:v2')).toThrow();
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => unseal(ring, { ...sealed, ciphertext: bytes.toString('base64') }, 'secret:a:v1')).toThrow();
    const other = await loadKeyring(tempDir(), { current: Buffer.alloc(32, 7).toString('base64') });
    expect(() => unseal(other, sealed, 'secret:a:v1')).toThrow(/sealed with master key/);
  });
});

describe('the master keyring', () => {
  it('seals with the current key and unseals with any key of the ring', () => {
    const a = masterKeyFromBase64(newKey());
    const b = masterKeyFromBase64(newKey());
    const onA = seal(keyringOf(a), 'value-a', 'secret:x:v1');
    const ring = keyringOf(b, [a]);
    const onB = seal(ring, 'value-b', 'secret:x:v2');
    expect(onA.keyId).toBe(a.id);
    expect(onB.keyId).toBe(b.id);
    expect(unseal(ring, onA, 'secret:x:v1')).toBe('value-a');
    expect(unseal(ring, onB, 'secret:x:v2')).toBe('value-b');
  });

  it('names the missing key id and where to supply it, and never a key', () => {
    const a = masterKeyFromBase64(newKey());
    const b = masterKeyFromBase64(newKey());
    const onA = seal(keyringOf(a), 'value', 'secret:x:v1');
    let message = '';
    try {
      unseal(keyringOf(b), onA, 'secret:x:v1');
    } catch (err) {
      expect((err as Error).name).toBe('ServiceUnavailableError');
      message = (err as Error).message;
    }
    expect(message).toContain(`master key ${a.id}`);
    expect(message).toContain(b.id);
    expect(message).toContain('PLINTH_SECRETS_PREVIOUS_KEYS');
    expect(message).toContain(PREVIOUS_KEYS_DIR);
    for (const key of [a.key, b.key]) {
      expect(message).not.toContain(key.toString('base64'));
      expect(message).not.toContain(key.toString('hex'));
    }
  });

  it('re-wraps a data key onto the current key without touching the ciphertext', () => {
    const a = masterKeyFromBase64(newKey());
    const b = masterKeyFromBase64(newKey());
    const onA = seal(keyringOf(a), 'payload', 'secret:x:v3');
    const ring = keyringOf(b, [a]);
    const moved = rewrap(ring, onA, 'secret:x:v3');
    expect(moved.keyId).toBe(b.id);
    expect(moved.wrappedKey).not.toBe(onA.wrappedKey);
    // Only B is needed now: the old key can leave the ring.
    expect(unseal(keyringOf(b), { ...onA, ...moved }, 'secret:x:v3')).toBe('payload');
    // Already current: unchanged. The wrapped key stays bound to its secret and version.
    expect(rewrap(ring, { ...onA, ...moved }, 'secret:x:v3')).toEqual(moved);
    expect(() => rewrap(ring, onA, 'secret:y:v3')).toThrow();
    expect(() => rewrap(keyringOf(b), onA, 'secret:x:v3')).toThrow(new RegExp(a.id));
  });

  it('loads previous keys from PLINTH_SECRETS_PREVIOUS_KEYS and keys/secrets.previous/*.key, without duplicates', async () => {
    const dir = tempDir();
    const [current, fromEnv, fromFile] = [newKey(), newKey(), newKey()];
    mkdirSync(join(dir, PREVIOUS_KEYS_DIR), { recursive: true });
    writeFileSync(join(dir, PREVIOUS_KEYS_DIR, '2026-q4.key'), `${fromFile}\n`);
    writeFileSync(join(dir, PREVIOUS_KEYS_DIR, 'README.txt'), 'not a key');
    // The current key listed again, and one key given twice, count once.
    const ring = await loadKeyring(dir, { current, previous: [fromEnv, current, fromEnv] });
    expect(ring.current.id).toBe(masterKeyFromBase64(current).id);
    expect(ring.previous.map((k) => k.id)).toEqual([masterKeyFromBase64(fromEnv).id, masterKeyFromBase64(fromFile).id]);
  });

  it('uses the key file as current and the previous folder in key-file mode', async () => {
    const dir = tempDir();
    const [current, old] = [newKey(), newKey()];
    mkdirSync(join(dir, PREVIOUS_KEYS_DIR), { recursive: true });
    writeFileSync(join(dir, KEY_FILE), current);
    writeFileSync(join(dir, PREVIOUS_KEYS_DIR, 'old.key'), old);
    const ring = await loadKeyring(dir, { current: undefined });
    expect(ring.current.id).toBe(masterKeyFromBase64(current).id);
    expect(ring.previous.map((k) => k.id)).toEqual([masterKeyFromBase64(old).id]);
  });

  it('refuses a malformed previous key naming its source, not its text', async () => {
    const dir = tempDir();
    await expect(loadKeyring(dir, { current: newKey(), previous: ['c2hvcnQ='] })).rejects.toThrow(/PLINTH_SECRETS_PREVIOUS_KEYS entry 1: .*32 bytes.*got 5 bytes/);
    mkdirSync(join(dir, PREVIOUS_KEYS_DIR), { recursive: true });
    writeFileSync(join(dir, PREVIOUS_KEYS_DIR, 'bad.key'), 'c2hvcnQ=');
    const refused = loadKeyring(dir, { current: newKey() });
    await expect(refused).rejects.toThrow(/secrets\.previous\/bad\.key/);
    await expect(refused).rejects.not.toThrow(/c2hvcnQ/);
  });
});
