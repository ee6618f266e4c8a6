/**
 * Figures derived from the runs: Plinth at the anchor size (medians over rounds), the anchor's line in the
 * same terms, their ratios, and the targets — each boolean computed from a measured figure, null when the
 * figure is missing (a part failed or was skipped).
 */
import { round } from '../kernel/util.js';
import type { AnchorResult } from './anchor.js';
import { ratio } from './common.js';
import type { EndpointKey } from './endpoints.js';
import type { EndpointFigures, runPlinth } from './plinth.js';
import type { Dialect } from './server.js';

export type PlinthFigures = Awaited<ReturnType<typeof runPlinth>>;
type AnchorEndpoint = 'byName' | 'byQuery' | 'facets';

const median = (xs: number[]) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

/** Plinth's figures at the anchor size, medians over rounds, in the anchor's terms. */
export function plinthAtAnchor(runs: PlinthFigures[]) {
  const med = (f: (r: PlinthFigures) => number) => round(median(runs.map(f)), 3);
  const endpoint = (key: EndpointKey) => {
    const e = (r: PlinthFigures) => r[key] as EndpointFigures;
    const ac = (r: PlinthFigures) => e(r).byTool?.autocannon;
    return {
      tool: e(runs[0]!).tool,
      p50: med((r) => e(r).p50),
      p99: med((r) => e(r).p99),
      rps: med((r) => e(r).rps),
      cpuMsPerReq: med((r) => e(r).serverCpuMsPerReq ?? NaN),
      errors: runs.reduce((a, r) => a + e(r).errors, 0),
      ...(ac(runs[0]!) ? { autocannon: { p50: med((r) => ac(r)?.p50 ?? NaN), p99: med((r) => ac(r)?.p99 ?? NaN), rps: med((r) => ac(r)?.rps ?? NaN) } } : {}),
    };
  };
  return {
    dialect: 'sqlite',
    rounds: runs.length,
    ingestS: med((r) => r.ingestS),
    fromSpawnS: med((r) => r.fromSpawnS),
    readyS: med((r) => r.readyS),
    ingestCpuS: med((r) => r.ingestCpuS),
    rssMb: med((r) => r.rssMb),
    searchReadyS: med((r) => r.searchReadyS),
    ingestRunsS: runs.map((r) => r.fromSpawnS),
    byName: endpoint('byName'),
    byQuery: endpoint('byQuery'),
    facets: endpoint('facets'),
    search: endpoint('search'),
  };
}

/** One Plinth round at the anchor size, in brief: what the medians were taken over. */
export function compactRun(r: PlinthFigures) {
  const endpoint = (key: EndpointKey) => {
    const e = r[key] as EndpointFigures;
    const brief = (f: { p50: number; p99: number; rps: number; serverCpuMsPerReq: number | null; foreignCores: number }) => ({ p50: f.p50, p99: f.p99, rps: f.rps, cpuMsPerReq: f.serverCpuMsPerReq, foreignCores: f.foreignCores });
    return Object.fromEntries(Object.entries(e.byTool ?? { [e.tool]: e }).map(([tool, f]) => [tool, brief(f)]));
  };
  return {
    fromSpawnS: r.fromSpawnS,
    ingestS: r.ingestS,
    ingestCpuS: r.ingestCpuS,
    rssMb: r.rssMb,
    byName: endpoint('byName'),
    byQuery: endpoint('byQuery'),
    facets: endpoint('facets'),
    search: endpoint('search'),
  };
}

/** The anchor's line in Plinth's terms: fromSpawnS is its ingest_s (from spawn), ingestS the part after readiness. */
export function backstageFigures(b: AnchorResult) {
  const endpoint = (k: 'by_name' | 'by_query' | 'facets') => {
    const e = b.endpoints[k];
    return { tool: 'wrk', p50: e.p50_ms, p99: e.p99_ms, rps: e.rps, cpuMsPerReq: e.backend_cpu_ms_per_req, errors: e.errors_total, foreignCores: e.foreign_cores };
  };
  return {
    rounds: b.rounds,
    ingestS: round(b.ingest_s - b.ready_s, 2),
    fromSpawnS: b.ingest_s,
    readyS: b.ready_s,
    visibleS: b.visible_s,
    ingestCpuS: b.ingest_cpu_s,
    rssMb: b.rss_peak_mb,
    ingestRunsS: b.ingest_runs_s,
    byName: endpoint('by_name'),
    byQuery: endpoint('by_query'),
    facets: endpoint('facets'),
    versions: b.versions,
    wallS: b.wall_s,
  };
}

