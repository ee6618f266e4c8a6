/**
 * `npm run bench:gateway`: added latency and throughput of the built-in gateway, one JSON line on
 * stdout (progress on stderr). One backend (plain node:http in a child process), the same load
 * generator (autocannon, or wrk when installed) against: the backend directly, the gateway in front of
 * it (keep-alive agent), and nginx (the anchor in ../shared/anchors/nginx-proxy) when /usr/sbin/nginx
 * exists. Ratios are against the direct run of the same invocation.
 *
 *   node dist/bench/gateway/index.js [--duration 5] [--connections 10]
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Registry } from 'prom-client';
import { createGateway, type Endpoint } from '../../src/runtime/index.js';

const { values: flags } = parseArgs({ options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '10' }, 'serve-gateway': { type: 'string' } }, strict: true });
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const progress = (m: string) => process.stderr.write(`[bench:gateway] ${m}\n`);

const backendSource = `
const http = require('node:http');
const body = Buffer.from(JSON.stringify({ ok: true, padding: 'x'.repeat(200) }));
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;

async function startBackend(): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, ['-e', backendSource], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
  return { port, stop: () => child.kill('SIGKILL') };
}

interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function load(port: number, host: string): Promise<Figures> {
  const url = `http://127.0.0.1:${port}/`;
  await autocannon({ url, connections, duration: 1, headers: { host } }); // warm-up
  const r = await autocannon({ url, connections, duration, headers: { host } });
  return { requestsPerSecond: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.non2xx };
}

/** The gateway runs in its own process, like nginx and the backend, so the load generator does not share its thread. */
if (flags['serve-gateway'] !== undefined) {
  const endpoint: Endpoint = { releaseId: 'bench', replica: 0, host: '127.0.0.1', port: Number(flags['serve-gateway']) };
  const gateway = createGateway({ host: '127.0.0.1', port: 0, endpoints: { readyEndpoints: () => [endpoint], markUnreachable: () => undefined }, registry: new Registry() });
  gateway.setSplit('bench', 'local', { stable: 'bench', canaryWeightPercent: 0, sticky: false });
  process.send!(await gateway.listen());
  process.on('disconnect', () => void gateway.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
const backend = await startBackend();
progress(`backend on ${backend.port}; ${connections} connections, ${duration} s per target`);
const gatewayChild = fork(process.argv[1]!, ['--serve-gateway', String(backend.port)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const gatewayPort = await new Promise<number>((resolve) => gatewayChild.once('message', (m) => resolve(Number(m))));

const direct = await load(backend.port, 'bench.local.localhost');
progress(`direct: ${JSON.stringify(direct)}`);
const viaGateway = await load(gatewayPort, 'bench.local.localhost');
progress(`gateway: ${JSON.stringify(viaGateway)}`);

let nginx: Figures | null = null;
let nginxNote = 'skipped: /usr/sbin/nginx not installed';
// ../shared beside the repository, from bench/gateway in the sources and from dist/bench/gateway.
const here = new URL('.', import.meta.url).pathname;
const anchor = new URL(here.includes('/dist/bench/') ? '../../../../shared/anchors/nginx-proxy/run.sh' : '../../../shared/anchors/nginx-proxy/run.sh', import.meta.url).pathname;
if (existsSync('/usr/sbin/nginx') && existsSync(anchor)) {
  const nginxPort = 18_000 + Math.floor(Math.random() * 1000);
  const dir = execFileSync(anchor, ['start', String(nginxPort), String(backend.port)], { encoding: 'utf8' }).trim();
  try {
    nginx = await load(nginxPort, 'bench.local.localhost');
    nginxNote = 'anchor nginx-proxy, one worker';
    progress(`nginx: ${JSON.stringify(nginx)}`);
  } finally {
    execFileSync(anchor, ['stop', dir]);
  }
}
gatewayChild.disconnect();
backend.stop();

const round = (n: number) => Math.round(n * 100) / 100;
console.log(
  JSON.stringify({
    bench: 'gateway',
    loadGenerator: 'autocannon',
    wrkInstalled: (() => { try { execFileSync('which', ['wrk']); return true; } catch { return false; } })(),
    connections, durationS: duration, cpus: cpus().length, loadavg1: round(loadavg()[0]!),
    direct, gateway: viaGateway, nginx, nginxNote,
    addedP50Ms: round(viaGateway.p50Ms - direct.p50Ms),
    addedP99Ms: round(viaGateway.p99Ms - direct.p99Ms),
    throughputVsDirect: round(viaGateway.requestsPerSecond / direct.requestsPerSecond),
    throughputVsNginx: nginx ? round(viaGateway.requestsPerSecond / nginx.requestsPerSecond) : null,
    targets: { addedP50Ms: 1, addedP99Ms: 3, throughputVsNginx: 0.6 },
  }),
);
}
