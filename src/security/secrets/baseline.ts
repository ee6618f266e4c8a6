import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import type { Finding } from './model.js';

/** Where a repository keeps its accepted findings, at the root of the scanned tree. */
export const BASELINE_FILE = '.plinth-secrets-baseline.json';
/** Gitleaks' ignore file: one positional fingerprint per line (`[commit:]file:rule:line`), `#` comments. */
export const GITLEAKSIGNORE_FILE = '.gitleaksignore';

/**
 * The baseline file: findings a team has reviewed and accepted (rotated, test fixtures, false
 * positives). Matching uses only `fingerprint` — sha256 of rule id, file and the secret — so an
 * entry keeps matching when lines move and stops matching when the secret or its file changes.
 * The other fields are for reviewers; the secret appears only redacted.
 */
export const BaselineFile = z.object({
  version: z.literal(1),
  generatedAt: z.string().optional(),
  findings: z.array(
    z.object({
      fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest'),
      rule: z.string().optional(),
      file: z.string().optional(),
      secret: z.string().optional(),
      reason: z.string().max(500).optional(),
    }),
  ),
});
export type BaselineFile = z.infer<typeof BaselineFile>;

export interface Suppressions {
  fingerprints: Set<string>;
  gitleaksFingerprints: Set<string>;
}

export const noSuppressions = (): Suppressions => ({ fingerprints: new Set(), gitleaksFingerprints: new Set() });

/** Parses a baseline file's text; an InputError names the file and what is wrong. */
export function parseBaseline(text: string, source: string): BaselineFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError(`${source}: not JSON; a baseline is {"version": 1, "findings": [{"fingerprint": "<sha256>"}]}`);
  }
  const parsed = BaselineFile.safeParse(raw);
  if (!parsed.success) throw new InputError(`${source}: not a secrets baseline: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Reads an optional file; undefined when it does not exist. */
async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Loads the baseline (required when `explicit`) and a `.gitleaksignore`, if present. */
export async function loadSuppressions(baselinePath: string | undefined, explicit: boolean, ignorePath: string | undefined): Promise<Suppressions> {
  const s = noSuppressions();
  if (baselinePath !== undefined) {
    const text = await readOptional(baselinePath);
    if (text === undefined && explicit) throw new InputError(`${baselinePath}: no such baseline file`);
    if (text !== undefined) for (const f of parseBaseline(text, baselinePath).findings) s.fingerprints.add(f.fingerprint);
  }
  if (ignorePath !== undefined) {
    const text = await readOptional(ignorePath);
    for (const raw of text?.split('\n') ?? []) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      // Either gitleaks' positional form or Plinth's content fingerprint.
      if (/^[0-9a-f]{64}$/.test(line)) s.fingerprints.add(line);
      else s.gitleaksFingerprints.add(line);
    }
  }
  return s;
}

export function isSuppressed(s: Suppressions, f: Finding): boolean {
  return s.fingerprints.has(f.fingerprint) || s.gitleaksFingerprints.has(f.gitleaksFingerprint);
}

/** A baseline accepting every given finding, ready to write to BASELINE_FILE. */
export function baselineOf(findings: readonly Finding[], generatedAt: string): BaselineFile {
  const seen = new Set<string>();
  const entries: BaselineFile['findings'] = [];
  for (const f of findings) {
    if (seen.has(f.fingerprint)) continue;
    seen.add(f.fingerprint);
    entries.push({ fingerprint: f.fingerprint, rule: f.rule, file: f.file, secret: f.secret });
  }
  return { version: 1, generatedAt, findings: entries };
}
