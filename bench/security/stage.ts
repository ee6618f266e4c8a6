/**
 * The whole security stage (and the package stage's supply-chain steps) on a fresh `node-service`
 * project rendered from templates/node-service/skeleton, run through the real step handlers on the
 * real app (SQLite), plus signing and verification throughput. Used by bench/security/index.ts.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign as signBytes, verify as verifyBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import nunjucks from 'nunjucks';
import { buildApp, version } from '../../src/app.js';
import { createLogger, parseConfig } from '../../src/kernel/index.js';
import { createBuildArtifactStep, type PlatformStepContext, type PlatformStepHandler, type Run } from '../../src/pipelines/index.js';
import { createSupplyChainSteps, sastScanStep, secretsScanStep, verifyEvidence } from '../../src/security/index.js';

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const progress = (message: string) => process.stderr.write(`[bench:security] ${message}\n`);

/** Renders the golden path's skeleton the way the scaffolder's fetch:template does (`${{ }}` variables). */
function renderNodeService(skeleton: string, into: string): number {
  const env = new nunjucks.Environment(null, { autoescape: false, tags: { variableStart: '${{', variableEnd: '}}' } });
  const values = { name: 'bench-svc', description: 'A service for the security stage benchmark', owner: 'group:default/team-a', port: 8080, database: false };
  let files = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const target = join(into, relative(skeleton, path));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, env.renderString(readFileSync(path, 'utf8'), { values }));
        files++;
      }
    }
  };
  walk(skeleton);
  return files;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

