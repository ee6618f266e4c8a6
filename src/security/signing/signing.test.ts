import { createHash, createPublicKey, verify as verifyBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { provenanceStatement, sbomStatement, DEFAULT_BUILDER_ID } from '../provenance/statements.js';
import { signArtifactBytes, signStatement, verifyBundle, type SigningMaterial } from './bundle.js';
import { generateSigningKey, keyDirectory, keyIdOf, type SigningKey } from './keys.js';
import { keyValidAt, verifyEvidence } from './verify.js';

// Real ECDSA keys, real @sigstore/sign bundles, real @sigstore/verify: no network, no mocks.

const dataDir = mkdtempSync(join(tmpdir(), 'plinth-signing-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function makeKey(passphrase?: string): Promise<{ material: SigningMaterial; published: SigningKey }> {
  const generated = generateSigningKey(passphrase);
  const dir = keyDirectory(dataDir);
  await dir.write(generated);
  const privateKey = await dir.load(generated.keyId, passphrase);
  return {
    material: { keyId: generated.keyId, privateKey, publicKeyPem: generated.publicKeyPem },
    published: { keyId: generated.keyId, algorithm: 'ecdsa-p256-sha256', publicKeyPem: generated.publicKeyPem, status: 'active', createdAt: '2026-01-01T00:00:00.000Z', retiredAt: null },
  };
}

const artifactBytes = Buffer.from('pretend this is a .tgz');
const digest = `sha256:${createHash('sha256').update(artifactBytes).digest('hex')}`;
const provenanceFor = (subjectDigest: string, overrides: { builderId?: string; finishedOn?: string } = {}) =>
  provenanceStatement({
    subject: { name: 'svc-1.0.0.tgz', digest: subjectDigest }, builderId: overrides.builderId ?? DEFAULT_BUILDER_ID, builderVersion: '0.1.0',
    repository: 'team-a/svc', ref: 'refs/heads/main', commit: 'c'.repeat(40), pipelineVersion: 'standard@2', runId: 'run-1', attempt: 1, trigger: 'push',
    startedOn: '2026-06-01T10:00:00.000Z', finishedOn: overrides.finishedOn ?? '2026-06-01T10:01:00.000Z',
  });

/** Decodes, edits and re-encodes a bundle's DSSE payload (the signature stays the old one). */
function withPayload(bundle: unknown, edit: (statement: Record<string, unknown>) => void): unknown {
  const copy = structuredClone(bundle) as { dsseEnvelope: { payload: string } };
  const statement = JSON.parse(Buffer.from(copy.dsseEnvelope.payload, 'base64').toString('utf8')) as Record<string, unknown>;
  edit(statement);
  copy.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  return copy;
}

describe('signing keys', () => {
  it('names a key by the SHA-256 of its SPKI and writes the private key 0600, encrypted with a passphrase', async () => {
    const { material } = await makeKey('correct horse battery staple');
    const spki = createPublicKey(material.publicKeyPem).export({ type: 'spki', format: 'der' });
    expect(material.keyId).toBe(createHash('sha256').update(spki).digest('hex'));
    expect(keyIdOf(createPublicKey(material.privateKey))).toBe(material.keyId);
    const file = keyDirectory(dataDir).fileOf(material.keyId);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'keys', 'signing')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    await expect(keyDirectory(dataDir).load(material.keyId, undefined)).rejects.toThrow(/is encrypted; set PLINTH_SIGNING_KEY_PASSPHRASE/);
    await expect(keyDirectory(dataDir).load(material.keyId, 'wrong')).rejects.toThrow(/cannot read the signing key/);
  });

  it('keeps a plain PKCS#8 key without a passphrase, and refuses a missing key file with what to do', async () => {
    const { material } = await makeKey();
    expect(readFileSync(keyDirectory(dataDir).fileOf(material.keyId), 'utf8')).toContain('BEGIN PRIVATE KEY');
    await expect(keyDirectory(dataDir).load('f'.repeat(64), undefined)).rejects.toThrow(/is not in .*restore the file or rotate the key/);
  });

  it('lets a retired key verify only what it signed before its retirement', () => {
    const retired: SigningKey = { keyId: 'k', algorithm: 'ecdsa-p256-sha256', publicKeyPem: '', status: 'retired', createdAt: '2026-01-01T00:00:00.000Z', retiredAt: '2026-06-01T12:00:00.000Z' };
    expect(keyValidAt(retired, '2026-06-01T11:59:59.000Z').ok).toBe(true);
    expect(keyValidAt(retired, '2026-06-01T12:00:01.000Z')).toMatchObject({ ok: false, why: expect.stringContaining('retired on 2026-06-01T12:00:00.000Z') });
    expect(keyValidAt(retired, undefined).ok).toBe(false);
  });
});

describe('sign and verify', () => {
  it('round-trips SLSA provenance in a DSSE envelope in a Sigstore v0.3 bundle', async () => {
    const { material, published } = await makeKey();
    const bundle = (await signStatement(provenanceFor(digest), material)) as { mediaType: string; dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] } };
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    // What is signed is DSSE's PAE of (type, body): check it with plain node:crypto as well.
    const body = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(bundle.dsseEnvelope.payloadType)} ${bundle.dsseEnvelope.payloadType} ${body.length} `), body]);
    expect(verifyBytes('sha256', pae, material.publicKeyPem, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64'))).toBe(true);
    const signature = await signArtifactBytes(artifactBytes, material);
    const sbom = await signStatement(sbomStatement({ name: 'svc-1.0.0.tgz', digest }, 'cyclonedx', { bomFormat: 'CycloneDX', specVersion: '1.6' }), material);
    const spdx = await signStatement(sbomStatement({ name: 'svc-1.0.0.tgz', digest }, 'spdx', { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT' }), material);
    const result = verifyEvidence({ digest, provenance: bundle, signature, sbom, spdx, artifactBytes }, [published], DEFAULT_BUILDER_ID);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.map((c) => c.check)).toEqual([
      'provenance signature', 'signing key', 'provenance type', 'subject digest', 'builder', 'artifact signature',
      'CycloneDX SBOM attestation signature', 'CycloneDX SBOM subject', 'SPDX SBOM attestation signature', 'SPDX SBOM subject',
    ]);
    const spdxStatement = JSON.parse(Buffer.from((spdx as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString('utf8')) as Record<string, unknown>;
    expect(spdxStatement).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://spdx.dev/Document', subject: [{ name: 'svc-1.0.0.tgz', digest: { sha256: digest.slice(7) } }], predicate: { spdxVersion: 'SPDX-2.3' } });
    expect(result.ok).toBe(true);
  });

  it('rejects an SBOM attestation in the wrong slot, about another artifact, changed, or by a retired key', async () => {
    const { material, published } = await makeKey();
    const provenance = await signStatement(provenanceFor(digest), material);
    const subject = { name: 'svc-1.0.0.tgz', digest };
    const cyclonedx = await signStatement(sbomStatement(subject, 'cyclonedx', { bomFormat: 'CycloneDX', specVersion: '1.6' }), material);
    const spdx = await signStatement(sbomStatement(subject, 'spdx', { spdxVersion: 'SPDX-2.3' }), material);
    const failed = (r: ReturnType<typeof verifyEvidence>) => r.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);
    // An SPDX attestation handed as the CycloneDX one (and the reverse) is not what it claims to be.
    expect(failed(verifyEvidence({ digest, provenance, sbom: spdx, spdx: cyclonedx }, [published], DEFAULT_BUILDER_ID))).toEqual([
      'CycloneDX SBOM subject: predicate type is https://spdx.dev/Document, expected https://cyclonedx.org/bom',
      'SPDX SBOM subject: predicate type is https://cyclonedx.org/bom, expected https://spdx.dev/Document',
    ]);
    const notSpdx = await signStatement(sbomStatement(subject, 'spdx', { bomFormat: 'CycloneDX' }), material);
    expect(failed(verifyEvidence({ digest, provenance, spdx: notSpdx }, [published], DEFAULT_BUILDER_ID))).toEqual(['SPDX SBOM subject: the predicate is not SPDX SBOM JSON']);
    const otherArtifact = await signStatement(sbomStatement({ name: 'other.tgz', digest: `sha256:${'d'.repeat(64)}` }, 'spdx', { spdxVersion: 'SPDX-2.3' }), material);
    expect(failed(verifyEvidence({ digest, provenance, spdx: otherArtifact }, [published], DEFAULT_BUILDER_ID))).toEqual([`SPDX SBOM subject: the attestation is about other.tgz sha256:${'d'.repeat(64)}, not ${digest}`]);
    const changed = withPayload(spdx, (s) => ((s.predicate as Record<string, unknown>).name = 'something else'));
    expect(failed(verifyEvidence({ digest, provenance, spdx: changed }, [published], DEFAULT_BUILDER_ID))).toEqual([expect.stringMatching(/^SPDX SBOM attestation signature: signature does not verify/)]);
    // Signed by a key that is retired and did not sign the (valid) provenance.
    const other = await makeKey();
    const retiredOther = { ...other.published, status: 'retired' as const, retiredAt: '2026-01-02T00:00:00.000Z' };
    const lateSpdx = await signStatement(sbomStatement(subject, 'spdx', { spdxVersion: 'SPDX-2.3' }), other.material);
    expect(failed(verifyEvidence({ digest, provenance, spdx: lateSpdx }, [published, retiredOther], DEFAULT_BUILDER_ID))).toEqual([`SPDX SBOM attestation signature: key ${other.material.keyId} is retired and did not sign the provenance`]);
  });

  it('rejects a changed payload, a changed artifact, a changed signature and another key', async () => {
    const { material, published } = await makeKey();
    const other = await makeKey();
    const provenance = await signStatement(provenanceFor(digest), material);
    const failed = (r: ReturnType<typeof verifyEvidence>) => r.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);

    const payloadChanged = withPayload(provenance, (s) => ((s.subject as { digest: { sha256: string } }[])[0]!.digest.sha256 = 'e'.repeat(64)));
    expect(failed(verifyEvidence({ digest, provenance: payloadChanged }, [published], DEFAULT_BUILDER_ID))).toEqual([expect.stringMatching(/^provenance signature: signature does not verify/)]);

    const signature = await signArtifactBytes(artifactBytes, material);
    const tampered = Buffer.from('pretend this is a .tgz!');
    const tamperedDigest = `sha256:${createHash('sha256').update(tampered).digest('hex')}`;
    const artifactChanged = verifyEvidence({ digest: tamperedDigest, provenance, signature, artifactBytes: tampered }, [published], DEFAULT_BUILDER_ID);
    expect(failed(artifactChanged)).toEqual([expect.stringMatching(/^subject digest: the provenance is about svc-1\.0\.0\.tgz sha256:[0-9a-f]{64}, not sha256:/), expect.stringMatching(/^artifact signature: signature does not verify/)]);

    const sigChanged = structuredClone(provenance) as { dsseEnvelope: { signatures: { sig: string }[] } };
    const raw = Buffer.from(sigChanged.dsseEnvelope.signatures[0]!.sig, 'base64');
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 0x01;
    sigChanged.dsseEnvelope.signatures[0]!.sig = raw.toString('base64');
    expect(verifyEvidence({ digest, provenance: sigChanged }, [published], DEFAULT_BUILDER_ID).ok).toBe(false);

    // Signed by a key that is not published: unknown hint; the same bundle with our key id swapped in fails the signature.
    const foreign = await signStatement(provenanceFor(digest), other.material);
    expect(failed(verifyEvidence({ digest, provenance: foreign }, [published], DEFAULT_BUILDER_ID))).toEqual([expect.stringMatching(/which is not one of the published signing keys/)]);
    const relabelled = structuredClone(foreign) as { verificationMaterial: { publicKey: { hint: string } } };
    relabelled.verificationMaterial.publicKey.hint = material.keyId;
    expect(failed(verifyEvidence({ digest, provenance: relabelled }, [published], DEFAULT_BUILDER_ID))).toEqual([expect.stringMatching(/^provenance signature: signature does not verify/)]);
  });

  it('rejects provenance from another builder and a retired key signing after its retirement', async () => {
    const { material, published } = await makeKey();
    const elsewhere = await signStatement(provenanceFor(digest, { builderId: 'https://evil.example/builder' }), material);
    expect(verifyEvidence({ digest, provenance: elsewhere }, [published], DEFAULT_BUILDER_ID).checks.find((c) => c.check === 'builder')).toMatchObject({ ok: false, detail: `built by https://evil.example/builder, expected ${DEFAULT_BUILDER_ID}` });
    const retired = { ...published, status: 'retired' as const, retiredAt: '2026-06-01T10:00:30.000Z' };
    const late = await signStatement(provenanceFor(digest), material);
    expect(verifyEvidence({ digest, provenance: late }, [retired], DEFAULT_BUILDER_ID).ok).toBe(false);
    const early = await signStatement(provenanceFor(digest, { finishedOn: '2026-06-01T10:00:10.000Z' }), material);
    expect(verifyEvidence({ digest, provenance: early }, [retired], DEFAULT_BUILDER_ID).ok).toBe(true);
  });

  it('refuses a message signature without the artifact and junk that is not a bundle', async () => {
    const { material } = await makeKey();
    const keys = new Map([[material.keyId, material.publicKeyPem]]);
    expect(() => verifyBundle(undefined, keys)).toThrow(/^not a Sigstore bundle/);
    expect(() => verifyBundle({ mediaType: 'x' }, keys)).toThrow(/^not a Sigstore bundle/);
    const signature = await signArtifactBytes(artifactBytes, material);
    expect(() => verifyBundle(signature, keys)).toThrow(/only together with the artifact/);
    expect(verifyBundle(signature, keys, artifactBytes).keyId).toBe(material.keyId);
  });
});
