/**
 * The baseline: Backstage's real catalog backend through the anchor's own driver (bench.js, wrk, its
 * quiet gate and completeness check), run from the anchor's work dir as run.sh prepares it. Also the
 * anchor's recorded figures (results/runs.jsonl, from which RESULTS.md is written), labelled as such.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup, waitForExit } from '../kernel/util.js';
import { anchorDir, progress } from './common.js';

const HARNESS_FILES = ['package.json', 'package-lock.json', 'backend.js', 'app-config.yaml', 'bench.js', 'generate.js', 'wrk-report.lua'];

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** wrk from apt when it is missing and we may install it (run.sh does the same). */
function ensureWrk(): string | undefined {
  if (has('wrk')) return undefined;
  if (process.getuid?.() !== 0 || !has('apt-get')) return 'wrk is not installed (apt-get install wrk)';
  progress('anchor: installing wrk with apt-get');
  const r = spawnSync('sh', ['-c', 'apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return r.status === 0 && has('wrk') ? undefined : 'apt-get install wrk failed';
}

/**
 * The work dir run.sh uses ($BENCH_WORKDIR, default $TMPDIR/backstage-bench-work), with the harness
 * files copied in and `npm ci` run once per package-lock and Node version (the same stamp as run.sh).
 */
export function prepareAnchor(): { workDir: string } | { skipped: string } {
  if (!existsSync(join(anchorDir, 'bench.js'))) return { skipped: `no anchor harness at ${anchorDir}` };
  const noWrk = ensureWrk();
  if (noWrk) return { skipped: noWrk };
  const workDir = process.env.BENCH_WORKDIR ?? join(process.env.TMPDIR ?? tmpdir(), 'backstage-bench-work');
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  for (const file of HARNESS_FILES) copyFileSync(join(anchorDir, file), join(workDir, file));
  const lock = Buffer.concat([readFileSync(join(anchorDir, 'package.json')), readFileSync(join(anchorDir, 'package-lock.json'))]);
  const stamp = `${createHash('sha256').update(lock).digest('hex').slice(0, 16)}-node${process.version}`;
  const stampFile = join(workDir, 'node_modules', '.bench-stamp');
  if ((existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '') === stamp) return { workDir };

  progress(`anchor: npm ci in ${workDir} (first run: a few minutes; better-sqlite3 compiles from source; log: logs/install.log)`);
  const t0 = Date.now();
  const logFd = openSync(join(workDir, 'logs', 'install.log'), 'w');
  try {
    const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: workDir, stdio: ['ignore', logFd, logFd] });
    if (ci.status !== 0) return { skipped: `npm ci of the anchor failed (exit ${ci.status}); see ${join(workDir, 'logs', 'install.log')}` };
    const loads = () => spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:')"], { cwd: workDir, stdio: 'ignore' }).status === 0;
    // npm 11 may skip install scripts; make sure the native module really exists.
    if (!loads()) {
      progress('anchor: better-sqlite3 native module missing, building it');
      spawnSync('npm', ['rebuild', 'better-sqlite3', '--foreground-scripts'], { cwd: workDir, stdio: ['ignore', logFd, logFd] });
      if (!loads()) return { skipped: 'better-sqlite3 of the anchor does not load after npm rebuild' };
    }
  } finally {
    closeSync(logFd);
  }
  writeFileSync(stampFile, stamp + '\n');
  progress(`anchor: install took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { workDir };
}

export interface AnchorOptions {
  workDir: string;
  dataDir: string;
  n: number;
  rounds: number;
  port: number;
  durationS: number;
  connections: number;
  warmupS: number;
  quietCores: number;
  quietMaxS: number;
  timeoutMin: number;
}

/** The JSON line of bench.js (medians over rounds; see the anchor README for every field). */
export interface AnchorResult {
  n: number;
  rounds: number;
  ingest_s: number;
  visible_s: number;
  ready_s: number;
  ingest_cpu_s: number;
  ingest_runs_s: number[];
  rss_peak_mb: number;
  rss_peak_ingest_mb: number;
  endpoints: Record<'by_name' | 'by_query' | 'facets', { rps: number; p50_ms: number; p90_ms: number; p99_ms: number; errors_total: number; backend_cpu_ms_per_req: number; foreign_cores: number }>;
  error?: string;
  [key: string]: unknown;
}

/** Runs `node bench.js` in the work dir; its progress goes to our stderr, its last stdout line is the result. */
export async function runAnchor(o: AnchorOptions): Promise<AnchorResult> {
  const args = [
    'bench.js', '--n', String(o.n), '--data', o.dataDir, '--rounds', String(o.rounds), '--port', String(o.port),
    '--duration', String(o.durationS), '--connections', String(o.connections), '--warmup', String(o.warmupS),
    '--quiet-cores', String(o.quietCores), '--quiet-max-s', String(o.quietMaxS), '--timeout-min', String(o.timeoutMin),
  ];
  const child = spawn(process.execPath, args, { cwd: o.workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  // bench.js kills its backend on SIGTERM; a SIGKILL would orphan it.
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await waitForExit(child, 10_000);
    }
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d.toString().replace(/^(?=.)/gm, '  [anchor] ')));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  let result: AnchorResult;
  try {
    result = JSON.parse(line) as AnchorResult;
  } catch {
    throw new Error(`anchor bench.js exited with ${code} without a JSON line`);
  }
  if (code !== 0 || result.error) throw new Error(`anchor bench.js failed (exit ${code}): ${result.error ?? 'no detail'}`);
  return result;
}

/** The anchor's recorded runs (every successful line of results/runs.jsonl), NOT measured now. */
export function recordedAnchorFigures() {
  const file = join(anchorDir, 'results', 'runs.jsonl');
  if (!existsSync(file)) return { note: `no ${file}` };
  const lines = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim());
  const runs = lines
    .map((line) => JSON.parse(line) as AnchorResult & { date?: string })
    .filter((r) => !r.error)
    .map((r) => ({
      n: r.n,
      rounds: r.rounds,
      date: r.date,
      ingestS: r.ingest_s,
      ingestCpuS: r.ingest_cpu_s,
      rssPeakMb: r.rss_peak_mb,
      ...Object.fromEntries(
        Object.entries(r.endpoints).map(([k, e]) => [k, { p50: e.p50_ms, p99: e.p99_ms, rps: e.rps, cpuMsPerReq: e.backend_cpu_ms_per_req }]),
      ),
    }));
  return { note: 'recorded earlier by the anchor (RESULTS.md, results/runs.jsonl: medians of its rounds, wrk -t1 -c10 -d10s); not measured in this run', source: '../shared/anchors/backstage-bench/results/runs.jsonl', runs };
}
