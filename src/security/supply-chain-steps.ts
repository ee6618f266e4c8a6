import { readFile } from 'node:fs/promises';
import { toIso, type Kernel, type Principal } from '../kernel/index.js';
import type { PlatformStepContext, PlatformStepHandler, PlatformStepResult, Pipelines } from '../pipelines/index.js';
import { scanArtifact } from './artifacts/scan.js';
import { resolveProject } from './deps/resolve.js';
import { severityRank, toScanOutputs } from './findings/model.js';
import { fromArtifact } from './findings/normalize.js';
import type { Findings } from './findings/service.js';
import { cyclonedxSbom } from './sbom/cyclonedx.js';
import { spdxSbom } from './sbom/spdx.js';
import type { Security } from './service.js';
import * as q from './store.js';
import { sbomFormats } from './provenance/statements.js';
import type { BuildSboms, SupplyChain } from './supply-chain.js';

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

export interface SupplyChainStepsDeps {
  security: Security;
  supplyChain: SupplyChain;
  pipelines: Pipelines;
  /** Where the artifact scan's findings are tracked. */
  findings: Pick<Findings, 'trackArtifactScan'>;
  version: string;
}

export function createSupplyChainSteps(kernel: Kernel, deps: SupplyChainStepsDeps): SupplyChainSteps {
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
      const scan = toScanOutputs('artifact', result.findings.map(fromArtifact));
      // Tracked like the security stage's findings (first seen, fixed, owner, SLA); the step still decides
      // on its own: an open critical finding in what would ship stops the signature, so it never deploys.
      const tracked = await deps.findings.trackArtifactScan(ctx.run, scan.findings, scan.complete);
      const byRank = [...tracked.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.file.localeCompare(b.file));
      for (const f of byRank.slice(0, MAX_LOGGED_FINDINGS)) {
        const how = f.sameAsDependencyFinding ? 'tracked by the dependency audit' : `${f.status}${f.new ? ' (new)' : ''}`;
        ctx.log(`${f.severity.toUpperCase()} ${how} ${f.rule} ${f.file}${f.line !== null ? `:${f.line}` : ''}: ${scan.findings.find((s) => s.rule === f.rule && s.file === f.file)?.title ?? ''}`);
      }
      if (byRank.length > MAX_LOGGED_FINDINGS) ctx.log(`… and ${byRank.length - MAX_LOGGED_FINDINGS} more`);
      if (!scan.complete) ctx.log(`more than ${scan.findings.length} findings: the rest is not tracked, and none of the artifact's findings is marked fixed`);
      const count = (s: string) => byRank.filter((f) => f.severity === s).length;
      const blocking = byRank.filter((f) => f.severity === 'critical' && f.status !== 'accepted');
      const outputs = {
        entries: result.entries, bundledPackages: result.bundledPackages, critical: count('critical'), high: count('high'), medium: count('medium'), low: count('low'),
        tracked: tracked.findings.filter((f) => !f.sameAsDependencyFinding).length, sameAsDependency: tracked.findings.filter((f) => f.sameAsDependencyFinding).length,
        new: tracked.findings.filter((f) => f.new).length, fixed: tracked.fixed, blocking: blocking.length,
      };
      ctx.log(`scanned ${result.entries} entries of ${artifact.name}, ${result.bundledPackages} bundled packages: ${result.findings.length} finding(s), ${outputs.new} new, ${outputs.fixed} fixed`);
      if (blocking.length > 0) return { status: 'failed', message: `${blocking.length} open critical finding(s) in the artifact (${[...new Set(blocking.map((f) => f.rule))].join(', ')}); it will not be signed`, outputs };
      const summary = [outputs.critical > 0 ? `${outputs.critical} critical (accepted)` : '', `${outputs.high} high`, `${outputs.medium} medium`, `${outputs.low} low`].filter((p) => p !== '').join(', ');
      return { status: 'passed', message: byRank.length === 0 ? 'no findings' : summary, outputs };
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
      const sboms: BuildSboms = {};
      for (const format of sbomFormats) {
        const text = await q.findSbom(store, run.id, format);
        if (text !== undefined) sboms[format] = JSON.parse(text) as Record<string, unknown>;
      }
      const { keyId, sboms: attested } = await deps.supplyChain.attestBuild(
        SYSTEM,
        {
          subject: { name: artifact.name, digest: artifact.digest },
          repository: run.repository, ref: run.ref, commit: run.sha, pipelineVersion: run.definitionVersion,
          runId: run.id, attempt: run.attempt, trigger: run.trigger, startedOn: run.startedAt ?? run.createdAt, finishedOn: now(),
        },
        sboms,
      );
      const names = attested.map((f) => (f === 'spdx' ? 'SPDX' : 'CycloneDX'));
      ctx.log(`SLSA v1 provenance${names.length > 0 ? ` and ${names.join(' and ')} SBOM attestations` : ''} for ${artifact.name}, signed with key ${keyId}`);
      return { status: 'passed', message: `provenance signed with key ${keyId.slice(0, 16)}`, outputs: { keyId, sbomAttested: attested.length > 0, sbomAttestations: attested } };
    },
  };
}
