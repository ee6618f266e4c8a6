/**
 * Envelope encryption for the secret store: each secret version gets its own random data key
 * (AES-256-GCM), and the data key is stored wrapped by the master key (AES-256-GCM too). The
 * additional authenticated data binds a ciphertext to its secret name and version, so rows cannot be
 * swapped between secrets. Replacing the master key only re-wraps data keys (key ids tell them apart).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_FILE = join('keys', 'secrets.key');

export interface MasterKey {
  /** First 16 hex digits of the key's SHA-256: which key wrapped a data key, never the key itself. */
  id: string;
  key: Buffer;
}

export interface Sealed {
  keyId: string;
  wrappedKey: string;
  ciphertext: string;
}

function masterKeyOf(key: Buffer): MasterKey {
  if (key.length !== 32) throw new Error(`the secrets master key must be 32 bytes; got ${key.length}`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/**
 * The master key: PLINTH_SECRETS_KEY (base64) when configured, else `<dataDir>/keys/secrets.key`,
 * created 0600 on first start. Several replicas must share PLINTH_SECRETS_KEY (a key file is per machine).
 */
export async function loadMasterKey(dataDir: string, configured: string | undefined): Promise<MasterKey> {
  if (configured !== undefined) return masterKeyOf(Buffer.from(configured, 'base64'));
  const file = join(dataDir, KEY_FILE);
  await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails when the file exists, so two processes starting at once cannot both create one.
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return masterKeyOf(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
}

function encrypt(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function decrypt(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export function seal(master: MasterKey, plaintext: string, aad: string): Sealed {
  const dataKey = randomBytes(32);
  try {
    return { keyId: master.id, wrappedKey: encrypt(master.key, dataKey, `key:${aad}`), ciphertext: encrypt(dataKey, Buffer.from(plaintext, 'utf8'), aad) };
  } finally {
    dataKey.fill(0);
  }
}

export function unseal(master: MasterKey, sealed: Sealed, aad: string): string {
  if (sealed.keyId !== master.id) throw new Error(`secret was sealed with master key ${sealed.keyId}, but the configured key is ${master.id}`);
  const dataKey = decrypt(master.key, sealed.wrappedKey, `key:${aad}`);
  try {
    return decrypt(dataKey, sealed.ciphertext, aad).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}
