import { z } from 'zod';

// in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md) with the
// SLSA Provenance v1.0 predicate (https://slsa.dev/spec/v1.0/provenance) or a CycloneDX BOM predicate.

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';
/** The in-toto predicate type of an SPDX document (https://github.com/in-toto/attestation/blob/main/spec/predicates/spdx.md). */
export const SPDX_PREDICATE = 'https://spdx.dev/Document';
/** How to read Plinth's external parameters: the standard pipeline run on a pushed commit. */
export const PLINTH_BUILD_TYPE = 'https://plinth.dev/buildtypes/standard-pipeline/v1';
/** The builder id when none is configured; an instance that others verify should set its own URL. */
export const DEFAULT_BUILDER_ID = 'https://plinth.dev/builders/local-runner/v1';

export interface Subject {
  name: string;
  /** `sha256:<hex>`. */
  digest: string;
}

const subjectOf = (s: Subject) => ({ name: s.name, digest: { sha256: s.digest.replace(/^sha256:/, '') } });

export interface ProvenanceInput {
  subject: Subject;
  builderId: string;
  builderVersion: string;
  repository: string;
  ref: string;
  commit: string;
  /** The pipeline definition's version, e.g. standard@2. */
  pipelineVersion: string;
  runId: string;
  attempt: number;
  trigger: string;
  startedOn: string;
  finishedOn: string;
}

/** The SLSA v1.0 provenance Statement of a build artifact. */
export function provenanceStatement(input: ProvenanceInput): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [subjectOf(input.subject)],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: PLINTH_BUILD_TYPE,
        // What the user controls: which repository and ref were pushed, and the pipeline they ran.
        externalParameters: { repository: input.repository, ref: input.ref, pipeline: input.pipelineVersion },
        // What the platform decided.
        internalParameters: { attempt: input.attempt, trigger: input.trigger },
        resolvedDependencies: [{ uri: `plinth+git:${input.repository}@${input.ref}`, name: input.repository, digest: { gitCommit: input.commit } }],
      },
      runDetails: {
        builder: { id: input.builderId, version: { plinth: input.builderVersion } },
        metadata: { invocationId: input.runId, startedOn: input.startedOn, finishedOn: input.finishedOn },
      },
    },
  };
}

export const sbomFormats = ['cyclonedx', 'spdx'] as const;
export type SbomFormat = (typeof sbomFormats)[number];
export const sbomPredicates: Record<SbomFormat, string> = { cyclonedx: CYCLONEDX_PREDICATE, spdx: SPDX_PREDICATE };

/**
 * Kinds of signed evidence stored about an artifact: the signature over its bytes, the SLSA provenance,
 * and one SBOM attestation per format (`sbom` is CycloneDX, its name from before SPDX was attested too).
 */
export const attestationKinds = ['signature', 'provenance', 'sbom', 'sbom-spdx'] as const;
export type AttestationKind = (typeof attestationKinds)[number];
export const sbomAttestationKind: Record<SbomFormat, AttestationKind> = { cyclonedx: 'sbom', spdx: 'sbom-spdx' };
/** The in-toto predicate type of each kind (a message signature has none). */
export const attestationPredicates: Record<AttestationKind, string | null> = { signature: null, provenance: SLSA_PROVENANCE_V1, sbom: CYCLONEDX_PREDICATE, 'sbom-spdx': SPDX_PREDICATE };

/** A signed SBOM attestation: the CycloneDX or SPDX document as the predicate of a Statement about the artifact. */
export function sbomStatement(subject: Subject, format: SbomFormat, document: Record<string, unknown>): Record<string, unknown> {
  return { _type: IN_TOTO_STATEMENT_V1, subject: [subjectOf(subject)], predicateType: sbomPredicates[format], predicate: document };
}

// ---- Reading statements back (payloads of verified envelopes are still input) -----------------------

export const Statement = z.object({
  _type: z.literal(IN_TOTO_STATEMENT_V1),
  subject: z.array(z.object({ name: z.string(), digest: z.record(z.string(), z.string()) })).min(1),
  predicateType: z.string(),
  predicate: z.record(z.string(), z.unknown()),
});
export type Statement = z.infer<typeof Statement>;

export const ProvenancePredicate = z.object({
  buildDefinition: z.object({
    buildType: z.string(),
    externalParameters: z.record(z.string(), z.unknown()),
    resolvedDependencies: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
  runDetails: z.object({
    builder: z.object({ id: z.string() }),
    metadata: z.object({ invocationId: z.string().optional(), startedOn: z.string().optional(), finishedOn: z.string().optional() }).optional(),
  }),
});
export type ProvenancePredicate = z.infer<typeof ProvenancePredicate>;

/** Parses a DSSE payload as an in-toto Statement; throws an Error saying what is wrong. */
export function parseStatement(payload: Buffer): Statement {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new Error('the signed payload is not JSON');
  }
  const parsed = Statement.safeParse(value);
  if (!parsed.success) throw new Error(`the signed payload is not an in-toto Statement v1: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Whether a statement names this digest (`sha256:<hex>`) among its subjects. */
export const hasSubject = (statement: Statement, digest: string): boolean =>
  statement.subject.some((s) => s.digest.sha256 !== undefined && `sha256:${s.digest.sha256.toLowerCase()}` === digest.toLowerCase());
