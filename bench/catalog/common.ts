/**
 * Helpers of the catalog benchmark: progress lines, a plain HTTP client without timeouts of its own,
 * and /proc readings (CPU seconds, peak RSS, machine load) used for every figure and the quiet gate.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round, sleep } from '../kernel/util.js';

/** Progress goes to stderr; stdout carries only the final JSON line. */
export function progress(message: string): void {
  process.stderr.write(`[bench:catalog ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Monotonic seconds. */
export const nowS = () => performance.now() / 1000;

/** The repository root (the folder with package.json), from bench/catalog or dist/bench/catalog. */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
})();

/** The Backstage anchor harness, read in place (never copied into the repository). */
export const anchorDir = resolve(repoRoot, '../shared/anchors/backstage-bench');

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One HTTP request on a fresh connection. `timeoutMs` 0 means no limit: registering 100,000 entities
 * answers only when they are stored, and fetch()'s 300 s header timeout would cut a slow run short.
 */
export function http(method: string, url: string, options: { headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {}): Promise<HttpResponse> {
  return new Promise((resolvePromise, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(body);
  });
}

/** GET returning parsed JSON and the body size; throws on any status but 2xx. */
export async function getJson<T>(url: string, headers: Record<string, string>, timeoutMs = 120_000): Promise<{ json: T; bytes: number }> {
  const res = await http('GET', url, { headers, timeoutMs });
  if (res.status < 200 || res.status >= 300) throw new Error(`GET ${url}: ${res.status} ${res.text.slice(0, 300)}`);
  return { json: JSON.parse(res.text) as T, bytes: Buffer.byteLength(res.text) };
}

// ---- /proc ------------------------------------------------------------------------------------

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far (NaN once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Current and peak resident memory of a process (VmRSS, VmHWM) in MB. */
export function memoryMb(pid: number): { rssMb: number; peakMb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: round(kb('VmRSS') / 1024, 1), peakMb: round(kb('VmHWM') / 1024, 1) };
  } catch {
    return { rssMb: NaN, peakMb: NaN };
  }
}

/** Machine-wide busy and steal CPU seconds from /proc/stat. */
export function machineCpu(): { busyS: number; stealS: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busyS: (user + nice + system + irq + softirq + steal) / CLK_TCK, stealS: steal / CLK_TCK };
}

/** Cores used by everything but `pid` (and this idle process) over `seconds`. */
export async function foreignCores(pid: number | undefined, seconds: number): Promise<number> {
  const m0 = machineCpu();
  const p0 = pid ? cpuSeconds(pid) : 0;
  await sleep(seconds * 1000);
  const m1 = machineCpu();
  const p1 = pid ? cpuSeconds(pid) : 0;
  return (m1.busyS - m0.busyS - (p1 - p0)) / seconds;
}

export interface QuietGate {
  maxCores: number;
  maxWaitS: number;
}

/** The machine is shared: wait (bounded) until other processes use less than `maxCores`, as the anchor does. */
export async function waitQuiet(pid: number | undefined, gate: QuietGate): Promise<{ quietWaitS: number; foreignCoresBefore: number }> {
  const t0 = nowS();
  let foreign = await foreignCores(pid, 2);
  while (foreign > gate.maxCores && nowS() - t0 < gate.maxWaitS) foreign = await foreignCores(pid, 2);
  return { quietWaitS: round(nowS() - t0 - 2, 1), foreignCoresBefore: round(foreign, 2) };
}

/** CPU % of a process over an idle stretch of `seconds`. */
export async function idleCpuPct(pid: number, seconds: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  await sleep(seconds * 1000);
  return round(((cpuSeconds(pid) - c0) / seconds) * 100, 1);
}

/** `a / b` rounded, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined, digits = 2): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return round(a / b, digits);
}
