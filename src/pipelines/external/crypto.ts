/**
 * Encryption at rest of external repositories' clone tokens and webhook secrets (DESIGN principle 6).
 *
 * The pipelines layer may not use the resources layer's secret store (layer order), and the kernel has
 * no encryption helper, so this derives its own key with HKDF-SHA256 from the platform's one secret
 * master key: PLINTH_SECRETS_KEY when configured, else `<dataDir>/keys/secrets.key` (the same file and
 * format the secret store uses, created 0600 by whichever layer starts first). One key to back up and
 * share between replicas; the HKDF `info` makes this key unrelated to any other derived from it.
 * Values are AES-256-GCM with the repository id as additional data, so a row's ciphertext cannot be
 * moved to another repository.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const INFO = 'plinth/pipelines/external-repositories/v1';

export interface CredentialKey {
  /** First 16 hex digits of the derived key's SHA-256: which key sealed a value. */
  id: string;
  key: Buffer;
}

async function masterMaterial(dataDir: string, configured: string | undefined): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, 'base64');
  const dir = join(dataDir, 'keys');
  const file = join(dir, 'secrets.key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails when the file exists, so two processes starting at once cannot both create one.
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
}

export async function loadCredentialKey(dataDir: string, configured: string | undefined): Promise<CredentialKey> {
  const master = await masterMaterial(dataDir, configured);
  if (master.length !== 32) throw new Error(`the secrets master key must be 32 bytes; got ${master.length}`);
  const key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), INFO, 32));
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/** `<key id>:<base64 iv|tag|ciphertext>` */
export function seal(key: CredentialKey, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${key.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

export function unseal(key: CredentialKey, sealed: string, aad: string): string {
  const [keyId, data] = sealed.split(':');
  if (keyId !== key.id || data === undefined) throw new Error(`a credential was sealed with key ${keyId ?? '?'}, but the configured secrets key derives ${key.id}; restore the PLINTH_SECRETS_KEY it was sealed with`);
  const raw = Buffer.from(data, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
