import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as plinthRun } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import { readTar } from '../../src/pipelines/index.js';
import { testDialects } from '../helpers/dialects.js';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// Push a Node project; the standard pipeline builds, packs, scans, signs and attests it; `plinth verify`
// accepts the artifact it built and rejects a changed copy. Real git, npm, node and HTTP throughout.

const conformance = new URL('../../../shared/conformance/sbom/', import.meta.url).pathname;
const schema = (path: string) => JSON.parse(readFileSync(join(conformance, path), 'utf8')) as Record<string, unknown>;
const dialects = await testDialects();

interface StepBody { name: string; status: string; message: string | null; outputs: Record<string, unknown> | null }
interface RunBody { id: string; sha: string; status: string; definitionVersion: string; stages: { name: string; status: string; steps: StepBody[] }[] }

describe.each(dialects)('supply chain journey on %s', (dialect) => {
  let t: GitTestApp;
  let repoDir: string;
  const get = (url: string, token = t.tokens.vera) => t.app.server.inject({ url, headers: { authorization: `Bearer ${token}` } });
  const plinth = async (...argv: string[]) => {
    const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: t.tokens.vera, PLINTH_CONFIG_DIR: t.workDir });
    const code = await plinthRun(argv, io);
    return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
  };

  async function waitForRun(match: (r: { sha: string; status: string; id: string }) => boolean): Promise<RunBody> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const list = await get('/api/pipelines/runs?repository=team-a/shipit');
      const run = (list.json() as { items: { id: string; sha: string; status: string }[] }).items.find(match);
      if (run && !['queued', 'running'].includes(run.status)) return (await get(`/api/pipelines/runs/${run.id}`)).json() as RunBody;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('no finished run');
  }
  const stepOf = (run: RunBody, name: string) => run.stages.flatMap((s) => s.steps).find((s) => s.name === name);

  beforeAll(async () => {
    t = await startGitTestApp({ dialect, listen: true });
    const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { owner: 'team-a', name: 'shipit' } });
    expect(created.statusCode).toBe(201);
    repoDir = join(t.workDir, 'shipit');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/shipit'), 'shipit'], { cwd: t.workDir })).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  let run: RunBody;
  let digest: string;

  it('builds, packs, scans, signs and attests a pushed project in the package stage', { timeout: 120_000 }, async () => {
    mkdirSync(join(repoDir, 'src'), { recursive: true });
    writeFileSync(join(repoDir, 'package.json'), JSON.stringify({
      name: 'shipit', version: '1.4.0', private: true, files: ['dist'],
      scripts: { build: 'mkdir -p dist && cp src/main.js dist/main.js', test: 'node -e "process.exit(0)"' },
    }, null, 2));
    writeFileSync(join(repoDir, 'package-lock.json'), JSON.stringify({ name: 'shipit', version: '1.4.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'shipit', version: '1.4.0' } } }, null, 2));
    writeFileSync(join(repoDir, 'src', 'main.js'), 'console.log("shipped");\n');
    for (const args of [['add', '-A'], ['commit', '-q', '-m', 'ship it'], ['push', '-q', 'origin', 'HEAD:main']]) expect((await runGitClient(args, { cwd: repoDir })).code).toBe(0);
    const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();
    run = await waitForRun((r) => r.sha === sha);
    expect(run.definitionVersion).toBe('standard@3');
    for (const step of ['sbom', 'build-artifact', 'artifact-scan', 'sign', 'provenance']) expect(stepOf(run, step), step).toMatchObject({ status: 'passed' });
    // Since standard@2 the artifact scan runs in the package stage, after the artifact exists.
    expect(run.stages.find((s) => s.name === 'package')?.steps.map((s) => s.name)).toEqual(['build-artifact', 'artifact-scan', 'sign', 'provenance']);
    const outputs = stepOf(run, 'build-artifact')!.outputs!;
    expect(outputs).toMatchObject({ name: 'shipit-1.4.0.tgz', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    digest = outputs.digest as string;
    const files = readTar(readFileSync(t.app.pipelines.artifactFile(digest))).filter((e) => e.type === 'file').map((e) => e.path);
    expect(files).toEqual(['dist/main.js', 'package-lock.json', 'package.json']);
    const meta = await get(`/api/pipelines/artifacts/${digest}`);
    expect(meta.json()).toMatchObject({ digest, name: 'shipit-1.4.0.tgz', repository: 'team-a/shipit', commit: sha, runId: run.id });
    const content = await get(`/api/pipelines/artifacts/${digest}/content`);
    expect(content.statusCode).toBe(200);
    expect(content.rawPayload.equals(readFileSync(t.app.pipelines.artifactFile(digest)))).toBe(true);
    expect((await get(`/api/pipelines/artifacts/sha256:${'1'.repeat(64)}`)).statusCode).toBe(404);
    expect((await get('/api/pipelines/artifacts/md5:abc')).statusCode).toBe(400);
    const built = await t.app.kernel.ledger.query({ kinds: ['pipelines.artifact.built'], subject: `pipeline-run:${run.id}` }, 10);
    expect(built.map((e) => e.payload)).toEqual([{ digest, name: 'shipit-1.4.0.tgz', sizeBytes: meta.json<{ sizeBytes: number }>().sizeBytes, repository: 'team-a/shipit', commit: sha, runId: run.id }]);
    const signed = await t.app.kernel.ledger.query({ kinds: ['security.provenance.signed'], subject: `artifact:${digest}` }, 10);
    expect(signed.map((e) => e.payload)).toEqual([expect.objectContaining({ digest, runId: run.id, sbom: true, sbomFormats: ['cyclonedx', 'spdx'] })]);
    expect(stepOf(run, 'provenance')?.outputs).toMatchObject({ sbomAttestations: ['cyclonedx', 'spdx'] });
  });

  it('serves the run’s SBOMs for the artifact, valid against the CycloneDX 1.6 and SPDX 2.3 schemas', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    (createRequire(import.meta.url)('ajv-formats-draft2019') as (a: Ajv, o: { formats: string[] }) => Ajv)(ajv, { formats: ['idn-email'] });
    ajv.addFormat('iri-reference', true);
    ajv.addSchema(schema('cyclonedx/schema/spdx.schema.json'));
    ajv.addSchema(schema('cyclonedx/schema/jsf-0.82.schema.json'));
    const cdx = await get(`/api/security/artifacts/${digest}/sbom?format=cyclonedx`);
    expect(cdx.statusCode).toBe(200);
    const cyclonedx = ajv.compile(schema('cyclonedx/schema/bom-1.6.schema.json'));
    expect(cyclonedx(cdx.json()), JSON.stringify(cyclonedx.errors)).toBe(true);
    expect(cdx.json()).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', metadata: { component: { name: 'shipit' } } });
    const spdx = await get(`/api/security/artifacts/${digest}/sbom?format=spdx`);
    const spdx23 = ajv.compile(schema('spdx/schema/spdx-2.3.schema.json'));
    expect(spdx23(spdx.json()), JSON.stringify(spdx23.errors)).toBe(true);
  });

  it('signs SLSA v1 provenance naming the repository, ref, commit, pipeline version and run', async () => {
    const res = await get(`/api/security/artifacts/${digest}/provenance`);
    expect(res.statusCode).toBe(200);
    const statement = JSON.parse(Buffer.from((res.json() as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString('utf8')) as Record<string, unknown>;
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'shipit-1.4.0.tgz', digest: { sha256: digest.slice(7) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://plinth.dev/buildtypes/standard-pipeline/v1',
          externalParameters: { repository: 'team-a/shipit', ref: 'refs/heads/main', pipeline: 'standard@3' },
          resolvedDependencies: [{ digest: { gitCommit: run.sha } }],
        },
        runDetails: { builder: { id: 'https://plinth.dev/builders/local-runner/v1' }, metadata: { invocationId: run.id, startedOn: expect.any(String), finishedOn: expect.any(String) } },
      },
    });
    writeFileSync(join(t.workDir, 'provenance.json'), res.body);
  });

  it('signs CycloneDX and SPDX SBOM attestations: in-toto Statements about the artifact in DSSE envelopes', async () => {
    const listed = (await get(`/api/security/artifacts/${digest}/attestations`)).json<{ items: { kind: string; predicateType: string | null; runId: string }[] }>().items;
    expect(listed.map((a) => [a.kind, a.predicateType]).sort()).toEqual([
      ['provenance', 'https://slsa.dev/provenance/v1'], ['sbom', 'https://cyclonedx.org/bom'], ['sbom-spdx', 'https://spdx.dev/Document'], ['signature', null],
    ]);
    const decode = (body: string) => {
      const bundle = JSON.parse(body) as { mediaType: string; dsseEnvelope: { payloadType: string; payload: string } };
      expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
      return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as Record<string, unknown>;
    };
    const spdx = await get(`/api/security/artifacts/${digest}/sbom-attestation?format=spdx`);
    expect(spdx.statusCode).toBe(200);
    const spdxDocument = (await get(`/api/security/artifacts/${digest}/sbom?format=spdx`)).json<Record<string, unknown>>();
    expect(decode(spdx.body)).toEqual({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'shipit-1.4.0.tgz', digest: { sha256: digest.slice(7) } }], predicateType: 'https://spdx.dev/Document', predicate: spdxDocument });
    const cdx = await get(`/api/security/artifacts/${digest}/sbom-attestation`);
    expect(decode(cdx.body)).toMatchObject({ predicateType: 'https://cyclonedx.org/bom', predicate: { bomFormat: 'CycloneDX', specVersion: '1.6' } });
    writeFileSync(join(t.workDir, 'spdx-attestation.json'), spdx.body);
    expect((await get(`/api/security/artifacts/${digest}/sbom-attestation?format=swid`)).statusCode).toBe(400);
    expect((await get(`/api/security/artifacts/sha256:${'2'.repeat(64)}/sbom-attestation?format=spdx`)).statusCode).toBe(404);
    expect((await t.app.server.inject({ url: `/api/security/artifacts/${digest}/sbom-attestation` })).statusCode).toBe(401);
  });

  it('plinth verify accepts the built artifact and rejects a changed copy', async () => {
    const copy = join(t.workDir, 'shipit-1.4.0.tgz');
    copyFileSync(t.app.pipelines.artifactFile(digest), copy);
    const withBundle = await plinth('verify', copy, '--bundle', join(t.workDir, 'provenance.json'));
    expect(withBundle.code, withBundle.stdout + withBundle.stderr).toBe(0);
    expect(withBundle.stdout).toMatch(/ok {3}subject digest: sha256:[0-9a-f]{64} is the subject/);
    expect(withBundle.stdout.trim().endsWith('verified')).toBe(true);
    const fromServer = await plinth('verify', copy);
    expect(fromServer.code, fromServer.stdout).toBe(0);
    expect(fromServer.stdout).toContain('ok   artifact signature');
    expect(fromServer.stdout).toContain('ok   CycloneDX SBOM attestation signature');
    expect(fromServer.stdout).toContain('ok   CycloneDX SBOM subject: the CycloneDX SBOM of this artifact (https://cyclonedx.org/bom)');
    expect(fromServer.stdout).toContain('ok   SPDX SBOM attestation signature');
    expect(fromServer.stdout).toContain('ok   SPDX SBOM subject: the SPDX SBOM of this artifact (https://spdx.dev/Document)');
    // An SPDX attestation given as a file is told apart by its predicate type and checked.
    const withSpdx = await plinth('verify', copy, '--bundle', join(t.workDir, 'provenance.json'), join(t.workDir, 'spdx-attestation.json'), '--json');
    expect(withSpdx.code, withSpdx.stdout).toBe(0);
    expect((JSON.parse(withSpdx.stdout) as { checks: { check: string; ok: boolean }[] }).checks.filter((c) => c.check.startsWith('SPDX'))).toEqual([
      expect.objectContaining({ check: 'SPDX SBOM attestation signature', ok: true }), expect.objectContaining({ check: 'SPDX SBOM subject', ok: true }),
    ]);

    const bytes = readFileSync(copy);
    bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0xff;
    writeFileSync(copy, bytes);
    const tampered = await plinth('verify', copy, '--bundle', join(t.workDir, 'provenance.json'));
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/FAIL subject digest: the provenance is about shipit-1\.4\.0\.tgz sha256:[0-9a-f]{64}, not sha256:/);
    expect(tampered.stdout.trim().endsWith('NOT verified')).toBe(true);
    const missing = await plinth('verify', join(t.workDir, 'nope.tgz'));
    expect(missing.code).toBe(2);
  });

  it('builds the same digest again for a rerun of the same commit', { timeout: 120_000 }, async () => {
    const rerun = await t.app.server.inject({ method: 'POST', url: `/api/pipelines/runs/${run.id}/rerun`, headers: { authorization: `Bearer ${t.tokens.alice}` } });
    expect(rerun.statusCode).toBe(201);
    const again = await waitForRun((r) => r.id === (rerun.json() as { id: string }).id);
    expect(stepOf(again, 'build-artifact')?.outputs?.digest).toBe(digest);
    // Built once: the rerun finds the same bytes, so no second pipelines.artifact.built event.
    expect(await t.app.kernel.ledger.query({ kinds: ['pipelines.artifact.built'], subject: 'repository:team-a/shipit' }, 10)).toHaveLength(1);
  });
});
