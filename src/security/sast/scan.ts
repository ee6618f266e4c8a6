import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { glob } from 'tinyglobby';
import { analyzeSource, sastRuleDescriptions, type SastRuleId, type SastSeverity } from './rules.js';

export interface SastFinding {
  /** Relative to the scanned folder, with forward slashes. */
  file: string;
  line: number;
  column: number;
  rule: SastRuleId;
  severity: SastSeverity;
  message: string;
  /** The source line, trimmed and cut at 200 characters. */
  snippet: string;
  /** Stable across line moves: rule + file + the normalized source line. */
  fingerprint: string;
}

export interface SastResult {
  findings: SastFinding[];
  filesScanned: number;
  skipped: { file: string; reason: string }[];
  /** Findings silenced by a `plinth:allow-sast` comment. */
  suppressed: number;
}

const SOURCE_GLOBS = ['**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}'];
const IGNORED = ['**/node_modules/**', '**/.git/**', '**/dist/**', '**/build/**', '**/coverage/**', '**/*.d.ts', '**/*.min.js'];
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_LINE_CHARS = 5000;
const MAX_FILES = 50_000;
const ALLOW = /plinth:allow-sast(?:\s+([a-z-]+(?:\s*,\s*[a-z-]+)*))?/;

/** The compiler is big (several MB of JavaScript): loaded once, on the first scan. */
let compiler: Promise<typeof import('typescript')> | undefined;
const loadCompiler = () => (compiler ??= import('typescript').then((m) => ((m as { default?: typeof import('typescript') }).default ?? m) as typeof import('typescript')));

function scriptKind(ts: typeof import('typescript'), file: string) {
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (file.endsWith('.jsx')) return ts.ScriptKind.JSX;
  if (/\.(m|c)?ts$/.test(file)) return ts.ScriptKind.TS;
  return ts.ScriptKind.JS;
}

/** Whether a comment on the line or the one above allows this rule (or every rule). */
function allowed(lines: readonly string[], line: number, rule: SastRuleId): boolean {
  for (const text of [lines[line - 1], lines[line - 2]]) {
    const match = text === undefined ? null : ALLOW.exec(text);
    if (match && (match[1] === undefined || match[1].split(/\s*,\s*/).includes(rule))) return true;
  }
  return false;
}

/** Analyzes one file's text (exposed for tests and the pipeline step). */
export async function analyzeText(file: string, text: string): Promise<{ findings: SastFinding[]; suppressed: number }> {
  const ts = await loadCompiler();
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(ts, file));
  const lines = text.split('\n');
  let suppressed = 0;
  const findings: SastFinding[] = [];
  for (const raw of analyzeSource(ts, source)) {
    if (allowed(lines, raw.line, raw.rule)) {
      suppressed++;
      continue;
    }
    const line = (lines[raw.line - 1] ?? '').trim();
    findings.push({
      file,
      ...raw,
      snippet: line.length > 200 ? `${line.slice(0, 197)}...` : line,
      fingerprint: createHash('sha256').update(`${raw.rule}\0${file}\0${line.replace(/\s+/g, ' ')}`).digest('hex').slice(0, 32),
    });
  }
  return { findings, suppressed };
}

/** Scans every JavaScript/TypeScript source under `root` (node_modules, builds and minified files skipped). */
export async function scanSast(root: string, options: { signal?: AbortSignal } = {}): Promise<SastResult> {
  const files = (await glob(SOURCE_GLOBS, { cwd: root, ignore: IGNORED, absolute: true, followSymbolicLinks: false, dot: false })).sort();
  const result: SastResult = { findings: [], filesScanned: 0, skipped: [], suppressed: 0 };
  for (const path of files.slice(0, MAX_FILES)) {
    options.signal?.throwIfAborted();
    const file = relative(root, path).split(sep).join('/');
    const info = await lstat(path);
    if (!info.isFile()) continue;
    if (info.size > MAX_FILE_BYTES) {
      result.skipped.push({ file, reason: `larger than ${MAX_FILE_BYTES / 1024 / 1024} MB` });
      continue;
    }
    const text = await readFile(path, 'utf8');
    if (text.includes('\0')) {
      result.skipped.push({ file, reason: 'binary content' });
      continue;
    }
    if (text.split('\n').some((l) => l.length > MAX_LINE_CHARS)) {
      result.skipped.push({ file, reason: `a line longer than ${MAX_LINE_CHARS} characters (minified or generated)` });
      continue;
    }
    const analyzed = await analyzeText(file, text);
    result.findings.push(...analyzed.findings);
    result.suppressed += analyzed.suppressed;
    result.filesScanned++;
  }
  if (files.length > MAX_FILES) result.skipped.push({ file: '.', reason: `only the first ${MAX_FILES} of ${files.length} source files were scanned` });
  return result;
}

const sarifLevel: Record<SastSeverity, string> = { critical: 'error', high: 'error', medium: 'warning', low: 'note' };

export function sastSarif(findings: readonly SastFinding[], toolVersion: string): Record<string, unknown> {
  const rules = [...new Set(findings.map((f) => f.rule))].map((id) => ({ id, shortDescription: { text: sastRuleDescriptions[id] }, properties: { tags: ['security', 'sast'] } }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'plinth-sast', version: toolVersion, rules } },
        results: findings.map((f) => ({
          ruleId: f.rule,
          level: sarifLevel[f.severity],
          message: { text: f.message },
          locations: [{ physicalLocation: { artifactLocation: { uri: f.file }, region: { startLine: f.line, startColumn: f.column, snippet: { text: f.snippet } } } }],
          partialFingerprints: { 'plinthSast/v1': f.fingerprint },
          properties: { severity: f.severity },
        })),
      },
    ],
  };
}

export function formatSastFinding(f: SastFinding): string {
  return `${f.file}:${f.line}:${f.column} ${f.severity.toUpperCase()} ${f.rule}: ${f.message}`;
}
