import type { AnalysisRecord, RolloutView } from '../../../src/delivery/index.js';

// The rollout page's charts as pure functions (STYLE §9): the analysis history the controller stored
// (GET /api/delivery/rollouts/:id/analyses) turned into ECharts options; components only render them.

export type { AnalysisRecord };

/** Analyses a page keeps while open; past this the older half is thinned (the server keeps 2,000 per rollout). */
export const maxClientAnalyses = 4000;

/**
 * Adds newly read analyses (`after` the last seq known) to those the page has, oldest first, each seq
 * once; past `max` every second one of the older half goes, so a long-open page stays bounded.
 */
export function mergeAnalyses(known: readonly AnalysisRecord[], incoming: readonly AnalysisRecord[], max = maxClientAnalyses): AnalysisRecord[] {
  if (incoming.length === 0) return known as AnalysisRecord[];
  const seen = new Set(known.map((a) => a.seq));
  const merged = [...known, ...incoming.filter((a) => !seen.has(a.seq))].sort((a, b) => a.seq - b.seq);
  if (merged.length <= max) return merged;
  const half = Math.floor(merged.length / 2);
  return [...merged.slice(0, half).filter((_, i) => i % 2 === 0), ...merged.slice(half)];
}

/** A "nice" upper bound for the y axis: 1, 2, 2.5 or 5 times a power of ten, at least `minMax`. */
export function niceMax(value: number, minMax = 1): number {
  const v = Math.max(value, minMax);
  const power = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= v) return m * power;
  return 10 * power;
}

export interface ChartColors {
  canary: string;
  stable: string;
  threshold: string;
  text: string;
  grid: string;
}

/** [time in ms, value or null]: null leaves a gap in the line rather than dropping to zero. */
export type ChartPoint = [number, number | null];

export interface ChartSeriesSpec {
  name: string;
  color: string;
  points: ChartPoint[];
  /** Draw as steps (a weight holds until it changes). */
  step?: boolean;
}

/** The subset of an ECharts option these charts use (what `ReactECharts` is given). */
export interface LineChartOption {
  animation: false;
  grid: { left: number; right: number; top: number; bottom: number; containLabel: boolean };
  legend: { top: number; right: number; textStyle: { color: string } };
  tooltip: { trigger: 'axis'; valueFormatter: (value: unknown) => string };
  xAxis: { type: 'time'; axisLabel: { color: string; hideOverlap: boolean }; splitLine: { show: false } };
  yAxis: { type: 'value'; min: 0; max: number; axisLabel: { color: string; formatter: string }; splitLine: { lineStyle: { color: string } } };
  series: {
    name: string; type: 'line'; data: ChartPoint[]; step: 'end' | false; showSymbol: boolean; symbolSize: number; connectNulls: false;
    lineStyle: { width: number; color: string }; itemStyle: { color: string };
    markLine?: { silent: true; symbol: 'none'; animation: false; data: MarkLineItem[] };
  }[];
}

/** One dashed line: horizontal at `yAxis` (a limit) or vertical at `xAxis` (a step marker), labelled. */
export type MarkLineItem = ({ yAxis: number } | { xAxis: number }) & { lineStyle: { color: string; type: 'dashed'; width: number }; label: { formatter: string; position: 'insideEndTop'; color: string } };

const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
const formatValue = (unit: string) => (value: unknown) => (typeof value === 'number' ? `${Math.round(value * 1000) / 1000}${unit}` : '—');

/**
 * A line chart over time: y from 0 to a nice maximum that keeps the threshold in view, the threshold as a
 * dashed horizontal line, markers as dashed vertical lines (labelled) on the first series.
 */
export function lineChartOption(input: { unit: string; series: ChartSeriesSpec[]; colors: ChartColors; minMax?: number; threshold?: { value: number; label: string }; markers?: { atMs: number; label: string }[] }): LineChartOption {
  const { unit, colors } = input;
  const values = input.series.flatMap((s) => s.points.map((p) => p[1]).filter(finite));
  const top = Math.max(0, ...values, input.threshold ? input.threshold.value * 1.1 : 0);
  const dense = Math.max(0, ...input.series.map((s) => s.points.length)) > 60;
  const marks: MarkLineItem[] = [];
  if (input.threshold) {
    marks.push({ yAxis: input.threshold.value, lineStyle: { color: colors.threshold, type: 'dashed', width: 1.5 }, label: { formatter: input.threshold.label, position: 'insideEndTop', color: colors.threshold } });
  }
  for (const m of input.markers ?? []) {
    marks.push({ xAxis: m.atMs, lineStyle: { color: colors.grid, type: 'dashed', width: 1 }, label: { formatter: m.label, position: 'insideEndTop', color: colors.text } });
  }
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    legend: { top: 0, right: 0, textStyle: { color: colors.text } },
    tooltip: { trigger: 'axis', valueFormatter: formatValue(unit) },
    xAxis: { type: 'time', axisLabel: { color: colors.text, hideOverlap: true }, splitLine: { show: false } },
    yAxis: { type: 'value', min: 0, max: niceMax(top, input.minMax ?? 1), axisLabel: { color: colors.text, formatter: `{value}${unit}` }, splitLine: { lineStyle: { color: colors.grid } } },
    series: input.series.map((s, i) => ({
      name: s.name, type: 'line', data: s.points, step: s.step ? 'end' : false, showSymbol: !dense, symbolSize: 5, connectNulls: false,
      lineStyle: { width: 2, color: s.color }, itemStyle: { color: s.color },
      // ECharts draws a series' mark lines as ones of the series; they go on the first so they appear once.
      ...(i === 0 && marks.length > 0 ? { markLine: { silent: true, symbol: 'none', animation: false, data: marks } } : {}),
    })),
  };
}

