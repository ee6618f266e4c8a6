/**
 * `npm run bench:gateway`: added latency and throughput of the built-in gateway, one JSON line on
 * stdout (progress on stderr). One backend (plain node:http in a child process) and the same load
 * generator (wrk when installed, else autocannon) against: the backend directly, the gateway in front
 * of it (its own process), and nginx (the anchor in ../shared/anchors/nginx-proxy) when /usr/sbin/nginx
 * exists. The targets take turns for `--rounds` rounds (the order rotates each round, so a burst of
 * load from elsewhere on a shared machine does not always land on the same target); every ratio is
 * taken within one round and the median over the rounds is reported. Each target's CPU time per request
 * (its own processes, from /proc) is reported too: on a shared machine it moves far less than requests/s.
 * Each target is also loaded by one client (`oneClient`): the latency a proxy adds to a request that
 * does not queue behind others.
 *
 *   node dist/bench/gateway/index.js [--duration 5] [--connections 10] [--rounds 3] [--load-generator wrk|autocannon]
 *     [--baseline-gateway path/to/other/gateway.js]   also measures another build of the gateway
 *                                                     (e.g. the previous commit's) in the same rounds
 */
import { execFile, execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import { Registry } from 'prom-client';
import { createGateway, type Endpoint, type GatewayOptions } from '../../src/runtime/index.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'load-generator': { type: 'string' },
    'baseline-gateway': { type: 'string' },
    'serve-gateway': { type: 'string' },
    'gateway-module': { type: 'string' },
  },
  strict: true,
});
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const rounds = Number(flags.rounds);
const progress = (m: string) => process.stderr.write(`[bench:gateway] ${m}\n`);
const HOST = 'bench.local.localhost';

const backendSource = `
const http = require('node:http');
const body = Buffer.from(JSON.stringify({ ok: true, padding: 'x'.repeat(200) }));
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;

async function startBackend(): Promise<{ port: number; pid: number; stop(): void }> {
  const child = spawn(process.execPath, ['-e', backendSource], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
  return { port, pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /**
   * CPU time (user + system) the target's own process(es) spent per request: the backend's for `direct`, the
   * proxy's for the others. Steadier than requests/s on a shared machine, where the proxy waits for a core.
   */
  cpuUsPerRequest: number | null;
}

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used so far by these processes (Linux /proc; null elsewhere). */
function cpuSeconds(pids: readonly number[]): number | null {
  try {
    let ticks = 0;
    for (const pid of pids) {
      // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks / clockTicksPerSecond;
  } catch {
    return null;
  }
}

/** nginx's master and its workers. */
function nginxPids(stateDir: string): number[] {
  const master = Number(readFileSync(join(stateDir, 'nginx.pid'), 'utf8').trim());
  const children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [master, ...children];
}

const wrkInstalled = (() => {
  try {
    execFileSync('which', ['wrk'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const loadGenerator = flags['load-generator'] ?? (wrkInstalled ? 'wrk' : 'autocannon');
if (loadGenerator !== 'wrk' && loadGenerator !== 'autocannon') throw new Error(`--load-generator: "${loadGenerator}" is not one of wrk, autocannon`);

/** wrk prints latencies as `812.00us`, `1.21ms` or `1.02s`. */
function wrkMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`wrk latency "${text}" is not a number with us, ms, s or m`);
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as 'us' | 'ms' | 's' | 'm'];
}

function parseWrk(out: string): Omit<Figures, 'cpuUsPerRequest'> & { requests: number } {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+(\S+)$/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)$/m.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`wrk printed no requests/sec or latency distribution:\n${out}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0;
  return { requestsPerSecond: Math.round(Number(rps[1])), p50Ms: wrkMs(p50[1]!), p99Ms: wrkMs(p99[1]!), errors: non2xx + socketErrors, requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0) };
}

async function runWrk(url: string, seconds: number, clients: number): Promise<ReturnType<typeof parseWrk>> {
  // One thread: wrk keeps up with every target here on one core and leaves the other to the proxy and backend.
  const { stdout } = await promisify(execFile)('wrk', ['-t1', `-c${clients}`, `-d${seconds}s`, '--latency', '-H', `Host: ${HOST}`, url]);
  return parseWrk(stdout);
}

