import type { LogLine, RunDetail, RunStatus, StageStatus, StepStatus } from '../../../src/pipelines/index.js';

// Pure helpers of the run pages (no React, no fetch): what a status looks like, how long a run took,
// which artifacts a run produced, and the log lines read from the stream. Unit-tested in
// test/journeys/pipelines-portal.test.ts beside the browser journey.

export type Tone = 'default' | 'info' | 'success' | 'error' | 'warning';

export const isTerminalRunStatus = (status: RunStatus): boolean => status !== 'queued' && status !== 'running';

/** Chip colours: not-installed and skipped are never green, so they are never mistaken for passed. */
export const runTone: Record<RunStatus, Tone> = { queued: 'default', running: 'info', passed: 'success', incomplete: 'warning', failed: 'error', cancelled: 'warning' };
/** Every run status, for the list filter: runTone is a Record over RunStatus, so none can be missing. */
export const runStatuses = Object.keys(runTone) as RunStatus[];
export const stageTone: Record<StageStatus, Tone> = { pending: 'default', running: 'info', passed: 'success', failed: 'error', skipped: 'default', 'not-installed': 'warning', cancelled: 'warning' };
export const stepTone: Record<StepStatus, Tone> = { pending: 'default', running: 'info', passed: 'success', failed: 'error', 'timed-out': 'error', skipped: 'default', 'not-installed': 'warning', cancelled: 'warning' };

export const shortSha = (sha: string): string => sha.slice(0, 7);

/** `refs/heads/main` → `main`; tags and other refs as they are. */
export const refName = (ref: string): string => ref.replace(/^refs\/heads\//, '');

/** 420 → "420 ms", 12_400 → "12.4 s", 185_000 → "3 min 5 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}

/** How long a run took, or has been running (against `nowMs`); null before it started. */
export function runDurationMs(run: { startedAt: string | null; finishedAt: string | null }, nowMs: number): number | null {
  if (run.startedAt === null) return null;
  const end = run.finishedAt === null ? nowMs : Date.parse(run.finishedAt);
  const ms = end - Date.parse(run.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/** A stage's wall time: first step start to last step end (null while nothing ran). */
export function stageDurationMs(steps: readonly { startedAt: string | null; finishedAt: string | null }[]): number | null {
  const starts = steps.flatMap((s) => (s.startedAt === null ? [] : [Date.parse(s.startedAt)]));
  const ends = steps.flatMap((s) => (s.finishedAt === null ? [] : [Date.parse(s.finishedAt)]));
  if (starts.length === 0 || ends.length === 0) return null;
  return Math.max(0, Math.max(...ends) - Math.min(...starts));
}

export interface RunArtifact {
  step: string;
  digest: string;
  name: string | null;
  sizeBytes: number | null;
}

const digestPattern = /^sha256:[0-9a-f]{64}$/;

/** The artifacts a run's platform steps handed on (`outputs.digest`), once per digest. */
export function runArtifacts(run: Pick<RunDetail, 'stages'>): RunArtifact[] {
  const seen = new Set<string>();
  const out: RunArtifact[] = [];
  for (const step of run.stages.flatMap((s) => s.steps)) {
    const outputs = step.outputs ?? {};
    const digest = outputs.digest;
    if (typeof digest !== 'string' || !digestPattern.test(digest) || seen.has(digest)) continue;
    seen.add(digest);
    out.push({
      step: step.name,
      digest,
      name: typeof outputs.name === 'string' ? outputs.name : null,
      sizeBytes: typeof outputs.sizeBytes === 'number' ? outputs.sizeBytes : null,
    });
  }
  return out;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The log lines the page holds, in seq order; the last seq makes replays after a reconnect harmless. */
export interface RunLog {
  lastSeq: number;
  lines: LogLine[];
}

export const emptyRunLog: RunLog = { lastSeq: 0, lines: [] };

/** Lines a page keeps; a longer log shows its tail (the full text stays one click away as plain text). */
export const maxKeptLines = 5000;

/** Parses one `line` event; undefined for anything that is not a log line. */
export function parseLogLine(data: string): LogLine | undefined {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null) return undefined;
    const line = value as Partial<LogLine>;
    if (typeof line.seq !== 'number' || typeof line.time !== 'string' || typeof line.step !== 'string' || typeof line.text !== 'string') return undefined;
    if (line.stream !== 'stdout' && line.stream !== 'stderr' && line.stream !== 'system') return undefined;
    return line as LogLine;
  } catch {
    return undefined;
  }
}

/** Adds a line; one already held (seq not after the last) changes nothing. */
export function appendLogLine(log: RunLog, line: LogLine): RunLog {
  if (line.seq <= log.lastSeq) return log;
  const lines = log.lines.length >= maxKeptLines ? [...log.lines.slice(log.lines.length - maxKeptLines + 1), line] : [...log.lines, line];
  return { lastSeq: line.seq, lines };
}

/** The lines of one step, or all of them. */
export const linesOfStep = (log: RunLog, step: string | undefined): LogLine[] => (step === undefined ? log.lines : log.lines.filter((l) => l.step === step));

/** Test results summary: counts per outcome and flaky. */
export function testSummary(tests: readonly { outcome: string; flaky: boolean }[]): { passed: number; failed: number; skipped: number; flaky: number } {
  return {
    passed: tests.filter((t) => t.outcome === 'passed').length,
    failed: tests.filter((t) => t.outcome === 'failed').length,
    skipped: tests.filter((t) => t.outcome === 'skipped').length,
    flaky: tests.filter((t) => t.flaky).length,
  };
}

/**
 * The hosted repository (`owner/name`) an entity's catalog-info.yaml was read from, by its
 * `backstage.io/source-location` or `managed-by-location` on this server's git API
 * (`url:http://host/api/git/repos/<owner>/<name>/contents/<ref>/…`) or a clone URL (`…/git/<owner>/<name>.git`).
 */
export function hostedRepositoryOf(annotations: Record<string, string> | undefined): string | undefined {
  for (const key of ['backstage.io/source-location', 'backstage.io/managed-by-location']) {
    const value = annotations?.[key];
    if (value === undefined || !value.startsWith('url:')) continue;
    let path: string;
    try {
      path = new URL(value.slice('url:'.length)).pathname;
    } catch {
      continue;
    }
    const match = /^\/api\/git\/repos\/([^/]+)\/([^/]+)\/contents\//.exec(path) ?? /^\/git\/([^/]+)\/([^/]+?)(?:\.git)?(?:\/|$)/.exec(path);
    if (match) return `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`.toLowerCase();
  }
  return undefined;
}
