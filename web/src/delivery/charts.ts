import type { RolloutView } from '../../../src/delivery/index.js';
import { readAnalysis } from './rollout-view.js';

// The rollout page's charts as pure functions (STYLE §9): samples collected while the page is open,
// and the SVG geometry drawn from them. Components only render what these return.

/** One look at a rollout: its weight, and the analysis the controller recorded last (canary vs stable). */
export interface AnalysisSample {
  /** Milliseconds since the epoch: the analysis's time, or when the page saw the weight change. */
  atMs: number;
  /** The analysis's own timestamp, to tell a new analysis from the same one read again. */
  analysisAt: string | null;
  stepIndex: number;
  weightPercent: number;
  verdict: 'pass' | 'fail' | 'inconclusive' | null;
  canaryRequests: number | null;
  canaryErrorRatePercent: number | null;
  stableErrorRatePercent: number | null;
  canaryP99Ms: number | null;
  stableP99Ms: number | null;
}

/** Samples a page keeps (an hour at one analysis a second would be more than a chart can show). */
export const maxSamples = 600;

/**
 * Adds what a poll of the rollout shows, when it is new: a new analysis, or a change of weight or step.
 * Reading the same state again changes nothing, so polling often costs nothing.
 */
export function appendSample(samples: readonly AnalysisSample[], view: Pick<RolloutView, 'lastAnalysis' | 'weightPercent' | 'stepIndex' | 'updatedAt'>, nowMs: number): AnalysisSample[] {
  const analysis = readAnalysis(view.lastAnalysis);
  const last = samples[samples.length - 1];
  const analysisAt = analysis?.at ?? null;
  const isNewAnalysis = analysisAt !== null && analysisAt !== last?.analysisAt && !samples.some((s) => s.analysisAt === analysisAt);
  const moved = last === undefined || last.weightPercent !== view.weightPercent || last.stepIndex !== view.stepIndex;
  if (!isNewAnalysis && !moved) return samples as AnalysisSample[];
  const atMs = isNewAnalysis ? Date.parse(analysisAt) : Math.max(nowMs, last?.atMs ?? 0);
  const sample: AnalysisSample = {
    atMs: Number.isFinite(atMs) ? atMs : nowMs,
    analysisAt: isNewAnalysis ? analysisAt : null,
    stepIndex: view.stepIndex,
    weightPercent: view.weightPercent,
    verdict: isNewAnalysis ? analysis!.verdict : null,
    canaryRequests: isNewAnalysis ? analysis!.canary.requests : null,
    canaryErrorRatePercent: isNewAnalysis ? analysis!.canary.errorRatePercent : null,
    stableErrorRatePercent: isNewAnalysis ? (analysis!.stable?.errorRatePercent ?? null) : null,
    canaryP99Ms: isNewAnalysis ? analysis!.canary.p99Ms : null,
    stableP99Ms: isNewAnalysis ? (analysis!.stable?.p99Ms ?? null) : null,
  };
  const next = [...samples, sample].sort((a, b) => a.atMs - b.atMs);
  return next.length > maxSamples ? next.slice(next.length - maxSamples) : next;
}

export interface ChartSeries {
  name: string;
  /** One value per time; null leaves a gap. */
  values: readonly (number | null)[];
}

export interface ChartGeometry {
  width: number;
  height: number;
  /** SVG path per series (`M x y L x y …`, a new `M` after each gap); '' when it has no value. */
  paths: { name: string; d: string; points: { x: number; y: number }[] }[];
  yMax: number;
  /** Horizontal grid lines with their labels. */
  yTicks: { y: number; label: string }[];
  /** Drawing area inside the margins. */
  plot: { left: number; top: number; right: number; bottom: number };
}

/** A "nice" upper bound for the y axis: 1, 2, 2.5 or 5 times a power of ten, at least `minMax`. */
export function niceMax(value: number, minMax = 1): number {
  const v = Math.max(value, minMax);
  const power = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= v) return m * power;
  return 10 * power;
}

const formatTick = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(n < 1 ? 2 : 1));

/**
 * Lays out line series over shared times: x by time (evenly when all times are equal), y from 0 to a
 * nice maximum; gaps (null) break the line rather than dropping to zero.
 */
export function chartGeometry(times: readonly number[], series: readonly ChartSeries[], options: { width: number; height: number; minMax?: number; ticks?: number }): ChartGeometry {
  const { width, height } = options;
  const plot = { left: 40, top: 8, right: width - 8, bottom: height - 20 };
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const yMax = niceMax(all.length === 0 ? 0 : Math.max(...all), options.minMax ?? 1);
  const t0 = times.length === 0 ? 0 : Math.min(...times);
  const t1 = times.length === 0 ? 0 : Math.max(...times);
  const xOf = (i: number) => {
    if (times.length <= 1) return (plot.left + plot.right) / 2;
    const span = t1 - t0;
    const fraction = span > 0 ? (times[i]! - t0) / span : i / (times.length - 1);
    return plot.left + fraction * (plot.right - plot.left);
  };
  const yOf = (v: number) => plot.bottom - (Math.min(v, yMax) / yMax) * (plot.bottom - plot.top);
  const round = (n: number) => Math.round(n * 10) / 10;
  const paths = series.map((s) => {
    let d = '';
    let pen = false;
    const points: { x: number; y: number }[] = [];
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v) || i >= times.length) {
        pen = false;
        return;
      }
      const x = round(xOf(i));
      const y = round(yOf(v));
      points.push({ x, y });
      d += `${d === '' ? '' : ' '}${pen ? 'L' : 'M'}${x} ${y}`;
      pen = true;
    });
    return { name: s.name, d, points };
  });
  const tickCount = options.ticks ?? 4;
  const yTicks = Array.from({ length: tickCount + 1 }, (_, i) => {
    const value = (yMax * i) / tickCount;
    return { y: round(yOf(value)), label: formatTick(value) };
  });
  return { width, height, paths, yMax, yTicks, plot };
}

/** The series of the rollout charts, from the samples that carry an analysis. */
export function analysisSeries(samples: readonly AnalysisSample[]): { times: number[]; errorRate: ChartSeries[]; p99: ChartSeries[]; weightTimes: number[]; weight: ChartSeries[] } {
  const judged = samples.filter((s) => s.analysisAt !== null);
  return {
    times: judged.map((s) => s.atMs),
    errorRate: [
      { name: 'canary', values: judged.map((s) => s.canaryErrorRatePercent) },
      { name: 'stable', values: judged.map((s) => s.stableErrorRatePercent) },
    ],
    p99: [
      { name: 'canary', values: judged.map((s) => s.canaryP99Ms) },
      { name: 'stable', values: judged.map((s) => s.stableP99Ms) },
    ],
    weightTimes: samples.map((s) => s.atMs),
    weight: [{ name: 'new release', values: samples.map((s) => s.weightPercent) }],
  };
}
