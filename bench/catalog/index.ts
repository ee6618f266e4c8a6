/**
 * `npm run bench:catalog`: the catalog's figures at --n entities (default 100,000) on SQLite and
 * PostgreSQL — ingestion, completeness, memory, search readiness, four endpoints under 10 connections —
 * and, at --anchor-n (default 1,000), the same data through Backstage's own catalog backend and through
 * Plinth, one after the other in this run, reported as ratios. One JSON line on stdout; progress on stderr.
 *
 *   node dist/bench/catalog/index.js [--n 100000] [--anchor-n 1000] [--skip-anchor]
 *     [--dialects sqlite,postgres] [--duration 10] [--warmup 2] [--connections 10] [--rounds 3]
 *     [--cpu-prof DIR]   (V8 CPU profile of each Plinth server at --n; summarise with profile.js)
 *     [--baseline-server path/to/other/dist/src/main.js]   also runs another build (e.g. the previous
 *                        commit's, built in a worktree) on the same data at --n, --rounds times each,
 *                        the order alternating, and reports this build's figures over the baseline's
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanupAll, freePort, postgresUnavailableReason, round } from '../kernel/util.js';
import { prepareAnchor, recordedAnchorFigures, runAnchor } from './anchor.js';
import { nowS, progress, repoRoot, type QuietGate } from './common.js';
import { generateDataset, type Dataset } from './data.js';
import type { EndpointKey } from './endpoints.js';
import { anchorGoals, anchorRatios, backstageFigures, baselineComparison, compactRun, dialectTargets, plinthAtAnchor, type PlinthFigures } from './figures.js';
import { runPlinth, type RunOptions } from './plinth.js';
import type { Dialect } from './server.js';

const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    'anchor-n': { type: 'string', default: '1000' },
    'skip-anchor': { type: 'boolean', default: false },
    dialects: { type: 'string', default: 'sqlite,postgres' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
    'quiet-cores': { type: 'string', default: '0.25' },
    'quiet-max-s': { type: 'string', default: '120' },
    'ingest-timeout-s': { type: 'string', default: '1800' },
    'baseline-server': { type: 'string' },
  },
  strict: true,
});

function positive(name: string, text: string | undefined, min = 1): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name}: "${text}" is not a number ≥ ${min}`);
  return value;
}

const opts = {
  n: positive('n', flags.n, 100),
  anchorN: positive('anchor-n', flags['anchor-n'], 100),
  skipAnchor: flags['skip-anchor'] === true,
  dialects: (flags.dialects ?? '').split(',').map((d) => d.trim()).filter(Boolean) as Dialect[],
  durationS: positive('duration', flags.duration),
  warmupS: positive('warmup', flags.warmup, 0),
  connections: positive('connections', flags.connections),
  rounds: positive('rounds', flags.rounds),
  cpuProfDir: flags['cpu-prof'] ? resolve(flags['cpu-prof']) : undefined,
  gate: { maxCores: positive('quiet-cores', flags['quiet-cores'], 0), maxWaitS: positive('quiet-max-s', flags['quiet-max-s'], 0) } satisfies QuietGate,
  ingestTimeoutS: positive('ingest-timeout-s', flags['ingest-timeout-s']),
  baselineServer: flags['baseline-server'] ? resolve(flags['baseline-server']) : undefined,
};
if (opts.baselineServer && !existsSync(opts.baselineServer)) throw new Error(`--baseline-server: ${opts.baselineServer} does not exist (build that tree first: npm run build:server)`);
for (const d of opts.dialects) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--dialects: unknown "${d}"; use sqlite,postgres`);

let failed = false;

/** Runs one part; a failure is reported in its place instead of ending the run. */
async function part<T>(name: string, run: () => Promise<T>): Promise<T | { error: string }> {
  const t0 = nowS();
  try {
    const result = await run();
    progress(`${name}: done in ${(nowS() - t0).toFixed(1)} s`);
    return result;
  } catch (err) {
    failed = true;
    progress(`${name}: failed: ${(err as Error).stack ?? String(err)}`);
    return { error: (err as Error).message };
  }
}

const runOptions = (dialect: Dialect, dataset: Dataset, tools: RunOptions['tools']): RunOptions => ({
  dialect,
  dataset,
  tools,
  connections: opts.connections,
  durationS: opts.durationS,
  warmupS: opts.warmupS,
  gate: opts.gate,
  ingestTimeoutS: opts.ingestTimeoutS,
});

/** Backstage and Plinth (SQLite) on the same generated data at --anchor-n, in this run. */
async function anchorComparison() {
  const prepared = prepareAnchor();
  if ('skipped' in prepared) {
    progress(`anchor: skipped (${prepared.skipped})`);
    return { n: opts.anchorN, skipped: prepared.skipped };
  }
  const dataset = generateDataset(opts.anchorN);
  const tools: RunOptions['tools'] = ['wrk', 'autocannon'];
  const runs: PlinthFigures[] = [];
  for (let i = 1; i <= opts.rounds; i++) {
    progress(`anchor size, plinth round ${i}/${opts.rounds}`);
    runs.push(await runPlinth(runOptions('sqlite', dataset, tools)));
  }
  progress(`anchor size, backstage (${opts.rounds} round(s) of the anchor's bench.js)`);
  const b = await runAnchor({
    workDir: prepared.workDir,
    dataDir: dataset.dir,
    n: opts.anchorN,
    rounds: opts.rounds,
    port: await freePort(),
    durationS: opts.durationS,
    connections: opts.connections,
    warmupS: opts.warmupS,
    quietCores: opts.gate.maxCores,
    quietMaxS: opts.gate.maxWaitS,
    timeoutMin: Math.ceil(opts.ingestTimeoutS / 60),
  });
  const backstage = backstageFigures(b);
  const plinth = plinthAtAnchor(runs);
  return {
    n: opts.anchorN,
    load: `wrk -t1 -c${opts.connections} -d${opts.durationS}s with the anchor's wrk-report.lua for both (after ${opts.warmupS} s warm-up and the anchor's quiet gate); plinth.*.autocannon: the same requests from autocannon`,
    backstage,
    plinth,
    plinthRuns: runs.map(compactRun),
    ratios: anchorRatios(backstage, plinth),
  };
}

