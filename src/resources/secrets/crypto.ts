/**
 * Envelope encryption for the secret store: each secret version gets its own random data key
 * (AES-256-GCM), and the data key is stored wrapped by a master key (AES-256-GCM too). The
 * additional authenticated data binds a ciphertext to its secret name and version, so rows cannot be
 * swapped between secrets. Master keys live in a keyring: the current key wraps new data keys, previous
 * keys still unwrap old ones, and rotating the master key re-wraps data keys without touching values
 * (issue 8). Key ids tell the keys apart; key material never leaves this file.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceUnavailableError } from '../../kernel/index.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_FILE = join('keys', 'secrets.key');
/** Previous master keys in key-file mode: one base64 key per `*.key` file. */
export const PREVIOUS_KEYS_DIR = join('keys', 'secrets.previous');

export interface MasterKey {
  /** First 16 hex digits of the key's SHA-256: which key wrapped a data key, never the key itself. */
  id: string;
  key: Buffer;
}

/** The master keys the store knows: `current` seals, every key of the ring unseals. */
export interface Keyring {
  current: MasterKey;
  /** Keys data keys may still be wrapped with; never used to seal. */
  previous: readonly MasterKey[];
}

export interface Sealed {
  keyId: string;
  wrappedKey: string;
  ciphertext: string;
}

/** Where previous keys come from, besides `keys/secrets.previous/*.key`: PLINTH_SECRETS_PREVIOUS_KEYS. */
export interface KeySources {
  /** PLINTH_SECRETS_KEY (base64); unset means the key file. */
  current: string | undefined;
  /** PLINTH_SECRETS_PREVIOUS_KEYS, split at commas. */
  previous?: readonly string[];
}

/** `where` names the key's source (a variable or a file name), for the error; the key never appears in it. */
function masterKeyOf(base64: string, where: string): MasterKey {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${where}: a secrets master key must be 32 bytes, base64-encoded (openssl rand -base64 32); got ${key.length} bytes`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/** A keyring of known keys (tests and tools); duplicates of the current key are dropped from `previous`. */
export function keyringOf(current: MasterKey, previous: readonly MasterKey[] = []): Keyring {
  const byId = new Map<string, MasterKey>();
  for (const key of previous) if (key.id !== current.id && !byId.has(key.id)) byId.set(key.id, key);
  return { current, previous: [...byId.values()] };
}

/** A master key from its base64 text (tests and tools). */
export const masterKeyFromBase64 = (base64: string): MasterKey => masterKeyOf(base64, 'the master key');

export function findKey(ring: Keyring, keyId: string): MasterKey | undefined {
  return ring.current.id === keyId ? ring.current : ring.previous.find((k) => k.id === keyId);
}

/**
 * The keyring. Current: PLINTH_SECRETS_KEY when configured, else `<dataDir>/keys/secrets.key`, created
 * 0600 on first start. Previous: PLINTH_SECRETS_PREVIOUS_KEYS and every `<dataDir>/keys/secrets.previous/*.key`.
 * Several replicas must share their keys through the environment (a key file is per machine).
 */
export async function loadKeyring(dataDir: string, sources: KeySources): Promise<Keyring> {
  const current = sources.current !== undefined ? masterKeyOf(sources.current, 'PLINTH_SECRETS_KEY') : await loadKeyFile(dataDir);
  const previous = (sources.previous ?? []).map((text, i) => masterKeyOf(text, `PLINTH_SECRETS_PREVIOUS_KEYS entry ${i + 1}`));
  previous.push(...(await loadPreviousKeyFiles(dataDir)));
  return keyringOf(current, previous);
}

async function loadKeyFile(dataDir: string): Promise<MasterKey> {
  const file = join(dataDir, KEY_FILE);
  await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails when the file exists, so two processes starting at once cannot both create one.
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return masterKeyOf(await readFile(file, 'utf8'), KEY_FILE);
}

async function loadPreviousKeyFiles(dataDir: string): Promise<MasterKey[]> {
  let files: string[];
  try {
    files = (await readdir(join(dataDir, PREVIOUS_KEYS_DIR))).filter((f) => f.endsWith('.key')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return Promise.all(files.map(async (f) => masterKeyOf(await readFile(join(dataDir, PREVIOUS_KEYS_DIR, f), 'utf8'), join(PREVIOUS_KEYS_DIR, f))));
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

/** The key that wrapped `keyId`'s data keys, or a 503 naming the missing key id and how to supply it. */
function wrappingKey(ring: Keyring, keyId: string): MasterKey {
  const found = findKey(ring, keyId);
  if (found) return found;
  const known = [ring.current.id, ...ring.previous.map((k) => k.id)].join(', ');
  throw new ServiceUnavailableError(
    `secret was sealed with master key ${keyId}, which is not in the keyring (known: ${known}); ` +
      `add that key to PLINTH_SECRETS_PREVIOUS_KEYS (comma-separated base64) or as a file in ${PREVIOUS_KEYS_DIR}/ under the data directory, and restart`,
  );
}

/** Seals with the current key. */
export function seal(ring: Keyring, plaintext: string, aad: string): Sealed {
  const dataKey = randomBytes(32);
  try {
    return { keyId: ring.current.id, wrappedKey: encrypt(ring.current.key, dataKey, `key:${aad}`), ciphertext: encrypt(dataKey, Buffer.from(plaintext, 'utf8'), aad) };
  } finally {
    dataKey.fill(0);
  }
}

/** Opens a value sealed with any key of the ring. */
export function unseal(ring: Keyring, sealed: Sealed, aad: string): string {
  const dataKey = decrypt(wrappingKey(ring, sealed.keyId).key, sealed.wrappedKey, `key:${aad}`);
  try {
    return decrypt(dataKey, sealed.ciphertext, aad).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The same data key wrapped by the current master key: the ciphertext (and its AAD) stay as they are,
 * so re-wrapping never decrypts a value. A data key already on the current key is returned unchanged.
 */
export function rewrap(ring: Keyring, sealed: { keyId: string; wrappedKey: string }, aad: string): { keyId: string; wrappedKey: string } {
  if (sealed.keyId === ring.current.id) return { keyId: sealed.keyId, wrappedKey: sealed.wrappedKey };
  const dataKey = decrypt(wrappingKey(ring, sealed.keyId).key, sealed.wrappedKey, `key:${aad}`);
  try {
    return { keyId: ring.current.id, wrappedKey: encrypt(ring.current.key, dataKey, `key:${aad}`) };
  } finally {
    dataKey.fill(0);
  }
}
