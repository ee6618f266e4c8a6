import { createHash } from 'node:crypto';

/** How bad a leak of this kind is; SARIF levels and the guardrail engine read it. */
export type Severity = 'critical' | 'high' | 'medium' | 'low';
export const severities: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

/** What an allowlist regex is matched against (gitleaks `regexTarget`). */
export type RegexTarget = 'secret' | 'match' | 'line';

export interface Allowlist {
  description?: string;
  /** OR: any configured check allows; AND: every configured check must allow. */
  condition: 'OR' | 'AND';
  regexTarget: RegexTarget;
  paths: RegExp[];
  regexes: RegExp[];
  /** Lowercase; a secret containing one is allowed. */
  stopwords: string[];
  commits: string[];
  /** For global allowlists: only these rule ids (gitleaks `targetRules`); empty means all. */
  targetRules: string[];
}

export interface Rule {
  id: string;
  description: string;
  severity: Severity;
  /** With the `g` and `d` flags; absent for a path-only rule. */
  regex?: RegExp;
  /** 0: the first non-empty capture group, or the whole match when there are none (as gitleaks). */
  secretGroup: number;
  /** Minimum Shannon entropy of the secret; undefined: no floor. */
  entropy?: number;
  /** Lowercase; the rule runs only on text containing one of them (none: always). */
  keywords: string[];
  path?: RegExp;
  tags: string[];
  allowlists: Allowlist[];
  /** The regex may match across many lines (e.g. a PEM block), so it always runs on the whole text. */
  spansLines: boolean;
}

/** A rule that could not be loaded, reported by id with the reason instead of failing the scan. */
export interface RuleProblem {
  ruleId: string;
  reason: string;
}

export interface SecretsConfig {
  rules: Rule[];
  allowlists: Allowlist[];
  problems: RuleProblem[];
}

/** Where a scanned fragment came from: a file in the tree, or added lines of a commit. */
export interface FragmentSource {
  /** Relative to the scan root, with forward slashes. */
  file: string;
  commit?: string;
  author?: string;
  email?: string;
  date?: string;
}

export interface Finding {
  rule: string;
  description: string;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  commit?: string;
  author?: string;
  email?: string;
  date?: string;
  /** Redacted: a short prefix and the length, never the whole value. */
  secret: string;
  /** Shannon entropy of the secret, bits per character. */
  entropy: number;
  /** Content fingerprint: survives lines moving (rule + file + secret, hashed); the baseline key. */
  fingerprint: string;
  /** Gitleaks' positional fingerprint (`[commit:]file:rule:line`), for `.gitleaksignore`. */
  gitleaksFingerprint: string;
  tags: string[];
}

/** A file or commit not scanned, with why. */
export interface Skipped {
  file: string;
  reason: string;
}

export interface ScanResult {
  findings: Finding[];
  skipped: Skipped[];
  /** Findings matched by the baseline or `.gitleaksignore`, not counted as failures. */
  suppressed: number;
  filesScanned: number;
  bytesScanned: number;
  commitsScanned?: number;
  problems: RuleProblem[];
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  const length = [...text].length;
  for (const n of counts.values()) {
    const p = n / length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/**
 * The only form in which a secret leaves the scanner: a prefix of at most 6 characters (a quarter of
 * the value, so short passwords show almost nothing) and the length.
 */
export function redactSecret(secret: string): string {
  const chars = [...secret];
  const shown = chars.slice(0, Math.min(6, Math.floor(chars.length / 4))).join('').replace(/\s/g, ' ');
  return `${shown}…(${chars.length} chars)`;
}

/** The baseline key: stable while the secret stays in the same file, whatever line it moves to. */
export function contentFingerprint(rule: string, file: string, secret: string): string {
  return createHash('sha256').update(`${rule}\0${file}\0${secret}`).digest('hex');
}

export function gitleaksFingerprint(source: FragmentSource, rule: string, line: number): string {
  return `${source.commit ? `${source.commit}:` : ''}${source.file}:${rule}:${line}`;
}

/** The text `ignore` comments put on a line to accept a finding there (gitleaks' and Plinth's own). */
export const INLINE_IGNORE_MARKERS = ['gitleaks:allow', 'plinth:allow-secret'] as const;
