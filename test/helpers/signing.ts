import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { App } from '../../src/app.js';
import { digestArtifact } from '../../src/runtime/index.js';

/**
 * Signs a fixture artifact through the app's real signing service, as the package stage would:
 * SLSA provenance (and, for a tarball, a signature over its bytes) with the platform's active key.
 * The app's runtime runs only verified artifacts; tests deploy fixtures after calling this.
 * Returns the artifact's digest for the release spec.
 */
export async function signFixtureArtifact(app: App, artifact: { kind: 'directory' | 'tarball'; path: string }): Promise<string> {
  const digest = await digestArtifact(artifact);
  const platform = { kind: 'system', name: 'tests' } as const;
  const now = new Date().toISOString();
  if (artifact.kind === 'tarball') await app.supplyChain.signArtifact(platform, { digest, bytes: await readFile(artifact.path), runId: null });
  await app.supplyChain.attestBuild(platform, {
    subject: { name: basename(artifact.path), digest },
    repository: 'tests/fixtures', ref: 'refs/heads/main', commit: '0'.repeat(40), pipelineVersion: 'standard@2',
    runId: `fixture-${digest.slice(7, 19)}`, attempt: 1, trigger: 'push', startedOn: now, finishedOn: now,
  });
  return digest;
}
