import { createKeywordMatcher, MAX_KEYWORD_POSITIONS, type KeywordHits, type KeywordMatcher } from './keywords.js';
import {
  contentFingerprint,
  gitleaksFingerprint,
  INLINE_IGNORE_MARKERS,
  redactSecret,
  shannonEntropy,
  type Allowlist,
  type Finding,
  type FragmentSource,
  type Rule,
  type SecretsConfig,
} from './model.js';

interface Candidate {
  file: string;
  commit: string | undefined;
  secret: string;
  match: string;
  line: string;
}

/** Gitleaks allowlist semantics: each configured check (commits, paths, regexes, stopwords) votes; OR needs one, AND needs all. */
export function allowlistAllows(a: Allowlist, c: Candidate): boolean {
  const votes: boolean[] = [];
  if (a.commits.length > 0) votes.push(c.commit !== undefined && a.commits.includes(c.commit));
  if (a.paths.length > 0) votes.push(a.paths.some((p) => p.test(c.file)));
  if (a.regexes.length > 0) {
    const target = a.regexTarget === 'match' ? c.match : a.regexTarget === 'line' ? c.line : c.secret;
    votes.push(a.regexes.some((r) => r.test(target)));
  }
  if (a.stopwords.length > 0) {
    const lower = c.secret.toLowerCase();
    votes.push(a.stopwords.some((s) => lower.includes(s)));
  }
  if (votes.length === 0) return false;
  return a.condition === 'AND' ? votes.every(Boolean) : votes.some(Boolean);
}

const isFileLevel = (a: Allowlist) => a.regexes.length === 0 && a.stopwords.length === 0 && a.targetRules.length === 0;

/** Whether a global allowlist skips this file (or commit) outright, before any rule runs. */
export function isFileAllowed(config: SecretsConfig, file: string, commit?: string): boolean {
  return config.allowlists.some((a) => isFileLevel(a) && allowlistAllows(a, { file, commit, secret: '', match: '', line: '' }));
}

/** Offsets of line starts, for turning a match offset into line and column. */
function lineStarts(text: string): number[] {
  const starts = [0];
  let at = text.indexOf('\n');
  while (at >= 0) {
    starts.push(at + 1);
    at = text.indexOf('\n', at + 1);
  }
  return starts;
}

function lineIndexOf(starts: number[], offset: number): number {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Lines after a keyword's line that a match may still reach, for rules that do not span lines freely. */
const WINDOW_EXTRA_LINES = 2;

/**
 * The parts of `text` a rule's regex runs on. Gitleaks runs each rule on a whole fragment once a keyword
 * occurs in it; a rule whose matches stay within a few lines (most: `spansLines` is false) runs here
 * only on the lines around each keyword occurrence, which keeps keyword-heavy source trees cheap to
 * scan. A rule without keywords, or one that may span many lines, runs on the whole text.
 */
function windowsOf(rule: Rule, text: string, hits: KeywordHits): [number, number][] {
  const whole: [number, number][] = [[0, text.length]];
  if (rule.spansLines || rule.keywords.length === 0) return whole;
  const windows: [number, number][] = [];
  for (const k of rule.keywords) {
    const positions = hits.positions.get(k);
    if (!positions) continue;
    if (positions.length === 0 || positions.length >= MAX_KEYWORD_POSITIONS) return whole;
    let coveredTo = -1;
    for (const at of positions) {
      if (at < coveredTo) continue;
      const start = text.lastIndexOf('\n', at - 1) + 1;
      let end = at;
      for (let i = 0; i <= WINDOW_EXTRA_LINES && end < text.length; i++) {
        const nl = text.indexOf('\n', end);
        end = nl < 0 ? text.length : nl + 1;
      }
      windows.push([start, end]);
      // Later occurrences on the same line share this window.
      const lineEnd = text.indexOf('\n', at);
      coveredTo = lineEnd < 0 ? text.length : lineEnd + 1;
    }
  }
  windows.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  let covered = 0;
  for (const w of windows) {
    const last = merged[merged.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else merged.push(w);
  }
  for (const w of merged) covered += w[1] - w[0];
  return covered > text.length / 2 ? whole : merged;
}

/** Every match of the rule in its windows, with the window's offset in `text`. */
function* matchesOf(rule: Rule, regex: RegExp, text: string, hits: KeywordHits): Generator<{ m: RegExpExecArray; offset: number }> {
  for (const [start, end] of windowsOf(rule, text, hits)) {
    const part = start === 0 && end === text.length ? text : text.slice(start, end);
    regex.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = regex.exec(part)) !== null) {
      if (m[0] === '') {
        regex.lastIndex++;
        continue;
      }
      yield { m, offset: start };
    }
  }
}

