import { createPublicKey, sign as signBytes, type KeyObject } from 'node:crypto';
import { bundleFromJSON, bundleToJSON, isBundleWithDsseEnvelope, type SerializedBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, type Signer } from '@sigstore/sign';
import { toSignedEntity, Verifier, type TrustMaterial } from '@sigstore/verify';

// Sigstore bundles signed with a platform key and no network: no Fulcio certificate, no Rekor entry,
// no timestamp authority (witnesses: []). Verification gives @sigstore/verify a trust material with no
// CAs, logs or TSAs, a key finder over our published keys, and thresholds of 0 — what the high-level
// `sigstore.verify` cannot do, because it always fetches the public-good TUF root.
// DSSE bundles come out as v0.3, message-signature bundles as v0.2 (hard-coded in @sigstore/sign 4).

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface SigningMaterial {
  keyId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

function signerOf(material: SigningMaterial): Signer {
  return {
    // DER-encoded ECDSA over SHA-256, what Sigstore verifiers expect; the hint names our key id.
    sign: async (data) => ({ signature: signBytes('sha256', data, material.privateKey), key: { $case: 'publicKey', publicKey: material.publicKeyPem, hint: material.keyId } }),
  };
}

/** An in-toto Statement in a DSSE envelope inside a Sigstore bundle (JSON form). */
export async function signStatement(statement: object, material: SigningMaterial): Promise<SerializedBundle> {
  const bundle = await new DSSEBundleBuilder({ signer: signerOf(material), witnesses: [] }).create({ data: Buffer.from(JSON.stringify(statement), 'utf8'), type: IN_TOTO_PAYLOAD_TYPE });
  return bundleToJSON(bundle);
}

/** A message-signature bundle over the artifact's bytes (its sha256 is the signed digest). */
export async function signArtifactBytes(bytes: Buffer, material: SigningMaterial): Promise<SerializedBundle> {
  const bundle = await new MessageSignatureBundleBuilder({ signer: signerOf(material), witnesses: [] }).create({ data: bytes });
  return bundleToJSON(bundle);
}

export interface VerifiedBundle {
  /** The key id the bundle names and whose key verified it. */
  keyId: string;
  /** The DSSE payload type and payload, for envelope bundles. */
  envelope?: { payloadType: string; payload: Buffer };
}

/**
 * Verifies a bundle's signature with the key its hint names; `artifact` is required for
 * message-signature bundles (the bytes signed). Throws an Error saying what failed.
 */
export function verifyBundle(json: unknown, publicKeys: ReadonlyMap<string, string>, artifact?: Buffer): VerifiedBundle {
  let bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (err) {
    throw new Error(`not a Sigstore bundle: ${(err as Error).message}`);
  }
  const hint = bundle.verificationMaterial.content.$case === 'publicKey' ? bundle.verificationMaterial.content.publicKey.hint : undefined;
  if (hint === undefined) throw new Error('the bundle is not signed with a public key (it carries a certificate); Plinth signs with its own keys');
  const trust: TrustMaterial = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (keyHint) => {
      const pem = publicKeys.get(keyHint);
      if (pem === undefined) throw new Error(`signed with key ${keyHint}, which is not one of the published signing keys`);
      // Time validity is checked by the caller against the key's retirement (there is no timestamp to check here).
      return { publicKey: createPublicKey(pem), validFor: () => true };
    },
  };
  if (!isBundleWithDsseEnvelope(bundle) && artifact === undefined) throw new Error('a message-signature bundle verifies only together with the artifact it signs');
  try {
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle, artifact));
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new Error(`signature does not verify${e.code ? ` (${e.code})` : ''}: ${e.message}`);
  }
  return {
    keyId: hint,
    ...(isBundleWithDsseEnvelope(bundle) ? { envelope: { payloadType: bundle.content.dsseEnvelope.payloadType, payload: bundle.content.dsseEnvelope.payload } } : {}),
  };
}