async function load(port: number, pids: readonly number[], clients: number): Promise<Figures> {
  const url = `http://127.0.0.1:${port}/`;
  if (loadGenerator === 'wrk') await runWrk(url, 1, clients);
  else await autocannon({ url, connections: clients, duration: 1, headers: { host: HOST } }); // warm-up
  const cpuBefore = cpuSeconds(pids);
  let figures: ReturnType<typeof parseWrk>;
  if (loadGenerator === 'wrk') figures = await runWrk(url, duration, clients);
  else {
    const r = await autocannon({ url, connections: clients, duration, headers: { host: HOST } });
    figures = { requestsPerSecond: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.non2xx, requests: r.requests.total };
  }
  const cpuAfter = cpuSeconds(pids);
  const { requests, ...rest } = figures;
  const cpuUsPerRequest = cpuBefore !== null && cpuAfter !== null && requests > 0 ? Math.round(((cpuAfter - cpuBefore) * 1e6) / requests) : null;
  return { ...rest, cpuUsPerRequest };
}


/** ../shared/anchors/nginx-proxy beside the repository, wherever this file was compiled to. */
function findNginxAnchor(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'anchors', 'nginx-proxy', 'run.sh');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

async function startGateway(backendPort: number, module: string | undefined): Promise<{ port: number; child: ChildProcess }> {
  const args = ['--serve-gateway', String(backendPort), ...(module ? ['--gateway-module', module] : [])];
  const child = fork(process.argv[1]!, args, { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (code) => reject(new Error(`the gateway process (${module ?? 'this build'}) exited with ${code} before listening`)));
  });
  return { port, child };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round2 = (n: number) => Math.round(n * 100) / 100;

/** The median of each figure over the rounds (each figure on its own, so it may mix rounds). */
function medianFigures(all: readonly Figures[]): Figures {
  return {
    requestsPerSecond: Math.round(median(all.map((f) => f.requestsPerSecond))),
    p50Ms: round2(median(all.map((f) => f.p50Ms))),
    p99Ms: round2(median(all.map((f) => f.p99Ms))),
    errors: all.reduce((s, f) => s + f.errors, 0),
    cpuUsPerRequest: all.every((f) => f.cpuUsPerRequest !== null) ? Math.round(median(all.map((f) => f.cpuUsPerRequest!))) : null,
  };
}

