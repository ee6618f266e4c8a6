/**
 * The synthetic organisation: the anchor's seeded generator, run in place, writes the same files
 * Plinth and Backstage both ingest (one Location per 1,000-entity chunk) and the expected counts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../kernel/util.js';
import { anchorDir, nowS, progress } from './common.js';

export const SEED = 42;
export const CHUNK = 1000;

/** manifest.json as generate.js writes it. */
export interface Manifest {
  n: number;
  seed: number;
  chunk: number;
  files: number;
  counts: { group: number; user: number; system: number; api: number; component: number };
  expected: {
    total: number;
    withOwnedBy: number;
    componentsWithDependsOn: number;
    componentsWithDependencyOf: number;
    groupsWithOwnerOf: number;
    groupsWithHasMember: number;
    componentsOfTypeService: number;
  };
  knownComponent: { name: string; ownedBy: string; dependsOn: string[] };
}

export interface Dataset {
  dir: string;
  manifest: Manifest;
  generateS: number;
}

/** Generates `n` entities (seed 42, 1,000 per file) into a fresh temp folder, removed at cleanup. */
export function generateDataset(n: number): Dataset {
  const dir = tempDir(`data-${n}`);
  const t0 = nowS();
  execFileSync(process.execPath, [join(anchorDir, 'generate.js'), '--n', String(n), '--seed', String(SEED), '--chunk', String(CHUNK), '--out', dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  if (manifest.n !== n) throw new Error(`${dir}/manifest.json says n=${manifest.n}, expected ${n}`);
  const generateS = nowS() - t0;
  progress(`generated ${n} entities in ${manifest.files} files (${generateS.toFixed(1)} s): ${JSON.stringify(manifest.counts)}`);
  return { dir, manifest, generateS };
}
