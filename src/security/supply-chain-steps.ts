import { readFile } from 'node:fs/promises';
import { toIso, type Kernel, type Principal } from '../kernel/index.js';
import type { PlatformStepContext, PlatformStepHandler, PlatformStepResult, Pipelines } from '../pipelines/index.js';
import { scanArtifact } from './artifacts/scan.js';
import { resolveProject } from './deps/resolve.js';
import { cyclonedxSbom } from './sbom/cyclonedx.js';
import { spdxSbom } from './sbom/spdx.js';
import type { Security } from './service.js';
import * as q from './store.js';
import type { SupplyChain } from './supply-chain.js';

const SYSTEM: Principal = { kind: 'system', name: 'security' };
const MAX_LOGGED_FINDINGS = 200;

/** The standard pipeline's supply-chain steps: sbom (security stage), artifact-scan, sign, provenance (package stage). */
export interface SupplyChainSteps {
  sbomStep: PlatformStepHandler;
  artifactScanStep: PlatformStepHandler;
  signStep: PlatformStepHandler;
  provenanceStep: PlatformStepHandler;
}

/** The artifact build-artifact handed on, or a failed result saying it is missing. */
function builtArtifact(ctx: PlatformStepContext): { digest: string; name: string } | PlatformStepResult {
  const out = ctx.outputs['build-artifact'];
  const digest = out?.digest;
  const name = out?.name;
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest) || typeof name !== 'string') {
    return { status: 'failed', message: 'no artifact: the build-artifact step did not pass in this run' };
  }
  return { digest, name };
}

export function createSupplyChainSteps(kernel: Kernel, deps: { security: Security; supplyChain: SupplyChain; pipelines: Pipelines; version: string }): SupplyChainSteps {
  const { store, clock } = kernel;
  const now = () => toIso(clock.now());
  const readArtifact = (digest: string) => readFile(deps.pipelines.artifactFile(digest));

  return {
    async sbomStep(ctx) {
      const project = await resolveProject(ctx.workspace);
      // An SBOM that silently leaves out a lockfile misdescribes the software: fail instead.
      if (project.errors.length > 0) return { status: 'failed', message: `cannot describe the software: ${project.errors.map((e) => e.message).join('; ')}` };
      const options = { folderName: ctx.run.repository.split('/')[1] ?? ctx.run.repository, toolVersion: deps.version, timestamp: clock.now() };
      const cyclonedx = cyclonedxSbom(project.trees, options);
      const spdx = spdxSbom(project.trees, options);
      await q.upsertSbom(store, ctx.run.id, 'cyclonedx', cyclonedx, now());
      await q.upsertSbom(store, ctx.run.id, 'spdx', spdx, now());
      const components = project.trees.reduce((n, t) => n + t.packages.length, 0);
      ctx.log(`SBOM of ${components} components from ${project.trees.map((t) => t.file).join(', ') || 'no lockfile (the project alone)'}: CycloneDX 1.6 and SPDX 2.3`);
      return { status: 'passed', message: `${components} components`, outputs: { components, lockfiles: project.trees.map((t) => t.file) } };
    },

    async artifactScanStep(ctx) {
      const artifact = builtArtifact(ctx);
      if ('status' in artifact) return artifact;
      const result = await scanArtifact(await readArtifact(artifact.digest), (purls) => deps.security.auditPackages(SYSTEM, purls), ctx.signal);
      for (const f of result.findings.slice(0, MAX_LOGGED_FINDINGS)) ctx.log(`${f.severity.toUpperCase()} ${f.kind} ${f.rule} ${f.path}: ${f.message}`);
      if (result.findings.length > MAX_LOGGED_FINDINGS) ctx.log(`… and ${result.findings.length - MAX_LOGGED_FINDINGS} more`);
      const count = (s: string) => result.findings.filter((f) => f.severity === s).length;
      const outputs = { entries: result.entries, bundledPackages: result.bundledPackages, critical: count('critical'), high: count('high'), medium: count('medium'), low: count('low') };
      ctx.log(`scanned ${result.entries} entries of ${artifact.name}, ${result.bundledPackages} bundled packages: ${result.findings.length} finding(s)`);
      if (outputs.critical > 0) return { status: 'failed', message: `${outputs.critical} critical finding(s) in the artifact (${[...new Set(result.findings.filter((f) => f.severity === 'critical').map((f) => f.rule))].join(', ')}); it will not be signed`, outputs };
      return { status: 'passed', message: result.findings.length === 0 ? 'no findings' : `${outputs.high} high, ${outputs.medium} medium, ${outputs.low} low`, outputs };
    },

    async signStep(ctx) {
      const artifact = builtArtifact(ctx);
      if ('status' in artifact) return artifact;
      const { keyId } = await deps.supplyChain.signArtifact(SYSTEM, { digest: artifact.digest, bytes: await readArtifact(artifact.digest), runId: ctx.run.id });
      ctx.log(`signed ${artifact.name} (${artifact.digest}) with key ${keyId}`);
      return { status: 'passed', message: `signed with key ${keyId.slice(0, 16)}`, outputs: { keyId } };
    },

    async provenanceStep(ctx) {
      const artifact = builtArtifact(ctx);
      if ('status' in artifact) return artifact;
      const run = ctx.run;
      const sbomText = await q.findSbom(store, run.id, 'cyclonedx');
      const { keyId } = await deps.supplyChain.attestBuild(
        SYSTEM,
        {
          subject: { name: artifact.name, digest: artifact.digest },
          repository: run.repository, ref: run.ref, commit: run.sha, pipelineVersion: run.definitionVersion,
          runId: run.id, attempt: run.attempt, trigger: run.trigger, startedOn: run.startedAt ?? run.createdAt, finishedOn: now(),
        },
        sbomText !== undefined ? (JSON.parse(sbomText) as Record<string, unknown>) : undefined,
      );
      ctx.log(`SLSA v1 provenance${sbomText !== undefined ? ' and a CycloneDX SBOM attestation' : ''} for ${artifact.name}, signed with key ${keyId}`);
      return { status: 'passed', message: `provenance signed with key ${keyId.slice(0, 16)}`, outputs: { keyId, sbomAttested: sbomText !== undefined } };
    },
  };
}