export async function benchSecurityStage(repoRoot: string): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), 'plinth-bench-stage-'));
  try {
    const project = join(work, 'project');
    const files = renderNodeService(join(repoRoot, 'templates/node-service/skeleton'), project);
    // A fresh project's lockfile, as `npm install` would write it (registry metadata only, no scripts).
    const lock = spawnSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    const lockfile = lock.status === 0 && statSync(join(project, 'package-lock.json'), { throwIfNoEntry: false }) !== undefined;
    progress(`node-service rendered: ${files} files, lockfile ${lockfile ? 'written' : `not written (${lock.stderr.trim().split('\n').pop() ?? 'npm failed'})`}`);

    const dataDir = join(work, 'data');
    const config = parseConfig(['--data-dir', dataDir, '--port', '0', '--gateway-port', '0'], { PLINTH_LOG_LEVEL: 'silent', PLINTH_ADMIN_PASSWORD: 'bench-admin-password' });
    const app = await buildApp({ ...config, demo: false, builtinTemplates: false, jobs: { ...config.jobs, workerEnabled: false } }, { logger: createLogger({ level: 'silent', pretty: false }) });
    await app.start();
    try {
      const steps = createSupplyChainSteps(app.kernel, { security: app.security, supplyChain: app.supplyChain, pipelines: app.pipelines, findings: app.findings, version });
      const now = new Date().toISOString();
      const run: Run = {
        id: 'bench-run', repository: 'team-a/bench-svc', ownerRef: 'group:default/team-a', ref: 'refs/heads/main', sha: 'b'.repeat(40), isDefaultBranch: true,
        attempt: 1, trigger: 'push', status: 'running', definitionVersion: 'standard@2', jobId: null, createdBy: 'user:default/bench', createdAt: now, startedAt: now, finishedAt: null,
      };
      const outputs: Record<string, Record<string, unknown>> = {};
      const runStep = async (name: string, handler: PlatformStepHandler) => {
        const ctx: PlatformStepContext = { run, step: name, workspace: project, outputs, inputs: {}, env: {}, signal: new AbortController().signal, log: () => undefined };
        const { ms, value } = await timed(() => handler(ctx));
        if (value.status !== 'passed') throw new Error(`${name} ${value.status}: ${value.message ?? ''}`);
        if (value.outputs) outputs[name] = value.outputs;
        return round(ms, 1);
      };
      const securityStage = {
        'secrets-scan': await runStep('secrets-scan', secretsScanStep),
        'sast-scan': await runStep('sast-scan', sastScanStep),
        'dependency-audit': await runStep('dependency-audit', app.security.dependencyAuditStep),
        sbom: await runStep('sbom', steps.sbomStep),
      };
      const packageStage = {
        'build-artifact': await runStep('build-artifact', createBuildArtifactStep({ store: app.kernel.store, ledger: app.kernel.ledger, dataDir, now: () => new Date().toISOString() })),
        'artifact-scan': await runStep('artifact-scan', steps.artifactScanStep),
        sign: await runStep('sign', steps.signStep),
        provenance: await runStep('provenance', steps.provenanceStep),
      };
      const securitySeconds = Object.values(securityStage).reduce((a, b) => a + b, 0) / 1000;
      const packageSeconds = Object.values(packageStage).reduce((a, b) => a + b, 0) / 1000;
      progress(`security stage ${round(securitySeconds, 3)} s, package stage ${round(packageSeconds, 3)} s`);

      // Throughput: provenance signed into a Sigstore bundle, and the full verification of it, per second;
      // baseline in the same invocation: a bare ECDSA P-256 signature and verification of the same bytes.
      const digest = outputs['build-artifact']!.digest as string;
      const facts = { subject: { name: 'bench-svc-0.1.0.tgz', digest }, repository: run.repository, ref: run.ref, commit: run.sha, pipelineVersion: 'standard@2', runId: run.id, attempt: 1, trigger: 'push', startedOn: now, finishedOn: now };
      const system = { kind: 'system', name: 'bench' } as const;
      const signs = 200;
      const signTime = await timed(async () => {
        for (let i = 0; i < signs; i++) await app.supplyChain.attestBuild(system, facts);
      });
      const published = await app.supplyChain.publishedKeys();
      const bundle = (await app.supplyChain.attestations(system, digest)).find((a) => a.kind === 'provenance')!.bundle;
      const verifies = 500;
      const verifyTime = await timed(async () => {
        for (let i = 0; i < verifies; i++) if (!verifyEvidence({ digest, provenance: bundle }, published.keys, published.builderId).ok) throw new Error('provenance did not verify');
      });
      const keyFile = join(dataDir, 'keys', 'signing', `${published.keys[0]!.keyId}.key.pem`);
      const privateKey = createPrivateKey(readFileSync(keyFile, 'utf8'));
      const publicKey = createPublicKey(published.keys[0]!.publicKeyPem);
      const payload = Buffer.from(JSON.stringify(facts));
      let signature = Buffer.alloc(0);
      const rawSign = await timed(async () => {
        for (let i = 0; i < signs; i++) signature = signBytes('sha256', payload, privateKey);
      });
      const rawVerify = await timed(async () => {
        for (let i = 0; i < verifies; i++) if (!verifyBytes('sha256', payload, publicKey, signature)) throw new Error('raw signature did not verify');
      });
      return {
        project: { template: 'node-service', files, lockfile },
        securityStageSeconds: round(securitySeconds, 3),
        securityStepsMs: securityStage,
        packageStageSeconds: round(packageSeconds, 3),
        packageStepsMs: packageStage,
        // Signing goes through the service: build the statement, DSSE + bundle, store the row.
        provenanceSignsPerSecond: Math.round(signs / (signTime.ms / 1000)),
        provenanceVerifiesPerSecond: Math.round(verifies / (verifyTime.ms / 1000)),
        baselineRawSignsPerSecond: Math.round(signs / (rawSign.ms / 1000)),
        baselineRawVerifiesPerSecond: Math.round(verifies / (rawVerify.ms / 1000)),
        signCostRatio: round(signTime.ms / rawSign.ms),
        verifyCostRatio: round(verifyTime.ms / rawVerify.ms),
        target: { target: 15, met: securitySeconds < 15 },
      };
    } finally {
      await app.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