const matchers = new WeakMap<SecretsConfig, KeywordMatcher>();
function matcherFor(config: SecretsConfig): KeywordMatcher {
  let matcher = matchers.get(config);
  if (!matcher) matchers.set(config, (matcher = createKeywordMatcher(config.rules.flatMap((r) => r.keywords))));
  return matcher;
}

/** The capture group gitleaks takes as the secret: `secretGroup`, else the first non-empty group, else the match. */
function secretSpan(rule: Rule, m: RegExpExecArray): [number, number] | undefined {
  const indices = m.indices!;
  if (rule.secretGroup > 0) return indices[rule.secretGroup];
  for (let g = 1; g < m.length; g++) if (m[g] !== undefined && m[g] !== '') return indices[g];
  return indices[0];
}

/**
 * Runs every rule on one fragment (a whole file, or the added lines of one file in one commit).
 * `firstLine` is the line number of the fragment's first line in its file.
 */
export function detectSecrets(config: SecretsConfig, text: string, source: FragmentSource, firstLine = 1): Finding[] {
  if (isFileAllowed(config, source.file, source.commit)) return [];
  const findings: { finding: Finding; span: [number, number]; generic: boolean }[] = [];
  let starts: number[] | undefined;
  let hits: KeywordHits | undefined;
  for (const rule of config.rules) {
    if (rule.path && !rule.path.test(source.file)) continue;
    if (!rule.regex) {
      findings.push({ finding: makeFinding(rule, source, '', 1, 1, 1, 1, 0), span: [0, 0], generic: false });
      continue;
    }
    hits ??= matcherFor(config).find(text);
    if (rule.keywords.length > 0 && !rule.keywords.some((k) => hits!.has(k))) continue;
    for (const { m, offset } of matchesOf(rule, rule.regex, text, hits)) {
      const local = secretSpan(rule, m);
      if (!local) continue;
      const span: [number, number] = [local[0] + offset, local[1] + offset];
      m.index += offset;
      const secret = text.slice(span[0], span[1]);
      if (secret === '') continue;
      const entropy = shannonEntropy(secret);
      if (rule.entropy !== undefined && entropy <= rule.entropy) continue;
      starts ??= lineStarts(text);
      const startLine = lineIndexOf(starts, span[0]);
      const endLine = lineIndexOf(starts, Math.max(span[0], span[1] - 1));
      const matchStartLine = lineIndexOf(starts, m.index);
      const matchEndLine = lineIndexOf(starts, m.index + Math.max(m[0].length - 1, 0));
      const lineEnd = starts[matchEndLine + 1] ?? text.length;
      const lines = text.slice(starts[matchStartLine], lineEnd);
      if (INLINE_IGNORE_MARKERS.some((marker) => lines.includes(marker))) continue;
      const candidate: Candidate = { file: source.file, commit: source.commit, secret, match: m[0], line: lines };
      if (rule.allowlists.some((a) => allowlistAllows(a, candidate))) continue;
      if (config.allowlists.some((a) => (a.targetRules.length === 0 || a.targetRules.includes(rule.id)) && allowlistAllows(a, candidate))) continue;
      const finding = makeFinding(rule, source, secret, firstLine + startLine, span[0] - starts[startLine]! + 1, firstLine + endLine, span[1] - starts[endLine]!, entropy);
      findings.push({ finding, span: [span[0], span[1]], generic: rule.tags.includes('generic') });
    }
  }
  // As gitleaks does: a generic finding whose secret a specific rule also reported is a duplicate.
  const specific = findings.filter((f) => !f.generic);
  return findings.filter((f) => !f.generic || !specific.some((s) => s.span[0] < f.span[1] && f.span[0] < s.span[1])).map((f) => f.finding);
}

function makeFinding(rule: Rule, source: FragmentSource, secret: string, line: number, column: number, endLine: number, endColumn: number, entropy: number): Finding {
  return {
    rule: rule.id,
    description: rule.description,
    severity: rule.severity,
    file: source.file,
    line,
    column,
    endLine,
    endColumn,
    ...(source.commit !== undefined ? { commit: source.commit, author: source.author, email: source.email, date: source.date } : {}),
    secret: secret === '' ? '(the file itself)' : redactSecret(secret),
    entropy: Math.round(entropy * 1000) / 1000,
    fingerprint: contentFingerprint(rule.id, source.file, secret),
    gitleaksFingerprint: gitleaksFingerprint(source, rule.id, line),
    tags: rule.tags,
  };
}
