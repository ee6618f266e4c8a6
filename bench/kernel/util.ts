/**
 * Helpers every part of the kernel benchmark shares: progress lines, statistics, child processes,
 * temp dirs and PostgreSQL databases that are cleaned up even when a part fails.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { createKernel, createLogger, parseConfig, type Kernel } from '../../src/kernel/index.js';

/** Progress goes to stderr; stdout carries only the final JSON line. */
export function progress(message: string): void {
  process.stderr.write(`[bench:kernel] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const wallMs = () => performance.timeOrigin + performance.now();

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `values` (milliseconds), rounded to 0.01. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { n: sorted.length, p50: round(at(50), 3), p99: round(at(99), 3), max: round(sorted[sorted.length - 1]!, 3), mean: round(mean, 3) };
}

export const median = (values: readonly number[]) => summarize(values).p50;

/** A compiled sibling script of this benchmark (`dist/bench/kernel/<name>.js`). */
export const benchScript = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

// ---- resources released on every exit path ----------------------------------------------------

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];
/** Children the bench itself signalled; any other exit is worth a progress line. */
const signalled = new WeakSet<ChildProcess>();

/** Registers a cleanup step; they run in reverse order from `cleanupAll`. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** Spawns a child process that is SIGKILLed at cleanup if it still runs. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function signalChild(child: ChildProcess, signal: 'SIGKILL' | 'SIGTERM'): void {
  signalled.add(child);
  child.kill(signal);
}

export const wasSignalled = (child: ChildProcess) => signalled.has(child);

/** Waits for a child to exit; SIGKILLs it after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalChild(child, 'SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

let cleaning: Promise<void> | undefined;
/**
 * Kills every child and runs every cleanup step, newest first, until none is left (a step may race
 * with code still creating resources). Concurrent callers share one pass, so nobody exits mid-cleanup.
 */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (children.size > 0 || cleanups.length > 0) {
      for (const child of [...children]) signalChild(child, 'SIGKILL');
      const fn = cleanups.pop();
      if (!fn) {
        await sleep(50); // let the killed children's exit events arrive
        continue;
      }
      try {
        await fn();
      } catch (err) {
        progress(`cleanup step failed: ${(err as Error).message}`);
      }
    }
  })().finally(() => {
    cleaning = undefined;
  });
  return cleaning;
}

export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `plinth-bench-${label}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Environment for child processes without any PLINTH_* of the caller's shell. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PLINTH_')));
  return { ...env, ...extra };
}

// ---- PostgreSQL -------------------------------------------------------------------------------

export const postgresAdminUrl = process.env.PLINTH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why PostgreSQL cannot be used, or undefined when it can. */
export async function postgresUnavailableReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${postgresAdminUrl} is unreachable (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

/** A fresh database `plinth_bench_<random>`, dropped at cleanup (or earlier with `drop`). */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `plinth_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  };
  onCleanup(drop);
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop };
}

// ---- kernels ----------------------------------------------------------------------------------

export const ADMIN_PASSWORD = 'bench-admin-password';

/** Config of a silent kernel on `dataDir` (SQLite) or `databaseUrl`, without the embedded worker. */
export function benchConfig(db: { dataDir: string; databaseUrl?: string }, workerEnabled = false) {
  const args = ['--data-dir', db.dataDir, '--port', '0', '--gateway-port', '0', ...(db.databaseUrl ? ['--database-url', db.databaseUrl] : [])];
  const config = parseConfig(args, { PLINTH_LOG_LEVEL: 'silent', PLINTH_ADMIN_PASSWORD: ADMIN_PASSWORD, PLINTH_LOG_FORMAT: 'json' });
  // No demo organisation or templates: the figures are of a server at rest, not of one ingesting its first catalog.
  return { ...config, demo: false, builtinTemplates: false, jobs: { ...config.jobs, workerEnabled, drainMs: 2000 } };
}

/** A migrated kernel (no HTTP listener, no embedded worker); `close` is idempotent and also runs at cleanup. */
export async function openKernel(db: { dataDir: string; databaseUrl?: string }): Promise<Kernel & { close(): Promise<void> }> {
  const kernel = await createKernel(benchConfig(db), {
    logger: createLogger({ level: 'silent', pretty: false }),
    version: 'bench',
    webDir: join(db.dataDir, 'no-portal'),
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= kernel.stop());
  onCleanup(close);
  await kernel.start([]);
  return { ...kernel, close };
}

/** Per-connection SQLite settings a raw baseline must share with the kernel's connection. */
const connectionPragmas = ['synchronous', 'cache_size', 'foreign_keys', 'busy_timeout'] as const;

/**
 * A raw better-sqlite3 connection on a fresh file with the schema the kernel migrates and the
 * pragmas the kernel's own connection runs with (read from it, so the baseline follows the kernel).
 */
export async function openRawSqlite(label: string): Promise<{ db: Database.Database; pragmas: Record<string, number | string> }> {
  const dataDir = tempDir(label);
  const kernel = await openKernel({ dataDir });
  const pragmas: Record<string, number | string> = {};
  try {
    for (const name of [...connectionPragmas, 'journal_mode'] as const) {
      const { rows } = await sql<Record<string, number | string>>`pragma ${sql.raw(name)}`.execute(kernel.store.tables<unknown>());
      pragmas[name] = Object.values(rows[0] ?? {})[0] ?? 'unknown';
    }
  } finally {
    await kernel.close();
  }
  const db = new Database(join(dataDir, 'plinth.db'));
  onCleanup(() => {
    if (db.open) db.close();
  });
  db.pragma(`journal_mode = ${pragmas.journal_mode}`);
  for (const name of connectionPragmas) db.pragma(`${name} = ${Number(pragmas[name])}`);
  return { db, pragmas };
}
