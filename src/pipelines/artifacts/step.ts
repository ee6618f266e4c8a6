import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { newId, type Ledger, type Store } from '../../kernel/index.js';
import { artifactRelativePath, runSubject, type PipelineEventPayloads } from '../model/index.js';
import type { PlatformStepHandler } from '../runner/run.js';
import * as q from '../store.js';
import { packWorkspace } from './pack.js';

/**
 * The standard pipeline's `pipelines.build-artifact` step: packs the workspace's build output into a
 * deterministic .tgz, stores it by content under `<data-dir>/artifacts/sha256/<hex>` and records it.
 * Outputs `digest`, `name` and `sizeBytes` for the steps after it (artifact scan, sign, provenance).
 */
export function createBuildArtifactStep(deps: { store: Store; ledger: Ledger; dataDir: string; now: () => string }): PlatformStepHandler {
  return async (ctx) => {
    const packed = await packWorkspace(ctx.workspace, `${ctx.run.repository.split('/')[1] ?? 'artifact'}-${ctx.run.sha.slice(0, 12)}`);
    for (const s of packed.skipped.slice(0, 50)) ctx.log(`left out ${s.path}: ${s.reason}`);
    const digest = `sha256:${packed.sha256}`;
    const path = join(deps.dataDir, artifactRelativePath(digest));
    // Content-addressed: the same bytes are already there after a rerun; write-then-rename otherwise,
    // so a reader never sees half a file.
    if (!(await stat(path).then((s) => s.isFile() && s.size === packed.bytes.length, () => false))) {
      await mkdir(dirname(path), { recursive: true });
      const partial = `${path}.${newId()}.partial`;
      await writeFile(partial, packed.bytes, { mode: 0o644 });
      await rename(partial, path);
    }
    const createdAt = deps.now();
    const artifact = await deps.store.transaction(async (tx) => {
      const stored = await q.insertArtifact(tx, {
        digest, name: packed.name, sizeBytes: packed.bytes.length, repository: ctx.run.repository, ownerRef: ctx.run.ownerRef,
        commit: ctx.run.sha, runId: ctx.run.id, createdAt,
      });
      // A rerun of the same commit finds the first run's row: the artifact was built once, so one event.
      if (stored.runId === ctx.run.id) {
        const payload: PipelineEventPayloads['pipelines.artifact.built'] = { digest, name: stored.name, sizeBytes: stored.sizeBytes, repository: stored.repository, commit: stored.commit, runId: stored.runId };
        await deps.ledger.append({ kind: 'pipelines.artifact.built', subjects: [runSubject(ctx.run.id), `repository:${ctx.run.repository}`, ctx.run.ownerRef], actor: 'system:pipelines', payload: { ...payload } }, { db: tx });
      }
      return stored;
    });
    ctx.log(`packed ${packed.files} files into ${artifact.name} (${artifact.sizeBytes} bytes), ${digest}`);
    return { status: 'passed', message: `${artifact.name} ${digest}`, outputs: { digest, name: artifact.name, sizeBytes: artifact.sizeBytes } };
  };
}
