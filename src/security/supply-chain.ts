import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { authorize, NotAllowedError, NotFoundError, newId, toIso, principalRef, type Kernel, type Principal } from '../kernel/index.js';
import type { Pipelines } from '../pipelines/index.js';
import { securityPermissions, type SecurityEventPayloads } from './model.js';
import { attestationPredicates, provenanceStatement, sbomAttestationKind, sbomFormats, sbomStatement, DEFAULT_BUILDER_ID, type AttestationKind, type ProvenanceInput, type SbomFormat, type Subject } from './provenance/statements.js';
import { signArtifactBytes, signStatement, type SigningMaterial } from './signing/bundle.js';
import { generateSigningKey, keyDirectory, type SigningKey } from './signing/keys.js';
import { verifyEvidence, type VerificationResult } from './signing/verify.js';
import * as q from './store.js';

export interface SupplyChainOptions {
  /** Encrypts private signing keys at rest (PKCS#8, AES-256-CBC with PBKDF2); from PLINTH_SIGNING_KEY_PASSPHRASE. */
  signingKeyPassphrase?: string;
  /** This Plinth's SLSA builder id (a URL); provenance names it and verification insists on it. */
  builderId?: string;
  /** Version recorded as the builder's version in provenance. */
  version?: string;
}

/** What the well-known endpoint publishes: the builder id and every public key with its status. */
export interface PublishedKeys {
  builderId: string;
  keys: SigningKey[];
}

/** The facts a provenance statement records about a build; the caller is the platform itself. */
export type BuildFacts = Omit<ProvenanceInput, 'builderId' | 'builderVersion'>;

export type { AttestationKind };

/** The SBOM documents of a build, by format, to attest next to its provenance. */
export type BuildSboms = Partial<Record<SbomFormat, Record<string, unknown>>>;

/** One stored attestation as served. */
export interface AttestationSummary {
  kind: AttestationKind;
  /** The in-toto predicate type of a DSSE attestation; null for the signature over the artifact bytes. */
  predicateType: string | null;
  keyId: string;
  createdAt: string;
  runId: string | null;
  bundle: unknown;
}

/** Signing keys, signatures, provenance and their verification (issue #9, "Signing and provenance"). */
export interface SupplyChain {
  start(): Promise<void>;
  publishedKeys(): Promise<PublishedKeys>;
  /** Platform admins: a new active key; the old one is retired (kept for verification, its private half removed). */
  rotateKey(principal: Principal): Promise<SigningKey>;
  /** Signs the artifact's bytes (a message-signature bundle) and stores it. System principals only. */
  signArtifact(principal: Principal, input: { digest: string; bytes: Buffer; runId: string | null }): Promise<{ keyId: string }>;
  /**
   * Signs SLSA provenance (and, for each SBOM given, CycloneDX and SPDX, an SBOM attestation) for a build
   * the platform did, and stores them. System principals only: this is the platform vouching for its own build.
   */
  attestBuild(principal: Principal, facts: BuildFacts, sboms?: BuildSboms): Promise<{ keyId: string; sboms: SbomFormat[] }>;
  /** The newest bundle of each kind about a digest. */
  attestations(principal: Principal, digest: string): Promise<AttestationSummary[]>;
  /** The SBOM (document text) of the run that built the artifact. */
  sbomOf(principal: Principal, digest: string, format: 'cyclonedx' | 'spdx'): Promise<string>;
  /** Checks the stored evidence for a digest (with the bytes, the artifact signature too). */
  verifyArtifact(principal: Principal, input: { digest: string; bytes?: Buffer }): Promise<VerificationResult>;
  /** For the runtime before a release starts: throws NotAllowedError naming each failed check unless the evidence verifies. */
  assertVerified(input: { digest: string; bytes?: Buffer }): Promise<void>;
}

const isSystem = (p: Principal) => p.kind === 'system';

