/**
 * `npm run bench:kernel`: the kernel's figures (start-up, /healthz, job queue, crash safety, ledger
 * appends, SSE delivery), each beside a baseline measured in the same run, printed as one JSON line
 * on stdout; progress goes to stderr. `--only "healthz,jobs postgres"` runs just the named parts. PostgreSQL parts are skipped, with the reason, when it is down.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { measureCrashPostgres, measureCrashSqlite } from './crash.js';
import { measureJobsPostgres, measureJobsSqlite } from './jobs.js';
import { measureLedgerPostgres, measureLedgerSqlite } from './ledger.js';
import { measureSsePostgres, measureSseSqlite } from './sse.js';
import { measureHealthz, measureStartup } from './startup.js';
import { cleanupAll, postgresUnavailableReason, progress, round } from './util.js';

type Part = Record<string, unknown>;
let failed = false;
let interrupted: string | undefined;
/** `--only healthz,jobs postgres`: run just those parts (the rest report as skipped). */
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',').map((s) => s.trim())) : undefined;

/** Runs one part; a failure is reported in its place instead of ending the run. */
async function part<T extends Part>(name: string, run: () => Promise<T>, skipReason?: string): Promise<T | { skipped: string } | { error: string }> {
  const skip = interrupted ? `interrupted by ${interrupted}` : only && !only.has(name) ? 'not in --only' : skipReason;
  if (skip) {
    progress(`${name}: skipped (${skip})`);
    return { skipped: skip };
  }
  const t0 = performance.now();
  progress(`${name}: running`);
  try {
    const result = await run();
    progress(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    failed = true;
    progress(`${name}: failed: ${(err as Error).stack ?? String(err)}`);
    return { error: (err as Error).message };
  }
}

/** A figure of a part that ran, or undefined when it was skipped or failed. */
function figure(result: Part, key: string): number | boolean | undefined {
  const value = result[key];
  return typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

/** `measured op limit` as a boolean, or null when the figure was not measured. */
function target(value: number | boolean | undefined, check: (v: number) => boolean): boolean | null {
  if (typeof value !== 'number' || Number.isNaN(value)) return null;
  return check(value);
}

const isTrue = (value: number | boolean | undefined): boolean | null => (typeof value === 'boolean' ? value : null);

async function main() {
  const startedAt = performance.now();
  const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform, loadavg1mAtStart: round(loadavg()[0] ?? 0) };
  const pgSkip = await postgresUnavailableReason();

  const coldStart = await part('start-up', () => measureStartup(3));
  const healthz = await part('healthz', () => measureHealthz(5, 50));
  const jobsSqlite = await part('jobs sqlite', () => measureJobsSqlite(20_000, 32, 32));
  const jobsPostgres = await part('jobs postgres', () => measureJobsPostgres(10_000, 4, 16, 32), pgSkip);
  const crashOptions = { workers: 4, concurrency: 16, leaseMs: 1000, workMs: 10, pollMs: 100, maxKills: 8, timeoutMs: 60_000 };
  const crashPostgres = await part('crash postgres', () => measureCrashPostgres({ ...crashOptions, jobs: 3000 }), pgSkip);
  const crashSqlite = await part('crash sqlite', () => measureCrashSqlite({ ...crashOptions, jobs: 2000, workers: 4, concurrency: 8, pollMs: 50 }));
  const ledgerSqlite = await part('ledger sqlite', () => measureLedgerSqlite(100_000, 1000));
  const ledgerPostgres = await part('ledger postgres', () => measureLedgerPostgres(100_000, 1000), pgSkip);
  const sseSqlite = await part('sse sqlite', () => measureSseSqlite(1000, 200));
  const ssePostgres = await part('sse postgres', () => measureSsePostgres(1000, 200), pgSkip);

  const targets = {
    'coldStartMs<1500': target(figure(coldStart, 'coldStartMs'), (v) => v < 1500),
    'restartMs<1500': target(figure(coldStart, 'restartMs'), (v) => v < 1500),
    'healthzP99Ms<2': target(figure(healthz, 'p99Ms'), (v) => v < 2),
    'jobsSqlitePerS>=2000': target(figure(jobsSqlite, 'jobsPerS'), (v) => v >= 2000),
    'jobsPostgresPerS>=1000': target(figure(jobsPostgres, 'jobsPerS'), (v) => v >= 1000),
    jobsPostgresEffectsExact: isTrue(figure(jobsPostgres, 'effectsExact')),
    crashPostgresExactlyOnce: isTrue(figure(crashPostgres, 'exactlyOnce')),
    crashSqliteExactlyOnce: isTrue(figure(crashSqlite, 'exactlyOnce')),
    'ledgerSqliteEventsPerS>=20000': target(figure(ledgerSqlite, 'eventsPerS'), (v) => v >= 20_000),
    'ledgerPostgresEventsPerS>=20000': target(figure(ledgerPostgres, 'eventsPerS'), (v) => v >= 20_000),
    'sseSqliteP99Ms<50': target(figure(sseSqlite, 'p99Ms'), (v) => v < 50),
    'ssePostgresP99Ms<50': target(figure(ssePostgres, 'p99Ms'), (v) => v < 50),
  };
  const report = {
    bench: 'kernel',
    machine,
    coldStart,
    healthz,
    jobsSqlite,
    jobsPostgres,
    crash: { postgres: crashPostgres, sqlite: crashSqlite },
    ledger: { sqlite: ledgerSqlite, postgres: ledgerPostgres },
    sse: { sqlite: sseSqlite, postgres: ssePostgres },
    targets,
    loadavg1mAtEnd: round(loadavg()[0] ?? 0),
    totalS: round((performance.now() - startedAt) / 1000, 1),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

// On a signal, finish nothing new: the part in flight fails as its resources go away, the rest are
// skipped, and whoever reaches cleanup first shares it with the other before the process exits.
const onSignal = (signal: string) => {
  if (interrupted) process.exit(130);
  interrupted = signal;
  progress(`${signal}: cleaning up (again to exit at once)`);
  void cleanupAll().finally(() => process.exit(130));
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

try {
  await main();
} catch (err) {
  failed = true;
  progress(`failed: ${(err as Error).stack ?? String(err)}`);
} finally {
  await cleanupAll();
}
process.exit(interrupted ? 130 : failed ? 1 : 0);
