/**
 * HTTP load with a fixed number of connections for a fixed time, from autocannon (in this process,
 * per-response hrtime) or wrk with the anchor's own Lua script (so a ratio to the anchor compares
 * like with like). Besides latency and throughput every run records where the CPU went.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { round } from '../kernel/util.js';
import { anchorDir, cpuSeconds, machineCpu, nowS } from './common.js';
import { rotatingPaths, type Rotation } from './endpoints.js';

export type LoadTool = 'autocannon' | 'wrk';

export interface LoadSpec {
  base: string;
  path: string;
  rotate?: Rotation;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  serverPid: number;
  /** Also account the CPU of processes with this command name (the PostgreSQL server). */
  dbCommand?: string;
}

export interface LoadFigures {
  tool: LoadTool;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  requests: number;
  errors: number;
  bytesPerReq: number | null;
  /** Cores the Plinth (or Backstage) process used, and its CPU per answered request. */
  serverCores: number;
  serverCpuMsPerReq: number | null;
  /** Cores of the database server's processes alive at both ends of the run (PostgreSQL only; parallel query workers that come and go count as foreign). */
  dbCores?: number;
  loadGenCores: number;
  /** Everything else on the machine: other tenants (and, on PostgreSQL, nothing of ours). */
  foreignCores: number;
  stealCores: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Summed CPU seconds of every process whose command is `command` (e.g. postgres backends). */
export function commandCpuSeconds(command: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === command) total += cpuSeconds(Number(entry)) || 0;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

interface Accounting {
  finish(requests: number, loadGenCpuS: number): Pick<LoadFigures, 'serverCores' | 'serverCpuMsPerReq' | 'dbCores' | 'loadGenCores' | 'foreignCores' | 'stealCores'>;
}

function startAccounting(spec: LoadSpec): Accounting {
  const t0 = nowS();
  const m0 = machineCpu();
  const s0 = cpuSeconds(spec.serverPid);
  const d0 = spec.dbCommand ? commandCpuSeconds(spec.dbCommand) : 0;
  return {
    finish(requests, loadGenCpuS) {
      const elapsed = nowS() - t0;
      const m1 = machineCpu();
      const serverS = cpuSeconds(spec.serverPid) - s0;
      const dbS = spec.dbCommand ? commandCpuSeconds(spec.dbCommand) - d0 : 0;
      return {
        serverCores: round(serverS / elapsed, 2),
        serverCpuMsPerReq: requests > 0 ? round((serverS * 1000) / requests, 3) : null,
        ...(spec.dbCommand ? { dbCores: round(dbS / elapsed, 2) } : {}),
        loadGenCores: round(loadGenCpuS / elapsed, 2),
        foreignCores: round((m1.busyS - m0.busyS - serverS - dbS - loadGenCpuS) / elapsed, 2),
        stealCores: round((m1.stealS - m0.stealS) / elapsed, 2),
      };
    },
  };
}

export function runLoad(tool: LoadTool, spec: LoadSpec): Promise<LoadFigures> {
  return tool === 'wrk' ? runWrk(spec) : runAutocannon(spec);
}

async function runAutocannon(spec: LoadSpec): Promise<LoadFigures> {
  const latencies: number[] = [];
  let bytes = 0;
  let non2xx = 0;
  const next = spec.rotate ? rotatingPaths(spec.rotate) : undefined;
  const accounting = startAccounting(spec);
  const cpu0 = process.cpuUsage();
  const t0 = nowS();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.base + spec.path,
        connections: spec.connections,
        duration: spec.seconds,
        headers: spec.headers,
        timeout: 30,
        ...(next ? { requests: [{ method: 'GET' as const, setupRequest: (request: autocannon.Request) => ({ ...request, path: next() }) }] } : {}),
      },
      (err: Error | null, res: autocannon.Result) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, resBytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) {
        latencies.push(responseTime);
        bytes += resBytes;
      } else non2xx += 1;
    });
  });
  const elapsed = nowS() - t0;
  const cpu = process.cpuUsage(cpu0);
  const sorted = Float64Array.from(latencies).sort();
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return {
    tool: 'autocannon',
    rps: round(latencies.length / elapsed, 1),
    p50: round(percentile(sorted, 50), 3),
    p90: round(percentile(sorted, 90), 3),
    p99: round(percentile(sorted, 99), 3),
    max: round(sorted[sorted.length - 1] ?? NaN, 3),
    mean: round(mean, 3),
    requests: latencies.length,
    errors: result.errors + result.timeouts + non2xx,
    bytesPerReq: latencies.length ? Math.round(bytes / latencies.length) : null,
    ...accounting.finish(latencies.length, (cpu.user + cpu.system) / 1e6),
  };
}

interface WrkReport {
  requests: number;
  duration_us: number;
  bytes: number;
  errors: Record<string, number>;
  lat_mean_us: number;
  lat_p50_us: number;
  lat_p90_us: number;
  lat_p99_us: number;
  lat_max_us: number;
}

/** wrk -t1 with the anchor's wrk-report.lua, read in place (same rotation, same result line). */
async function runWrk(spec: LoadSpec): Promise<LoadFigures> {
  const script = join(anchorDir, 'wrk-report.lua');
  const headerArgs = Object.entries(spec.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--timeout', '30s', '-s', script, ...headerArgs, spec.base + spec.path];
  const env = { ...process.env };
  delete env.BENCH_ROTATE_PREFIX;
  delete env.BENCH_ROTATE_COUNT;
  if (spec.rotate) {
    env.BENCH_ROTATE_PREFIX = spec.rotate.prefix;
    env.BENCH_ROTATE_COUNT = String(spec.rotate.count);
  }
  // /usr/bin/time reports wrk's own CPU, so that the rest of the machine's CPU can be attributed.
  const timed = existsSync('/usr/bin/time');
  const accounting = startAccounting(spec);
  const out = await new Promise<string>((resolve, reject) => {
    const child = timed
      ? spawn('/usr/bin/time', ['-f', 'WRKCPU %U %S', 'wrk', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('wrk', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text.slice(-400)}`))));
  });
  const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk printed no result line: ${out.slice(-400)}`);
  const r = JSON.parse(line.slice('WRKJSON '.length)) as WrkReport;
  const cpuLine = out.split('\n').find((l) => l.startsWith('WRKCPU '));
  const wrkCpuS = cpuLine ? cpuLine.split(' ').slice(1).map(Number).reduce((a, b) => a + b, 0) : 0;
  return {
    tool: 'wrk',
    rps: round(r.requests / (r.duration_us / 1e6), 1),
    p50: r.lat_p50_us / 1000,
    p90: r.lat_p90_us / 1000,
    p99: r.lat_p99_us / 1000,
    max: r.lat_max_us / 1000,
    mean: round(r.lat_mean_us / 1000, 3),
    requests: r.requests,
    errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
    bytesPerReq: r.requests ? Math.round(r.bytes / r.requests) : null,
    ...accounting.finish(r.requests, wrkCpuS),
  };
}
