import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { signFixtureArtifact } from '../../test/helpers/signing.js';
import { packWorkspace } from '../pipelines/index.js';
import type { WorkloadSpecInput } from '../runtime/index.js';
import { scanArtifact } from './index.js';

// Keys, rotation, publication, verification and the runtime's refusal, through the real app and HTTP API.

const fixtureDir = new URL('../../test/fixtures/runtime/', import.meta.url).pathname;
const dialects = await testDialects();
const system = { kind: 'system', name: 'tests' } as const;

interface KeysBody { builderId: string; keys: { keyId: string; status: string; publicKeyPem: string; createdAt: string; retiredAt: string | null }[] }

describe.each(dialects)('supply chain on %s', (dialect) => {
  let t: TestApp;
  let member: string;
  const scratch = mkdtempSync(join(tmpdir(), 'plinth-supply-chain-'));
  const call = (method: 'GET' | 'POST', url: string, token?: string) =>
    t.app.server.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    member = (await t.createUser('mia', 'member')).token;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('publishes the signing keys without authentication, whatever credentials come along', async () => {
    const res = await call('GET', '/.well-known/plinth/signing-keys');
    expect(res.statusCode).toBe(200);
    const body = res.json() as KeysBody;
    expect(body.builderId).toBe('https://plinth.dev/builders/local-runner/v1');
    expect(body.keys).toEqual([expect.objectContaining({ status: 'active', retiredAt: null, publicKeyPem: expect.stringContaining('BEGIN PUBLIC KEY') })]);
    expect(body.keys[0]!.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect((await t.app.server.inject({ url: '/.well-known/plinth/signing-keys', headers: { authorization: 'Bearer not-a-token' } })).statusCode).toBe(200);
    const file = join(t.app.kernel.config.dataDir, 'keys', 'signing', `${body.keys[0]!.keyId}.key.pem`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('rotates the key for admins only; the retired key still verifies what it signed before', async () => {
    const before = ((await call('GET', '/.well-known/plinth/signing-keys')).json() as KeysBody).keys[0]!;
    const signedEarlier = await signFixtureArtifact(t.app, { kind: 'directory', path: fixtureDir });
    expect((await call('POST', '/api/security/keys/rotate')).statusCode).toBe(401);
    const forbidden = await call('POST', '/api/security/keys/rotate', member);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: { name: 'NotAllowedError' } });
    const rotated = await call('POST', '/api/security/keys/rotate', t.adminToken);
    expect(rotated.statusCode).toBe(201);
    const after = ((await call('GET', '/.well-known/plinth/signing-keys')).json() as KeysBody).keys;
    expect(after.map((k) => [k.keyId, k.status])).toEqual([[(rotated.json() as { keyId: string }).keyId, 'active'], [before.keyId, 'retired']]);
    expect(after[1]!.retiredAt).not.toBeNull();
    // The retired key's private half is gone: nothing can sign with it any more.
    expect(existsSync(join(t.app.kernel.config.dataDir, 'keys', 'signing', `${before.keyId}.key.pem`))).toBe(false);

    const verified = await call('POST', `/api/security/artifacts/${signedEarlier}/verify`, member);
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ ok: true, checks: expect.arrayContaining([{ check: 'signing key', ok: true, detail: expect.stringMatching(/^retired on .*, signed before that/) }]) });
    const resigned = await t.app.supplyChain.attestBuild(system, {
      subject: { name: 'fixture', digest: signedEarlier }, repository: 'tests/fixtures', ref: 'refs/heads/main', commit: '1'.repeat(40),
      pipelineVersion: 'standard@2', runId: 'r2', attempt: 1, trigger: 'push', startedOn: new Date().toISOString(), finishedOn: new Date().toISOString(),
    });
    expect(resigned.keyId).toBe(after[0]!.keyId);
  });

  it('signs only for the platform itself, never for a user', async () => {
    await expect(t.app.supplyChain.attestBuild({ kind: 'user', username: 'mia', role: 'member' } as never, {} as never)).rejects.toThrow(/only the platform itself signs provenance/);
  });

  it('serves provenance and attestations by digest, with clear 4xx for bad or unknown digests', async () => {
    const tarball = join(scratch, 'fixture.tgz');
    writeFileSync(tarball, (await packWorkspace(fixtureDir, 'fixture')).bytes);
    const digest = await signFixtureArtifact(t.app, { kind: 'tarball', path: tarball });
    const provenance = await call('GET', `/api/security/artifacts/${digest}/provenance`, member);
    expect(provenance.statusCode).toBe(200);
    expect(provenance.headers['content-type']).toContain('application/vnd.dev.sigstore.bundle.v0.3+json');
    const payload = JSON.parse(Buffer.from((provenance.json() as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString('utf8')) as { predicateType: string; subject: { digest: { sha256: string } }[] };
    expect(payload.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(`sha256:${payload.subject[0]!.digest.sha256}`).toBe(digest);
    const kinds = ((await call('GET', `/api/security/artifacts/${digest}/attestations`, member)).json() as { items: { kind: string }[] }).items.map((i) => i.kind).sort();
    expect(kinds).toEqual(['provenance', 'signature']);
    expect((await call('GET', `/api/security/artifacts/${digest}/provenance`)).statusCode).toBe(401);
    const bad = await call('GET', '/api/security/artifacts/sha256:XYZ/provenance', member);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { name: 'InputError' } });
    const unknown = await call('GET', `/api/security/artifacts/sha256:${'0'.repeat(64)}/provenance`, member);
    expect(unknown.statusCode).toBe(404);
    expect((await call('GET', `/api/security/artifacts/${digest}/sbom?format=xml`, member)).statusCode).toBe(400);
    expect((await call('GET', `/api/security/artifacts/${digest}/sbom`, member)).statusCode).toBe(404);
  });

  describe('the runtime', () => {
    const spec = (artifact: WorkloadSpecInput['artifact'], version: string): WorkloadSpecInput => ({
      service: 'verified', environment: 'staging', version, artifact, command: [process.execPath, 'server.mjs'],
      readiness: { http: { path: '/healthz' }, periodMs: 100, deadlineMs: 10_000 }, requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' },
      labels: { owner: 'shop', 'cost-center': 'cc-1' }, terminationGraceMs: 1000,
    });

    it('refuses an unsigned artifact, and a signed tarball changed after signing', { timeout: 30_000 }, async () => {
      const unsignedDir = join(scratch, 'unsigned');
      cpSync(fixtureDir, unsignedDir, { recursive: true });
      writeFileSync(join(unsignedDir, 'extra.txt'), 'not built by a pipeline');
      const { digestDirectory } = await import('../runtime/index.js');
      const unsigned = await t.app.runtime.deploy(system, { spec: spec({ kind: 'directory', path: unsignedDir, digest: await digestDirectory(unsignedDir) }, '1.0.0') });
      expect(unsigned.phase).toBe('failed');
      expect(unsigned.message).toMatch(/does not verify, refusing to run it \(provenance: no signed provenance for sha256:/);

      const tarball = join(scratch, 'tampered.tgz');
      writeFileSync(tarball, (await packWorkspace(fixtureDir, 'fixture')).bytes);
      const digest = await signFixtureArtifact(t.app, { kind: 'tarball', path: tarball });
      const bytes = readFileSync(tarball);
      bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
      writeFileSync(tarball, bytes);
      const tampered = await t.app.runtime.deploy(system, { spec: spec({ kind: 'tarball', path: tarball, digest }, '1.0.1') });
      expect(tampered.phase).toBe('failed');
      expect(tampered.message).toMatch(/refusing a changed artifact/);
    });

    it('runs a signed tarball', { timeout: 30_000 }, async () => {
      const tarball = join(scratch, 'signed.tgz');
      writeFileSync(tarball, (await packWorkspace(fixtureDir, 'fixture')).bytes);
      const digest = await signFixtureArtifact(t.app, { kind: 'tarball', path: tarball });
      const release = await t.app.runtime.deploy(system, { spec: spec({ kind: 'tarball', path: tarball, digest }, '1.0.2') });
      expect(release.phase, release.message ?? '').toBe('ready');
      await t.app.runtime.stopRelease(system, release.id);
    });
  });

  it('scans an artifact: vulnerable bundled packages, embedded secrets, setuid and world-writable files', async () => {
    await t.app.security.importAdvisories(system, [{
      id: 'GHSA-test-left-pad', modified: '2026-01-01T00:00:00Z', summary: 'left-pad pads wrongly',
      database_specific: { severity: 'HIGH' },
      affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }] }],
    }]);
    const root = join(scratch, 'scan-me');
    mkdirSync(join(root, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'scan-me', version: '1.0.0', bundleDependencies: ['left-pad'] }));
    writeFileSync(join(root, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.1.0' }));
    writeFileSync(join(root, 'config.js'), `export const key = 'AKIA${'Q'.repeat(4)}7XKD5MRTNB2Z';\nexport const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq4Kx9mQe2';\n`);
    writeFileSync(join(root, 'helper'), '#!/bin/sh\n');
    chmodSync(join(root, 'helper'), 0o4755);
    writeFileSync(join(root, 'shared.txt'), 'x');
    chmodSync(join(root, 'shared.txt'), 0o666);
    const packed = await packWorkspace(root, 'x');
    const result = await scanArtifact(packed.bytes, (purls) => t.app.security.auditPackages(system, purls));
    expect(result.bundledPackages).toBe(1);
    const summary = result.findings.map((f) => `${f.severity} ${f.kind} ${f.rule} ${f.path}`);
    expect(summary).toEqual(expect.arrayContaining([
      'critical file-mode setuid helper',
      'high vulnerable-package GHSA-test-left-pad node_modules/left-pad/package.json',
      'high file-mode world-writable shared.txt',
    ]));
    expect(summary.some((s) => /^critical secret .* config\.js$/.test(s))).toBe(true);
    // Only the redacted secret reaches a message.
    expect(result.findings.map((f) => f.message).join('\n')).not.toContain('wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq4Kx9mQe2');
  });
});
