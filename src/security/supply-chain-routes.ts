import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, NotFoundError } from '../kernel/index.js';
import { attestationKinds, sbomAttestationKind, sbomFormats } from './provenance/statements.js';
import { keyStatuses } from './signing/keys.js';
import type { SupplyChain } from './supply-chain.js';

const tags = ['security'];
const digestParam = z.strictObject({ digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'an artifact digest, sha256:<64 lowercase hex digits>') });
const SigningKeyView = z.object({ keyId: z.string(), algorithm: z.string(), publicKeyPem: z.string(), status: z.enum(keyStatuses), createdAt: z.string(), retiredAt: z.string().nullable() });
const CheckView = z.object({ check: z.string(), ok: z.boolean(), detail: z.string() });
export const VerificationView = z.object({ ok: z.boolean(), digest: z.string(), checks: z.array(CheckView) });
const AttestationView = z.object({ kind: z.enum(attestationKinds), predicateType: z.string().nullable(), keyId: z.string(), createdAt: z.string(), runId: z.string().nullable(), bundle: z.unknown() });
export const PublishedKeysView = z.object({ builderId: z.string(), keys: z.array(SigningKeyView) });

/** `/api/security/...`: artifact SBOMs, signed evidence, verification, and key rotation. */
export function supplyChainRoutes(supplyChain: SupplyChain): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/artifacts/:digest/sbom', {
      schema: { tags, summary: 'The SBOM of the run that built an artifact', params: digestParam, querystring: z.strictObject({ format: z.enum(['cyclonedx', 'spdx']).default('cyclonedx') }), response: { 200: z.unknown(), ...errorResponses } },
    }, async (request, reply) => {
      const document = await supplyChain.sbomOf(request.principal!, request.params.digest, request.query.format);
      const type = request.query.format === 'spdx' ? 'application/spdx+json' : 'application/vnd.cyclonedx+json; version=1.6';
      return reply.type(type).send(document);
    });

    app.get('/artifacts/:digest/provenance', {
      schema: { tags, summary: 'The signed SLSA v1 provenance of an artifact: a Sigstore bundle holding a DSSE envelope', params: digestParam, response: { 200: z.unknown(), ...errorResponses } },
    }, async (request, reply) => {
      const found = (await supplyChain.attestations(request.principal!, request.params.digest)).find((a) => a.kind === 'provenance');
      if (!found) throw new NotFoundError(`no provenance for ${request.params.digest}; it is signed by the provenance step of the package stage`);
      return reply.type('application/vnd.dev.sigstore.bundle.v0.3+json').send(JSON.stringify(found.bundle));
    });

    app.get('/artifacts/:digest/sbom-attestation', {
      schema: { tags, summary: 'The signed SBOM attestation of an artifact (an in-toto Statement with the CycloneDX or SPDX document as predicate, in a DSSE envelope inside a Sigstore bundle)', params: digestParam, querystring: z.strictObject({ format: z.enum(sbomFormats).default('cyclonedx') }), response: { 200: z.unknown(), ...errorResponses } },
    }, async (request, reply) => {
      const kind = sbomAttestationKind[request.query.format];
      const found = (await supplyChain.attestations(request.principal!, request.params.digest)).find((a) => a.kind === kind);
      if (!found) throw new NotFoundError(`no ${request.query.format} SBOM attestation for ${request.params.digest}; the provenance step attests the SBOMs its run's sbom step made`);
      return reply.type('application/vnd.dev.sigstore.bundle.v0.3+json').send(JSON.stringify(found.bundle));
    });

    app.get('/artifacts/:digest/attestations', {
      schema: { tags, summary: 'Every kind of signed evidence about an artifact (newest of each): signature, provenance, CycloneDX and SPDX SBOM attestations', params: digestParam, response: { 200: z.object({ items: z.array(AttestationView) }), ...errorResponses } },
    }, async (request) => ({ items: await supplyChain.attestations(request.principal!, request.params.digest) }));

    app.post('/artifacts/:digest/verify', {
      config: { audit: false },
      schema: { tags, summary: 'Verify the stored evidence of an artifact against the published keys', params: digestParam, response: { 200: VerificationView, ...errorResponses } },
    }, async (request) => supplyChain.verifyArtifact(request.principal!, { digest: request.params.digest }));

    app.post('/keys/rotate', {
      config: { audit: 'security.signing-key.rotate' },
      schema: { tags, summary: 'Rotate the platform signing key (platform admins); the old key is retired and still verifies what it signed', response: { 201: SigningKeyView, ...errorResponses } },
    }, async (request, reply) => reply.code(201).send(await supplyChain.rotateKey(request.principal!)));
  };
}

/** `/.well-known/plinth/signing-keys`: public, like /healthz — verifiers need the keys without an account. */
export function signingKeysRoutes(supplyChain: SupplyChain): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/.well-known/plinth/signing-keys', {
      // Deliberately public: the kernel's auth hook reads `config.auth` and lets 'public' routes through.
      config: { auth: 'public' },
      schema: { tags, summary: 'The platform’s public signing keys (PEM, with ids and status) and its SLSA builder id', response: { 200: PublishedKeysView } },
    }, async () => supplyChain.publishedKeys());
  };
}
