/**
 * Figures 1 and 2: start-up time of `node dist/src/main.js` (cold and restart) and /healthz under load,
 * each against a bare node:http process measured the same way in the same run.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ADMIN_PASSWORD, cleanEnv, freePort, median, progress, round, signalChild, sleep, spawnTracked, summarize, tempDir, waitForExit } from './util.js';

const mainJs = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** The HTTP status of GET `url`, or undefined when nothing answers yet. */
function statusOf(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
  });
}

interface Started {
  child: ChildProcess;
  /** From spawn to the first 200 of `readyUrl`. */
  readyMs: number;
}

/** Spawns `node args…` and polls `readyUrl` every few ms until it answers 200. */
async function startAndWait(args: readonly string[], readyUrl: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Forwarded as it comes, and its tail kept for the error when the server dies before it is ready.
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-8000);
  });
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = String(code ?? signal)));
  const deadline = t0 + 30_000;
  for (;;) {
    if ((await statusOf(readyUrl)) === 200) return { child, readyMs: performance.now() - t0 };
    if (exit !== undefined) {
      const reason = stderrTail.split('\n').find((line) => /^(\w+: )?\w*Error\b/.test(line.trim()))?.trim() ?? stderrTail.trim().slice(-300);
      throw new Error(`node ${args[0] === '-e' ? '-e <bare server>' : args[0]} exited with ${exit} before ${readyUrl} answered 200: ${reason}`);
    }
    if (performance.now() > deadline) throw new Error(`${readyUrl} did not answer 200 within 30 s`);
    await sleep(5);
  }
}

const plinthEnv = () => cleanEnv({ PLINTH_ADMIN_PASSWORD: ADMIN_PASSWORD, PLINTH_LOG_LEVEL: 'silent', PLINTH_LOG_FORMAT: 'json' });

async function startPlinth(dataDir: string, extraArgs: readonly string[] = []): Promise<Started & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = await startAndWait([mainJs, '--data-dir', dataDir, '--port', String(port), '--gateway-port', '0', ...extraArgs], `${url}/readyz`, plinthEnv());
  return { ...started, url };
}

/** A bare node:http process; `body` is what it answers on every path. */
async function startBare(body: string, contentType?: string): Promise<Started & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const headers = contentType ? `s.setHeader('content-type', ${JSON.stringify(contentType)});` : '';
  const script = `require('http').createServer((q,s)=>{${headers}s.end(${JSON.stringify(body)})}).listen(${port}, '127.0.0.1')`;
  const started = await startAndWait(['-e', script], `${url}/`, cleanEnv({}));
  return { ...started, url };
}

async function stop(child: ChildProcess): Promise<void> {
  signalChild(child, 'SIGTERM');
  await waitForExit(child, 10_000);
}

/** Figure 1: three rounds of {bare node, Plinth on a fresh data dir, Plinth again on that dir}; medians. */
export async function measureStartup(rounds = 3) {
  const bare: number[] = [];
  const cold: number[] = [];
  const restart: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const b = await startBare('ok');
    bare.push(b.readyMs);
    await stop(b.child);
    const dataDir = tempDir('start');
    const c = await startPlinth(dataDir);
    cold.push(c.readyMs);
    await stop(c.child);
    const r = await startPlinth(dataDir);
    restart.push(r.readyMs);
    await stop(r.child);
    progress(`start-up round ${i + 1}: bare ${b.readyMs.toFixed(0)} ms, cold ${c.readyMs.toFixed(0)} ms, restart ${r.readyMs.toFixed(0)} ms`);
  }
  const coldStartMs = round(median(cold), 1);
  const restartMs = round(median(restart), 1);
  const baselineMs = round(median(bare), 1);
  return {
    coldStartMs,
    restartMs,
    baselineMs,
    coldRatio: round(coldStartMs / baselineMs),
    restartRatio: round(restartMs / baselineMs),
    samples: { coldMs: cold.map((v) => round(v, 1)), restartMs: restart.map((v) => round(v, 1)), baselineMs: bare.map((v) => round(v, 1)) },
    note: 'median of rounds; time from spawn to the first 200 of /readyz (baseline: bare node:http, first 200 of /), polled every 5 ms',
  };
}

interface LoadResult {
  /** Which load generator measured it. */
  tool: 'wrk' | 'autocannon';
  reqPerS: number;
  requests: number;
  errors: number;
  non2xx: number;
  /** Percentiles over every response, sub-millisecond. */
  latencyMs: ReturnType<typeof summarize>;
}

const WRK = '/usr/bin/wrk';
/** wrk's Lua `done` hook prints its latency histogram (microseconds) as JSON. */
const WRK_REPORT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests":%d,"errors":%d,"non2xx":%d,"durationUs":%d,"p50":%d,"p99":%d,"max":%d,"mean":%f}\\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
`;

/**
 * Closed-loop load with `connections` keep-alive clients. wrk (C, its own process — Debian's `wrk`) is
 * preferred: autocannon shares the bench process's event loop and adds its own cost to every latency.
 */
async function load(url: string, durationS: number, connections: number): Promise<LoadResult> {
  return existsSync(WRK) ? loadWithWrk(url, durationS, connections) : loadWithAutocannon(url, durationS, connections);
}

async function loadWithWrk(url: string, durationS: number, connections: number): Promise<LoadResult> {
  const script = join(tempDir('wrk'), 'report.lua');
  writeFileSync(script, WRK_REPORT);
  const out = await new Promise<string>((resolve, reject) => {
    execFile(WRK, ['-t1', `-c${connections}`, `-d${durationS}s`, '-s', script, url], { timeout: (durationS + 30) * 1000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no report:\n${out}`);
  const r = JSON.parse(line) as { requests: number; errors: number; non2xx: number; durationUs: number; p50: number; p99: number; max: number; mean: number };
  return {
    tool: 'wrk',
    reqPerS: round(r.requests / (r.durationUs / 1e6), 0),
    requests: r.requests,
    errors: r.errors,
    non2xx: r.non2xx,
    latencyMs: { n: r.requests, p50: round(r.p50 / 1000, 3), p99: round(r.p99 / 1000, 3), max: round(r.max / 1000, 3), mean: round(r.mean / 1000, 3) },
  };
}

