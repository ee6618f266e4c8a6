import { IN_TOTO_PAYLOAD_TYPE, verifyBundle } from './bundle.js';
import type { SigningKey } from './keys.js';
import { CYCLONEDX_PREDICATE, hasSubject, parseStatement, ProvenancePredicate, SLSA_PROVENANCE_V1, SPDX_PREDICATE, type Statement } from '../provenance/statements.js';

// What "an artifact verifies" means, shared by the runtime's deploy check, the API and `plinth verify`:
// 1. the provenance bundle's signature verifies with a published key, and that key was active when
//    the provenance says the build finished (a retired key verifies only what it signed before);
// 2. the provenance is an in-toto Statement with the SLSA v1 predicate whose subject is this digest;
// 3. its builder id is this Plinth's;
// 4. optional evidence, when given, verifies too: the signature over the artifact bytes, and each SBOM
//    attestation (CycloneDX, SPDX): its signature, its predicate type and document, and its subject.

export interface VerificationCheck {
  check: string;
  ok: boolean;
  detail: string;
}

export interface VerificationResult {
  ok: boolean;
  digest: string;
  checks: VerificationCheck[];
}

export interface Evidence {
  /** `sha256:<hex>` of the artifact (computed by the caller from its bytes or directory). */
  digest: string;
  provenance: unknown;
  /** A message-signature bundle over the artifact bytes; checked only with `artifactBytes`. */
  signature?: unknown;
  /** The CycloneDX SBOM attestation (predicate https://cyclonedx.org/bom). */
  sbom?: unknown;
  /** The SPDX SBOM attestation (predicate https://spdx.dev/Document). */
  spdx?: unknown;
  artifactBytes?: Buffer;
}

/** Whether a key may have signed something at `signedAt` (created before it, not yet retired). */
export function keyValidAt(key: SigningKey, signedAt: string | undefined): { ok: boolean; why: string } {
  if (key.status === 'active') return { ok: true, why: 'active' };
  if (signedAt === undefined) return { ok: false, why: `retired on ${key.retiredAt} and the statement carries no time` };
  const at = Date.parse(signedAt);
  if (Number.isNaN(at)) return { ok: false, why: `the statement's time "${signedAt}" is not a date` };
  if (key.retiredAt !== null && at > Date.parse(key.retiredAt)) return { ok: false, why: `retired on ${key.retiredAt}, after which it signs nothing (statement time ${signedAt})` };
  return { ok: true, why: `retired on ${key.retiredAt}, signed before that (${signedAt})` };
}

function verifyStatement(json: unknown, keys: readonly SigningKey[], label: string): { statement?: Statement; keyId?: string; checks: VerificationCheck[] } {
  const publicKeys = new Map(keys.map((k) => [k.keyId, k.publicKeyPem]));
  try {
    const verified = verifyBundle(json, publicKeys);
    if (verified.envelope === undefined) return { checks: [{ check: `${label} signature`, ok: false, detail: 'expected a DSSE envelope bundle' }] };
    if (verified.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      return { checks: [{ check: `${label} signature`, ok: false, detail: `payload type is ${verified.envelope.payloadType}, expected ${IN_TOTO_PAYLOAD_TYPE}` }] };
    }
    return { statement: parseStatement(verified.envelope.payload), keyId: verified.keyId, checks: [{ check: `${label} signature`, ok: true, detail: `signed by key ${verified.keyId.slice(0, 16)}…` }] };
  } catch (err) {
    return { checks: [{ check: `${label} signature`, ok: false, detail: (err as Error).message }] };
  }
}

const sbomKinds = {
  cyclonedx: { label: 'CycloneDX SBOM', predicateType: CYCLONEDX_PREDICATE, isDocument: (p: Record<string, unknown>) => p.bomFormat === 'CycloneDX' && typeof p.specVersion === 'string' },
  spdx: { label: 'SPDX SBOM', predicateType: SPDX_PREDICATE, isDocument: (p: Record<string, unknown>) => typeof p.spdxVersion === 'string' && p.spdxVersion.startsWith('SPDX-') },
};