/** The commit measured (the tree may move while a long run goes on: `srcChanged` lists src/ edits not committed). */
function gitState() {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).stdout?.trim() ?? '';
  return { commit: git('rev-parse', '--short', 'HEAD'), subject: git('log', '-1', '--format=%s').slice(0, 120), srcChanged: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean) };
}

async function main() {
  const t0 = nowS();
  const gitAtStart = gitState();
  const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', memGb: round(totalmem() / 2 ** 30, 1), node: process.version, loadavg1mAtStart: round(loadavg()[0] ?? 0) };
  progress(`n=${opts.n} anchor-n=${opts.skipAnchor ? 'skipped' : opts.anchorN} dialects=${opts.dialects.join(',')} rounds=${opts.rounds}`);

  const anchor = opts.skipAnchor ? { n: opts.anchorN, skipped: '--skip-anchor' } : await part('anchor comparison', anchorComparison);

  const dataset = generateDataset(opts.n);
  if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });
  const results: Partial<Record<Dialect, unknown>> = {};
  const baseline: Partial<Record<Dialect, unknown>> = {};
  for (const dialect of opts.dialects) {
    const unavailable = dialect === 'postgres' ? await postgresUnavailableReason() : undefined;
    if (unavailable) {
      progress(`${dialect}: skipped (${unavailable})`);
      results[dialect] = { skipped: unavailable };
      continue;
    }
    const options = runOptions(dialect, dataset, ['autocannon']);
    if (opts.cpuProfDir) options.cpuProfile = { dir: opts.cpuProfDir, name: `plinth-${dialect}-n${opts.n}.cpuprofile` };
    if (!opts.baselineServer) {
      results[dialect] = await part(`plinth ${dialect} n=${opts.n}`, () => runPlinth(options));
      continue;
    }
    const baselineServer = opts.baselineServer;
    baseline[dialect] = await part(`plinth ${dialect} n=${opts.n} against the baseline`, async () => {
      const runs: { current: PlinthFigures[]; baseline: PlinthFigures[] } = { current: [], baseline: [] };
      for (let i = 1; i <= opts.rounds; i++) {
        for (const which of i % 2 === 1 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const)) {
          progress(`${dialect} round ${i}/${opts.rounds}: ${which === 'current' ? 'this build' : `baseline ${baselineServer}`}`);
          // One profile per round of this build (the same name would keep only the last).
          const profile = options.cpuProfile && { ...options.cpuProfile, name: `plinth-${dialect}-n${opts.n}-round${i}.cpuprofile` };
          runs[which].push(await runPlinth(which === 'current' ? { ...options, cpuProfile: profile } : { ...options, cpuProfile: undefined, mainJs: baselineServer }));
        }
      }
      results[dialect] = runs.current[0];
      return { ...baselineComparison(runs.current, runs.baseline), runs: { current: runs.current.map(compactRun), baseline: runs.baseline.map(compactRun) } };
    });
  }

  const targets = {
    n: opts.n,
    ...(opts.n !== 100_000 ? { note: `the targets are defined at n=100000; these booleans compare figures measured at n=${opts.n}` } : {}),
    rule: 'each boolean is computed from the figure measured in this run; a p99 target also needs 0 errors; 1 GiB = 1024 MiB of VmHWM',
    ...Object.assign({}, ...opts.dialects.map((d) => dialectTargets(d, results[d]))),
    ...anchorGoals(anchor),
  };
  const report = {
    bench: 'catalog',
    n: opts.n,
    seed: 42,
    git: gitAtStart,
    machine,
    load: {
      tool: 'autocannon (in the bench process; latency per response from process.hrtime, ms with µs digits)',
      connections: opts.connections,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      quietGate: opts.gate,
      endpoints: ['byName', 'byQuery', 'facets', 'search'] satisfies EndpointKey[],
    },
    generateS: round(dataset.generateS, 1),
    ...results,
    ...(opts.baselineServer ? { baseline: { server: opts.baselineServer, ...baseline } } : {}),
    anchor: { ...anchor, recorded: recordedAnchorFigures() },
    targets,
    loadavg1mAtEnd: round(loadavg()[0] ?? 0),
    totalS: round(nowS() - t0, 1),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

const interrupted = (signal: string) => {
  progress(`${signal}: cleaning up`);
  void cleanupAll().finally(() => process.exit(130));
};
process.once('SIGINT', () => interrupted('SIGINT'));
process.once('SIGTERM', () => interrupted('SIGTERM'));

try {
  await main();
} catch (err) {
  failed = true;
  progress(`failed: ${(err as Error).stack ?? String(err)}`);
} finally {
  await cleanupAll();
}
process.exit(failed ? 1 : 0);
