import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Platform-managed signing keys: ECDSA P-256 (what cosign and Sigstore's public-key bundles use).
// Private keys live in files under <data-dir>/keys/signing/ (folder 0700, file 0600), never in the
// database, so a database dump does not carry them. With a passphrase the file is PKCS#8 encrypted
// (PBES2: PBKDF2-SHA256 + AES-256-CBC, which `openssl pkey` also reads); without one it is a plain
// PKCS#8 PEM protected by its file mode only.

export const SIGNING_ALGORITHM = 'ecdsa-p256-sha256';
export const keyStatuses = ['active', 'retired'] as const;
export type KeyStatus = (typeof keyStatuses)[number];

/** A public signing key as published: verification of artifacts signed while it was active. */
export interface SigningKey {
  /** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
  keyId: string;
  algorithm: typeof SIGNING_ALGORITHM;
  publicKeyPem: string;
  status: KeyStatus;
  createdAt: string;
  /** When rotation retired it; it verifies only what was signed before this. */
  retiredAt: string | null;
}

/** The id of a public key: SHA-256 of its SPKI DER, hex. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

export interface GeneratedKey {
  keyId: string;
  publicKeyPem: string;
  /** The PEM written to disk: encrypted with the passphrase when there is one. */
  privateKeyPem: string;
}

export function generateSigningKey(passphrase: string | undefined): GeneratedKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPem =
    passphrase !== undefined
      ? privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString()
      : privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKeyPem };
}

/** The private key files of one data directory. */
export function keyDirectory(dataDir: string) {
  const dir = join(dataDir, 'keys', 'signing');
  const fileOf = (keyId: string) => join(dir, `${keyId}.key.pem`);
  return {
    dir,
    fileOf,
    /** Writes the private key with mode 0600 (write-then-rename, so a crash never leaves half a key). */
    async write(key: GeneratedKey): Promise<void> {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      const partial = `${fileOf(key.keyId)}.partial`;
      await writeFile(partial, key.privateKeyPem, { mode: 0o600 });
      await chmod(partial, 0o600);
      await rename(partial, fileOf(key.keyId));
    },
    /** Loads a private key; a clear error when it is missing, encrypted without a passphrase, or not matching its id. */
    async load(keyId: string, passphrase: string | undefined): Promise<KeyObject> {
      const pem = await readFile(fileOf(keyId), 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new Error(`the active signing key ${keyId} is not in ${dir} (${err.code ?? 'unreadable'}); restore the file or rotate the key`);
      });
      if (pem.includes('ENCRYPTED') && passphrase === undefined) throw new Error(`the signing key ${keyId} is encrypted; set PLINTH_SIGNING_KEY_PASSPHRASE`);
      let key: KeyObject;
      try {
        key = createPrivateKey(passphrase !== undefined && pem.includes('ENCRYPTED') ? { key: pem, passphrase } : pem);
      } catch (err) {
        throw new Error(`cannot read the signing key ${keyId}: ${(err as Error).message}${passphrase !== undefined ? ' (is PLINTH_SIGNING_KEY_PASSPHRASE the one it was written with?)' : ''}`);
      }
      if (keyIdOf(createPublicKey(key)) !== keyId) throw new Error(`${fileOf(keyId)} does not hold key ${keyId}; it was replaced`);
      return key;
    },
    /** Removes a retired key's private half: nothing can sign with it any more. */
    remove: (keyId: string) => rm(fileOf(keyId), { force: true }),
  };
}