export function createSupplyChain(kernel: Kernel, deps: { pipelines?: Pipelines; options?: SupplyChainOptions } = {}): SupplyChain {
  const { store, ledger, clock } = kernel;
  const options = deps.options ?? {};
  const builderId = options.builderId ?? DEFAULT_BUILDER_ID;
  const passphrase = options.signingKeyPassphrase;
  const keys = keyDirectory(kernel.config.dataDir);
  const loaded = new Map<string, KeyObject>();
  const now = () => toIso(clock.now());

  async function createKey(retire: string | undefined): Promise<SigningKey> {
    const generated = generateSigningKey(passphrase);
    // The private half first: a crash between the two leaves an unused file, never a row without a key.
    await keys.write(generated);
    const createdAt = now();
    await store.transaction(async (tx) => {
      await q.insertActiveKey(tx, { keyId: generated.keyId, publicKeyPem: generated.publicKeyPem, encrypted: passphrase !== undefined, createdAt }, retire);
      await ledger.append({ kind: 'security.signing-key.created', subjects: ['security:signing-keys'], actor: 'system:security', payload: { keyId: generated.keyId, retired: retire ?? null } }, { db: tx });
    });
    return { keyId: generated.keyId, algorithm: 'ecdsa-p256-sha256', publicKeyPem: generated.publicKeyPem, status: 'active', createdAt, retiredAt: null };
  }

  async function material(): Promise<SigningMaterial> {
    const active = (await q.findActiveKey(store)) ?? (await createKey(undefined));
    let privateKey = loaded.get(active.keyId);
    if (privateKey === undefined) {
      privateKey = await keys.load(active.keyId, passphrase);
      loaded.set(active.keyId, privateKey);
    }
    return { keyId: active.keyId, privateKey, publicKeyPem: active.publicKeyPem };
  }

  async function record(kind: AttestationKind, digest: string, keyId: string, bundle: unknown, runId: string | null): Promise<void> {
    await q.insertAttestation(store, { id: newId(), subjectDigest: digest, kind, keyId, bundle, runId, createdAt: now() });
  }

  const requireSystem = (principal: Principal, what: string) => {
    if (!isSystem(principal)) throw new NotAllowedError(`only the platform itself ${what}; it signs what its pipelines built`);
  };

  const supplyChain: SupplyChain = {
    async start() {
      if ((await q.findActiveKey(store)) === undefined) await createKey(undefined).catch(async (err: unknown) => {
        // Another replica made the first key at the same moment: theirs is as good.
        if ((await q.findActiveKey(store)) === undefined) throw err;
      });
    },

    async publishedKeys() {
      return { builderId, keys: await q.selectKeys(store) };
    },

    async rotateKey(principal) {
      authorize(principal, securityPermissions.rotateKeys);
      const before = await q.findActiveKey(store);
      const key = await createKey(before?.keyId);
      if (before) {
        loaded.delete(before.keyId);
        await keys.remove(before.keyId);
      }
      await ledger.append({ kind: 'security.signing-key.rotated', subjects: ['security:signing-keys'], actor: principalRef(principal), payload: { keyId: key.keyId, retired: before?.keyId ?? null } });
      return key;
    },

    async signArtifact(principal, input) {
      requireSystem(principal, 'signs artifacts');
      const m = await material();
      await record('signature', input.digest, m.keyId, await signArtifactBytes(input.bytes, m), input.runId);
      return { keyId: m.keyId };
    },

    async attestBuild(principal, facts, sboms = {}) {
      requireSystem(principal, 'signs provenance');
      const m = await material();
      const statement = provenanceStatement({ ...facts, builderId, builderVersion: options.version ?? 'unknown' });
      await record('provenance', facts.subject.digest, m.keyId, await signStatement(statement, m), facts.runId);
      const attested: SbomFormat[] = [];
      for (const format of sbomFormats) {
        const document = sboms[format];
        if (document === undefined) continue;
        await record(sbomAttestationKind[format], facts.subject.digest, m.keyId, await signStatement(sbomStatement(facts.subject, format, document), m), facts.runId);
        attested.push(format);
      }
      const payload: SecurityEventPayloads['security.provenance.signed'] = { digest: facts.subject.digest, name: facts.subject.name, keyId: m.keyId, runId: facts.runId, sbom: attested.length > 0, sbomFormats: attested };
      await ledger.append({ kind: 'security.provenance.signed', subjects: [`artifact:${facts.subject.digest}`, `repository:${facts.repository}`], actor: principalRef(principal), payload: { ...payload } });
      return { keyId: m.keyId, sboms: attested };
    },

    async attestations(principal, digest) {
      authorize(principal, securityPermissions.readArtifacts);
      const found = await q.latestAttestations(store, digest);
      if (found.length === 0) throw new NotFoundError(`nothing is signed for ${digest}; only artifacts built by a pipeline's package stage are`);
      return found.map((a) => ({ kind: a.kind, predicateType: attestationPredicates[a.kind], keyId: a.keyId, createdAt: a.createdAt, runId: a.runId, bundle: a.bundle }));
    },

    async sbomOf(principal, digest, format) {
      authorize(principal, securityPermissions.readArtifacts);
      if (!deps.pipelines) throw new NotFoundError(`no artifact ${digest}; this platform runs no pipelines`);
      const artifact = await deps.pipelines.getArtifact(principal, digest);
      const document = await q.findSbom(store, artifact.runId, format);
      if (document === undefined) throw new NotFoundError(`run ${artifact.runId}, which built ${digest}, made no ${format} SBOM`);
      return document;
    },

    async verifyArtifact(principal, input) {
      authorize(principal, securityPermissions.readArtifacts);
      const found = await q.latestAttestations(store, input.digest);
      const of = (kind: AttestationKind) => found.find((a) => a.kind === kind)?.bundle;
      const provenance = of('provenance');
      if (provenance === undefined) {
        return { ok: false, digest: input.digest, checks: [{ check: 'provenance', ok: false, detail: `no signed provenance for ${input.digest}; only artifacts built and signed by a pipeline deploy` }] };
      }
      let bytes = input.bytes;
      if (bytes === undefined && deps.pipelines && of('signature') !== undefined) bytes = await readFile(deps.pipelines.artifactFile(input.digest)).catch(() => undefined);
      const signature = of('signature');
      const sbom = of('sbom');
      const spdx = of('sbom-spdx');
      return verifyEvidence({
        digest: input.digest, provenance,
        ...(signature !== undefined ? { signature } : {}), ...(sbom !== undefined ? { sbom } : {}), ...(spdx !== undefined ? { spdx } : {}), ...(bytes !== undefined ? { artifactBytes: bytes } : {}),
      }, await q.selectKeys(store), builderId);
    },

    async assertVerified(input) {
      const result = await supplyChain.verifyArtifact({ kind: 'system', name: 'runtime' }, input);
      if (!result.ok) {
        const failed = result.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);
        throw new NotAllowedError(`artifact ${input.digest} does not verify, refusing to run it (${failed.join('; ')})`);
      }
    },
  };
  return supplyChain;
}

export type { Subject };