async function main(): Promise<void> {
  const backend = await startBackend();
  progress(`backend on ${backend.port}; ${loadGenerator}, ${connections} connections, ${duration} s per target, ${rounds} rounds`);
  const gateway = await startGateway(backend.port, undefined);
  const baseline = flags['baseline-gateway'] !== undefined ? await startGateway(backend.port, flags['baseline-gateway']) : undefined;

  const targets: { name: 'direct' | 'gateway' | 'baselineGateway' | 'nginx'; port: number; pids: number[] }[] = [
    { name: 'direct', port: backend.port, pids: [backend.pid] },
    { name: 'gateway', port: gateway.port, pids: [gateway.child.pid!] },
  ];
  if (baseline) targets.push({ name: 'baselineGateway', port: baseline.port, pids: [baseline.child.pid!] });

  let nginxNote = 'skipped: /usr/sbin/nginx not installed';
  let nginxDir: string | undefined;
  const anchor = findNginxAnchor();
  if (!anchor) nginxNote = 'skipped: no shared/anchors/nginx-proxy beside the repository';
  else if (existsSync('/usr/sbin/nginx')) {
    const nginxPort = 18_000 + Math.floor(Math.random() * 1000);
    nginxDir = execFileSync(anchor, ['start', String(nginxPort), String(backend.port)], { encoding: 'utf8' }).trim();
    targets.push({ name: 'nginx', port: nginxPort, pids: nginxPids(nginxDir) });
    nginxNote = 'anchor nginx-proxy, one worker';
  }

  const results: Record<string, Figures>[] = [];
  // Latency a proxy adds to one request, without queueing behind others: one client, one request at a time.
  const sequential: Record<string, Figures>[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const figures: Record<string, Figures> = {};
      const oneClient: Record<string, Figures> = {};
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(i + r) % targets.length]!;
        figures[target.name] = await load(target.port, target.pids, connections);
        progress(`round ${r + 1} ${target.name}: ${JSON.stringify(figures[target.name])}`);
        oneClient[target.name] = await load(target.port, target.pids, 1);
        progress(`round ${r + 1} ${target.name}, 1 client: ${JSON.stringify(oneClient[target.name])}`);
      }
      results.push(figures);
      sequential.push(oneClient);
    }
  } finally {
    if (nginxDir && anchor) execFileSync(anchor, ['stop', nginxDir]);
    gateway.child.disconnect();
    baseline?.child.disconnect();
    backend.stop();
  }

  const of = (name: string) => results.map((r) => r[name]!);
  const ratio = (a: string, b: string) => round2(median(results.map((r) => r[a]!.requestsPerSecond / r[b]!.requestsPerSecond)));
  const cpuRatio = (a: string, b: string) => round2(median(results.map((r) => r[a]!.cpuUsPerRequest! / Math.max(1, r[b]!.cpuUsPerRequest!))));
  const direct = medianFigures(of('direct'));
  const viaGateway = medianFigures(of('gateway'));
  const hasNginx = targets.some((t) => t.name === 'nginx');
  console.log(
    JSON.stringify({
      bench: 'gateway',
      loadGenerator,
      wrkInstalled,
      connections,
      durationS: duration,
      rounds,
      cpus: cpus().length,
      loadavg1: round2(loadavg()[0]!),
      direct,
      gateway: viaGateway,
      nginx: hasNginx ? medianFigures(of('nginx')) : null,
      nginxNote,
      // At saturation (`connections` clients) the added latency is mostly queueing behind the proxy's
      // lower throughput, which throughputVsNginx already measures; with one client it is the proxy's own cost.
      addedP50Ms: round2(median(results.map((r) => r.gateway!.p50Ms - r.direct!.p50Ms))),
      addedP99Ms: round2(median(results.map((r) => r.gateway!.p99Ms - r.direct!.p99Ms))),
      oneClient: {
        direct: medianFigures(sequential.map((r) => r.direct!)),
        gateway: medianFigures(sequential.map((r) => r.gateway!)),
        nginx: hasNginx ? medianFigures(sequential.map((r) => r.nginx!)) : null,
        addedP50Ms: round2(median(sequential.map((r) => r.gateway!.p50Ms - r.direct!.p50Ms))),
        addedP99Ms: round2(median(sequential.map((r) => r.gateway!.p99Ms - r.direct!.p99Ms))),
        nginxAddedP50Ms: hasNginx ? round2(median(sequential.map((r) => r.nginx!.p50Ms - r.direct!.p50Ms))) : null,
        nginxAddedP99Ms: hasNginx ? round2(median(sequential.map((r) => r.nginx!.p99Ms - r.direct!.p99Ms))) : null,
      },
      throughputVsDirect: ratio('gateway', 'direct'),
      throughputVsNginx: hasNginx ? ratio('gateway', 'nginx') : null,
      cpuPerRequestVsNginx: hasNginx && viaGateway.cpuUsPerRequest !== null ? cpuRatio('gateway', 'nginx') : null,
      ...(baseline
        ? {
            baselineGateway: { module: flags['baseline-gateway'], ...medianFigures(of('baselineGateway')) },
            gatewayVsBaseline: ratio('gateway', 'baselineGateway'),
            baselineVsNginx: hasNginx ? ratio('baselineGateway', 'nginx') : null,
          }
        : {}),
      perRound: results,
      targets: { addedP50Ms: 1, addedP99Ms: 3, throughputVsNginx: 0.6 },
    }),
  );
}

// Last, so that everything above is initialised before main() runs.
/** The gateway runs in its own process, like nginx and the backend, so the load generator does not share its thread. */
if (flags['serve-gateway'] !== undefined) {
  const create: (options: GatewayOptions) => ReturnType<typeof createGateway> =
    flags['gateway-module'] !== undefined ? ((await import(pathToFileURL(resolvePath(flags['gateway-module'])).href)) as { createGateway: typeof createGateway }).createGateway : createGateway;
  const endpoint: Endpoint = { releaseId: 'bench', replica: 0, host: '127.0.0.1', port: Number(flags['serve-gateway']) };
  const gateway = create({ host: '127.0.0.1', port: 0, endpoints: { readyEndpoints: () => [endpoint], markUnreachable: () => undefined }, registry: new Registry() });
  gateway.setSplit('bench', 'local', { stable: 'bench', canaryWeightPercent: 0, sticky: false });
  process.send!(await gateway.listen());
  process.on('disconnect', () => void gateway.close().then(() => process.exit(0)));
} else {
  await main();
}