/** An SBOM attestation: signed by a published key, the expected predicate type holding such a document, about this digest. */
function verifySbomAttestation(bundle: unknown, kind: (typeof sbomKinds)[keyof typeof sbomKinds], keys: readonly SigningKey[], digest: string, provenanceKey: string | undefined): VerificationCheck[] {
  const verified = verifyStatement(bundle, keys, `${kind.label} attestation`);
  const statement = verified.statement;
  if (!statement) return verified.checks;
  // As for the artifact signature, no time is signed: the key must be active or the one that signed the provenance.
  if (keys.find((k) => k.keyId === verified.keyId)?.status !== 'active' && verified.keyId !== provenanceKey) {
    return [{ check: `${kind.label} attestation signature`, ok: false, detail: `key ${verified.keyId} is retired and did not sign the provenance` }];
  }
  const about = hasSubject(statement, digest);
  let ok = false;
  let detail: string;
  if (statement.predicateType !== kind.predicateType) detail = `predicate type is ${statement.predicateType}, expected ${kind.predicateType}`;
  else if (!kind.isDocument(statement.predicate)) detail = `the predicate is not ${kind.label} JSON`;
  else if (!about) detail = `the attestation is about ${statement.subject.map((s) => `${s.name} sha256:${s.digest.sha256 ?? '?'}`).join(', ')}, not ${digest}`;
  else {
    ok = true;
    detail = `the ${kind.label} of this artifact (${kind.predicateType})`;
  }
  return [...verified.checks, { check: `${kind.label} subject`, ok, detail }];
}

/** Runs every check on the evidence for one artifact; `ok` only when all pass. Never throws. */
export function verifyEvidence(evidence: Evidence, keys: readonly SigningKey[], builderId: string): VerificationResult {
  const checks: VerificationCheck[] = [];
  const keyById = new Map(keys.map((k) => [k.keyId, k]));
  const provenance = verifyStatement(evidence.provenance, keys, 'provenance');
  checks.push(...provenance.checks);
  let provenanceKey: string | undefined;
  if (provenance.statement) {
    const statement = provenance.statement;
    const predicate = ProvenancePredicate.safeParse(statement.predicate);
    const finishedOn = predicate.success ? predicate.data.runDetails.metadata?.finishedOn : undefined;
    const validity = keyValidAt(keyById.get(provenance.keyId!)!, finishedOn);
    checks.push({ check: 'signing key', ok: validity.ok, detail: validity.why });
    if (validity.ok) provenanceKey = provenance.keyId;
    checks.push({ check: 'provenance type', ok: statement.predicateType === SLSA_PROVENANCE_V1 && predicate.success, detail: predicate.success ? statement.predicateType : `not SLSA v1 provenance: ${statement.predicateType}` });
    checks.push({
      check: 'subject digest',
      ok: hasSubject(statement, evidence.digest),
      detail: hasSubject(statement, evidence.digest) ? `${evidence.digest} is the subject` : `the provenance is about ${statement.subject.map((s) => `${s.name} sha256:${s.digest.sha256 ?? '?'}`).join(', ')}, not ${evidence.digest}`,
    });
    const builder = predicate.success ? predicate.data.runDetails.builder.id : '(none)';
    checks.push({ check: 'builder', ok: builder === builderId, detail: builder === builderId ? builder : `built by ${builder}, expected ${builderId}` });
  }
  if (evidence.signature !== undefined && evidence.artifactBytes !== undefined) {
    try {
      const verified = verifyBundle(evidence.signature, new Map(keys.map((k) => [k.keyId, k.publicKeyPem])), evidence.artifactBytes);
      // No time is signed here: the key must be active or be the one the verified provenance used.
      const ok = keyById.get(verified.keyId)?.status === 'active' || verified.keyId === provenanceKey;
      checks.push({ check: 'artifact signature', ok, detail: ok ? `the artifact bytes are signed by key ${verified.keyId.slice(0, 16)}…` : `key ${verified.keyId} is retired and did not sign the provenance` });
    } catch (err) {
      checks.push({ check: 'artifact signature', ok: false, detail: (err as Error).message });
    }
  }
  if (evidence.sbom !== undefined) checks.push(...verifySbomAttestation(evidence.sbom, sbomKinds.cyclonedx, keys, evidence.digest, provenanceKey));
  if (evidence.spdx !== undefined) checks.push(...verifySbomAttestation(evidence.spdx, sbomKinds.spdx, keys, evidence.digest, provenanceKey));
  return { ok: checks.length > 0 && checks.every((c) => c.ok), digest: evidence.digest, checks };
}