export interface RolloutThresholds {
  maxErrorRatePercent: number | null;
  maxP99Ms: number | null;
}

/** The analysis thresholds of a rollout's strategy (served untyped), when it is a canary. */
export function readThresholds(strategy: unknown): RolloutThresholds {
  const analysis = typeof strategy === 'object' && strategy !== null ? (strategy as { analysis?: unknown }).analysis : undefined;
  const a = typeof analysis === 'object' && analysis !== null ? (analysis as Record<string, unknown>) : {};
  return { maxErrorRatePercent: typeof a.maxErrorRatePercent === 'number' ? a.maxErrorRatePercent : null, maxP99Ms: typeof a.maxP99Ms === 'number' ? a.maxP99Ms : null };
}

const timeOf = (iso: string) => Date.parse(iso);

/** Where the weight changed step: one marker per step the history saw, at its first analysis. */
export function stepMarkers(history: readonly AnalysisRecord[]): { atMs: number; label: string }[] {
  return history.filter((a, i) => i === 0 || a.stepIndex !== history[i - 1]!.stepIndex).map((a) => ({ atMs: timeOf(a.at), label: `step ${a.stepIndex + 1} · ${a.weightPercent}%` }));
}

export type RolloutChartView = Pick<RolloutView, 'strategy' | 'weightPercent' | 'updatedAt' | 'finishedAt'>;

/** The three charts of a rollout: 5xx rate and p99 of canary vs stable with their limits, and the canary's weight with step markers. */
export function rolloutCharts(history: readonly AnalysisRecord[], view: RolloutChartView, colors: ChartColors): { errorRate: LineChartOption; p99: LineChartOption; weight: LineChartOption } {
  const thresholds = readThresholds(view.strategy);
  const at = history.map((a) => timeOf(a.at));
  const pointsOf = (pick: (a: AnalysisRecord) => number | null): ChartPoint[] => history.map((a, i) => [at[i]!, pick(a)]);
  // The weight as it is now (promoted: 100, rolled back: 0), after the last analysis.
  const nowMs = timeOf(view.finishedAt ?? view.updatedAt);
  const weight = pointsOf((a) => a.weightPercent);
  if (Number.isFinite(nowMs) && (weight.length === 0 || nowMs >= weight[weight.length - 1]![0])) weight.push([nowMs, view.weightPercent]);
  return {
    errorRate: lineChartOption({
      unit: ' %', colors, minMax: 1,
      series: [{ name: 'canary', color: colors.canary, points: pointsOf((a) => a.canary.errorRatePercent) }, { name: 'stable', color: colors.stable, points: pointsOf((a) => a.stable?.errorRatePercent ?? null) }],
      ...(thresholds.maxErrorRatePercent !== null ? { threshold: { value: thresholds.maxErrorRatePercent, label: `max ${thresholds.maxErrorRatePercent} %` } } : {}),
    }),
    p99: lineChartOption({
      unit: ' ms', colors, minMax: 10,
      series: [{ name: 'canary', color: colors.canary, points: pointsOf((a) => a.canary.p99Ms) }, { name: 'stable', color: colors.stable, points: pointsOf((a) => a.stable?.p99Ms ?? null) }],
      ...(thresholds.maxP99Ms !== null ? { threshold: { value: thresholds.maxP99Ms, label: `max ${thresholds.maxP99Ms} ms` } } : {}),
    }),
    weight: lineChartOption({ unit: ' %', colors, minMax: 100, series: [{ name: 'new release', color: colors.canary, points: weight, step: true }], markers: stepMarkers(history) }),
  };
}

/**
 * What a chart shows, in words (its accessible name): "5xx rate: 12 points; latest canary 0 %, stable 0 %".
 * A point is one analysis the controller stored, so the count is the same after a reload.
 */
export function chartSummary(title: string, option: LineChartOption, unit: string): string {
  const points = option.series[0]?.data.length ?? 0;
  const latest = option.series.map((s) => {
    const value = [...s.data].reverse().find((p) => p[1] !== null)?.[1];
    return `${s.name} ${value === undefined || value === null ? 'no data' : `${value}${unit}`}`;
  });
  return `${title}: ${points} points; latest ${latest.join(', ')}`;
}
