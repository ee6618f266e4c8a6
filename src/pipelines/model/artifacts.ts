import { z } from 'zod';

/** A build artifact: a deterministic .tgz of a run's build output, stored by content under `<data-dir>/artifacts/sha256/<hex>`. */
export interface BuildArtifact {
  /** `sha256:<hex>` of the .tgz bytes. */
  digest: string;
  /** `<package>-<version>.tgz`, the name provenance gives the subject. */
  name: string;
  sizeBytes: number;
  repository: string;
  ownerRef: string;
  /** The commit it was built from. */
  commit: string;
  /** The run that first built it (a rerun of the same commit builds the same bytes). */
  runId: string;
  createdAt: string;
}

export const BuildArtifactView = z.object({
  digest: z.string(),
  name: z.string(),
  sizeBytes: z.number(),
  repository: z.string(),
  ownerRef: z.string(),
  commit: z.string(),
  runId: z.string(),
  createdAt: z.string(),
});

export const DigestParam = z.strictObject({ digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'an artifact digest, sha256:<64 hex digits>') });

/** The artifact store's relative path of a digest. */
export const artifactRelativePath = (digest: string): string => `artifacts/sha256/${digest.replace(/^sha256:/, '')}`;