async function loadWithAutocannon(url: string, durationS: number, connections: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: durationS }, (err: Error | null, res: autocannon.Result) => (err ? reject(err) : resolve(res)));
    // autocannon's own histogram keeps whole milliseconds; its per-response event has hrtime.
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  return {
    tool: 'autocannon',
    reqPerS: round(latencies.length / durationS, 0),
    requests: latencies.length,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    latencyMs: summarize(latencies),
  };
}

/**
 * CPU seconds (user, system) a process has used so far, from Linux's /proc/<pid>/stat; undefined
 * elsewhere. Latency percentiles on a machine shared with other work swing with the neighbours'
 * load; the server's own CPU per request does much less, so it is reported beside them.
 */
function cpuSecondsOf(pid: number | undefined): { user: number; system: number } | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    // Fields after the command name (which may hold spaces), from field 3 on: utime and stime are 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerS = 100; // USER_HZ, 100 on every Linux architecture Node supports
    return { user: Number(fields[11]) / ticksPerS, system: Number(fields[12]) / ticksPerS };
  } catch {
    return undefined;
  }
}

/** `load` of `child`'s URL, with the microseconds of CPU the child spent per request during it. */
async function loadWithCpu(child: ChildProcess, url: string, durationS: number, connections: number) {
  const before = cpuSecondsOf(child.pid);
  const result = await load(url, durationS, connections);
  const after = cpuSecondsOf(child.pid);
  const perReq = (pick: (c: { user: number; system: number }) => number) =>
    before && after && result.requests > 0 ? round(((pick(after) - pick(before)) * 1e6) / result.requests, 1) : undefined;
  return { ...result, cpuUsPerReq: perReq((c) => c.user + c.system), userCpuUsPerReq: perReq((c) => c.user) };
}

/** Figure 2: GET /healthz with 50 connections for `durationS`, against Plinth and a bare node:http. */
export async function measureHealthz(durationS = 5, connections = 50) {
  // At rest: the first start's demo organisation would load during the measurement (start-up keeps it).
  const plinth = await startPlinth(tempDir('healthz'), ['--no-demo']);
  let ours: Awaited<ReturnType<typeof loadWithCpu>>;
  try {
    await load(`${plinth.url}/healthz`, 1, connections); // warm-up: JIT, connection setup
    ours = await loadWithCpu(plinth.child, `${plinth.url}/healthz`, durationS, connections);
  } finally {
    await stop(plinth.child);
  }
  const bare = await startBare('{"status":"ok"}', 'application/json; charset=utf-8');
  let base: Awaited<ReturnType<typeof loadWithCpu>>;
  try {
    await load(`${bare.url}/healthz`, 1, connections);
    base = await loadWithCpu(bare.child, `${bare.url}/healthz`, durationS, connections);
  } finally {
    await stop(bare.child);
  }
  progress(
    `healthz: plinth ${ours.reqPerS} req/s p99 ${ours.latencyMs.p99} ms ${ours.cpuUsPerReq ?? '?'} µs CPU/req; bare ${base.reqPerS} req/s p99 ${base.latencyMs.p99} ms ${base.cpuUsPerReq ?? '?'} µs CPU/req`,
  );
  return {
    connections,
    durationS,
    p50Ms: ours.latencyMs.p50,
    p99Ms: ours.latencyMs.p99,
    reqPerS: ours.reqPerS,
    cpuUsPerReq: ours.cpuUsPerReq ?? null,
    userCpuUsPerReq: ours.userCpuUsPerReq ?? null,
    baseline: {
      p50Ms: base.latencyMs.p50,
      p99Ms: base.latencyMs.p99,
      reqPerS: base.reqPerS,
      cpuUsPerReq: base.cpuUsPerReq ?? null,
      userCpuUsPerReq: base.userCpuUsPerReq ?? null,
      errors: base.errors,
      non2xx: base.non2xx,
    },
    reqPerSRatio: round(ours.reqPerS / base.reqPerS),
    p99Ratio: round(ours.latencyMs.p99 / base.latencyMs.p99),
    cpuPerReqRatio: ours.cpuUsPerReq !== undefined && base.cpuUsPerReq ? round(ours.cpuUsPerReq / base.cpuUsPerReq) : null,
    errors: ours.errors,
    non2xx: ours.non2xx,
    maxMs: ours.latencyMs.max,
    loadTool: ours.tool,
    latencyNote:
      ours.tool === 'wrk'
        ? 'closed loop: wrk (one thread, its own process) keeps every connection busy; percentiles from its histogram (microseconds). Server, wrk and the bench share the machine\'s cores.'
        : "closed loop: autocannon in the bench process (install Debian's wrk for a load generator that does not share the bench's event loop); percentiles from its per-response hrtime.",
    cpuNote: "the server process's own CPU (user + system, from /proc, Linux only) per request over the measured run: what each request costs, which other load on a shared machine moves much less than the percentiles",
  };
}