/** Backstage ÷ Plinth for times and CPU per request (higher = Plinth better); throughput the other way round. */
export function anchorRatios(backstage: ReturnType<typeof backstageFigures>, plinth: ReturnType<typeof plinthAtAnchor>) {
  const endpoint = (k: AnchorEndpoint) => ({
    p99: ratio(backstage[k].p99, plinth[k].p99),
    p50: ratio(backstage[k].p50, plinth[k].p50),
    cpuMsPerReq: ratio(backstage[k].cpuMsPerReq, plinth[k].cpuMsPerReq),
    rps: ratio(plinth[k].rps, backstage[k].rps),
  });
  return {
    definition: 'backstage ÷ plinth for times and CPU (higher = Plinth better); rps is plinth ÷ backstage',
    ingestFromSpawn: ratio(backstage.fromSpawnS, plinth.fromSpawnS),
    ingestAfterReady: ratio(backstage.ingestS, plinth.ingestS),
    ingestCpu: ratio(backstage.ingestCpuS, plinth.ingestCpuS),
    rss: ratio(backstage.rssMb, plinth.rssMb),
    byName: endpoint('byName'),
    byQuery: endpoint('byQuery'),
    facets: endpoint('facets'),
  };
}

/** `check(value)` when the figure was measured, else null. */
function target(value: unknown, check: (v: number) => boolean): boolean | null {
  return typeof value === 'number' && Number.isFinite(value) ? check(value) : null;
}

export function dialectTargets(dialect: Dialect, r: unknown): Record<string, boolean | null> {
  const f = (r && typeof r === 'object' && !('error' in r) && !('skipped' in r) ? r : {}) as Partial<PlinthFigures>;
  const p99Under = (key: EndpointKey, ms: number) => {
    const e = f[key] as EndpointFigures | undefined;
    return e ? target(e.p99, (v) => v < ms && e.errors === 0) : null;
  };
  return {
    [`${dialect}.ingest<30s`]: target(f.ingestS, (v) => v < 30),
    [`${dialect}.rss<1GiB`]: target(f.rssMb, (v) => v < 1024),
    [`${dialect}.byNameP99<5ms`]: p99Under('byName', 5),
    [`${dialect}.byQueryP99<20ms`]: p99Under('byQuery', 20),
    [`${dialect}.facetsP99<50ms`]: p99Under('facets', 50),
    [`${dialect}.searchP99<20ms`]: p99Under('search', 20),
  };
}

export function anchorGoals(anchor: unknown): Record<string, boolean | null> {
  const ratios = (anchor as { ratios?: Record<string, unknown> } | undefined)?.ratios;
  const p99 = (key: string) => (ratios?.[key] as { p99?: number | null } | undefined)?.p99;
  return {
    'anchor.ingestFromSpawn>=10x': target(ratios?.ingestFromSpawn, (v) => v >= 10),
    'anchor.ingestAfterReady>=10x': target(ratios?.ingestAfterReady, (v) => v >= 10),
    'anchor.byNameP99>=3x': target(p99('byName'), (v) => v >= 3),
    'anchor.byQueryP99>=3x': target(p99('byQuery'), (v) => v >= 3),
    'anchor.facetsP99>=3x': target(p99('facets'), (v) => v >= 3),
  };
}

/**
 * This build against another (--baseline-server), both run on the same data in this invocation with
 * the order alternating by round: medians of each, and this build's figure over the baseline's.
 */
export function baselineComparison(current: PlinthFigures[], baseline: PlinthFigures[]) {
  const pair = (of: (r: PlinthFigures) => number) => {
    const c = median(current.map(of));
    const b = median(baseline.map(of));
    return { current: round(c, 3), baseline: round(b, 3), ratio: ratio(c, b, 3) };
  };
  const endpoint = (key: EndpointKey) => {
    const f = (r: PlinthFigures) => r[key] as EndpointFigures;
    return { p99: pair((r) => f(r).p99), rps: pair((r) => f(r).rps), cpuMsPerReq: pair((r) => f(r).serverCpuMsPerReq ?? NaN) };
  };
  return {
    rounds: current.length,
    note: 'medians over the rounds; ratio = this build / baseline (below 1 is less time or CPU; for rps above 1 is faster)',
    ingestS: pair((r) => r.ingestS),
    rssMb: pair((r) => r.rssMb),
    byName: endpoint('byName'),
    byQuery: endpoint('byQuery'),
    facets: endpoint('facets'),
    search: endpoint('search'),
  };
}
