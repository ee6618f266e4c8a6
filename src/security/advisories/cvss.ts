import type { Severity } from '../model.js';

// CVSS v3.0/v3.1 base score from a vector string (https://www.first.org/cvss/v3.1/specification-document §7).
// CVSS v4 scores come from a large lookup table; for a v4-only advisory the database severity is used instead.

const weights = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/** CVSS 3.1 Roundup: the smallest number with one decimal that is ≥ the input, robust to floating point. */
function roundUp(value: number): number {
  const scaled = Math.round(value * 100_000);
  return scaled % 10_000 === 0 ? scaled / 100_000 : (Math.floor(scaled / 10_000) + 1) / 10;
}

/** The base score of a `CVSS:3.x/AV:…` vector, or undefined when it is not a complete v3 base vector. */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.trim().split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return undefined;
  const m = new Map<string, string>();
  for (const part of parts.slice(1)) {
    const [k, v] = part.split(':');
    if (k !== undefined && v !== undefined) m.set(k, v);
  }
  const pick = <T extends Record<string, number>>(table: T, key: string): number | undefined => {
    const v = m.get(key);
    return v !== undefined && v in table ? table[v as keyof T] : undefined;
  };
  const scope = m.get('S');
  if (scope !== 'U' && scope !== 'C') return undefined;
  const changed = scope === 'C';
  const av = pick(weights.AV, 'AV');
  const ac = pick(weights.AC, 'AC');
  const pr = pick(changed ? { N: 0.85, L: 0.68, H: 0.5 } : { N: 0.85, L: 0.62, H: 0.27 }, 'PR');
  const ui = pick(weights.UI, 'UI');
  const c = pick(weights.CIA, 'C');
  const i = pick(weights.CIA, 'I');
  const a = pick(weights.CIA, 'A');
  if (av === undefined || ac === undefined || pr === undefined || ui === undefined || c === undefined || i === undefined || a === undefined) return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return roundUp(Math.min((changed ? 1.08 : 1) * (impact + exploitability), 10));
}

/** The qualitative rating of a CVSS score (v3.1 §5); 0.0 ("none") counts as low. */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return 'low';
}

/** GHSA's `database_specific.severity` words (MODERATE is GitHub's medium). */
export function severityOfWord(word: unknown): Severity | undefined {
  if (typeof word !== 'string') return undefined;
  const w = word.trim().toLowerCase();
  if (w === 'critical' || w === 'high' || w === 'medium' || w === 'low') return w;
  if (w === 'moderate') return 'medium';
  return undefined;
}
