import type { AnalysisResult, RolloutPhase, RolloutView } from '../../../src/delivery/index.js';

// Pure helpers of the delivery pages (no React, no fetch), unit-tested in
// test/journeys/delivery-portal.test.ts beside the browser journey.

export type Tone = 'default' | 'info' | 'success' | 'error' | 'warning';

export const isTerminalPhase = (phase: RolloutPhase): boolean => phase === 'succeeded' || phase === 'rolled-back' || phase === 'failed';

export const phaseTone: Record<RolloutPhase, Tone> = { progressing: 'info', 'awaiting-approval': 'warning', paused: 'warning', succeeded: 'success', 'rolled-back': 'error', failed: 'error' };

/** The analysis the controller recorded last, with when; the API serves it untyped, so it is checked here. */
export type TimedAnalysis = AnalysisResult & { at: string };

export function readAnalysis(value: unknown): TimedAnalysis | null {
  if (typeof value !== 'object' || value === null) return null;
  const a = value as Partial<TimedAnalysis>;
  if (typeof a.at !== 'string' || typeof a.summary !== 'string' || !Array.isArray(a.checks)) return null;
  if (a.verdict !== 'pass' && a.verdict !== 'fail' && a.verdict !== 'inconclusive') return null;
  if (typeof a.canary !== 'object' || a.canary === null) return null;
  return a as TimedAnalysis;
}

/** A rollout strategy as served (RolloutView.strategy is untyped on the wire): its kind and canary weights. */
export interface StrategyShape {
  kind: 'direct' | 'canary' | 'blueGreen' | 'unknown';
  weights: number[];
  bakeMs: number | null;
  analysisIntervalMs: number | null;
}

export function readStrategy(value: unknown): StrategyShape {
  if (typeof value !== 'object' || value === null) return { kind: 'unknown', weights: [], bakeMs: null, analysisIntervalMs: null };
  const s = value as Record<string, unknown>;
  const kind = s.kind === 'direct' || s.kind === 'canary' || s.kind === 'blueGreen' ? s.kind : 'unknown';
  const steps = Array.isArray(s.steps) ? s.steps : [];
  const weights = steps.flatMap((step: unknown) => (typeof step === 'object' && step !== null && typeof (step as { weightPercent?: unknown }).weightPercent === 'number' ? [(step as { weightPercent: number }).weightPercent] : []));
  return {
    kind,
    weights,
    bakeMs: typeof s.bakeMs === 'number' ? s.bakeMs : null,
    analysisIntervalMs: typeof s.analysisIntervalMs === 'number' ? s.analysisIntervalMs : null,
  };
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);

/** "canary 10% → 25% → 50% → 100% (bake 60 s, judged every 10 s)", "direct replace", "blue/green". */
export function describeStrategy(value: unknown): string {
  const s = readStrategy(value);
  if (s.kind === 'direct') return 'direct replace once ready and smoke-tested';
  if (s.kind === 'blueGreen') return 'blue/green: switch all traffic at once after the smoke test';
  if (s.kind === 'canary') {
    const timing = [s.bakeMs !== null ? `bake ${seconds(s.bakeMs)}` : null, s.analysisIntervalMs !== null ? `judged every ${seconds(s.analysisIntervalMs)}` : null].filter(Boolean).join(', ');
    return `canary ${[...s.weights, 100].map((w) => `${w}%`).join(' → ')}${timing === '' ? '' : ` (${timing})`}`;
  }
  return 'unknown strategy';
}

/** Where a rollout stands, in words: "smoke test", "step 2 of 3", "promoted". */
export function stepLabel(view: Pick<RolloutView, 'phase' | 'stepIndex' | 'stepCount'>): string {
  if (view.phase === 'succeeded') return 'promoted';
  if (view.phase === 'rolled-back') return 'rolled back';
  if (view.phase === 'failed') return 'failed';
  if (view.stepIndex < 0) return view.phase === 'awaiting-approval' ? 'waiting for approval' : 'smoke test';
  return `step ${view.stepIndex + 1} of ${view.stepCount}`;
}

/** The commands that make sense in a phase (the server checks again and answers 409 otherwise). */
export function availableCommands(phase: RolloutPhase): { promote: boolean; abort: boolean; pause: boolean; resume: boolean; approve: boolean } {
  const live = !isTerminalPhase(phase);
  return { promote: live, abort: live, pause: live && phase !== 'paused', resume: phase === 'paused', approve: phase === 'awaiting-approval' };
}

export const shortDigest = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);
