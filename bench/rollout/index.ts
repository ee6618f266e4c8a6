/**
 * `npm run bench:rollout`: how fast and how safely the rollout controller judges canaries, one JSON
 * line on stdout (progress on stderr). Real child processes (test/fixtures/runtime/server.mjs), the
 * real gateway, an in-process job worker (poll 50 ms), SQLite in a temp directory.
 *
 *  (a) a canary answering 5xx on 20% of requests → ms from its first answer until the split holds no
 *      canary (100% on stable), over 20 trials (analysis every 500 ms, judged from 20 canary requests);
 *  (b) 50 healthy canaries with 1% background 5xx on both versions → rollbacks (target 0);
 *  (c) kill -9 of one of two replicas → ms until the gateway stops sending it requests, and until it
 *      is restarted and ready again.
 *
 *   node dist/bench/rollout/index.js [--trials 20] [--canaries 50]
 */
import { Agent, request } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDelivery, deliveryMigrations, type Delivery, type RolloutStrategyInput, type RolloutView } from '../../src/delivery/index.js';
import { createKernel, createLogger, parseConfig, type Principal } from '../../src/kernel/index.js';
import { createGateway, createLocalDriver, createRuntime, digestDirectory, runtimeMigrations, type Runtime, type WorkloadSpecInput } from '../../src/runtime/index.js';
import { startLoad } from './load.js';

const { values: flags } = parseArgs({ options: { trials: { type: 'string', default: '20' }, canaries: { type: 'string', default: '50' } }, strict: true });
const trials = Number(flags.trials);
const canaries = Number(flags.canaries);
const progress = (m: string) => process.stderr.write(`[bench:rollout] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number) => Math.round(n * 10) / 10;
const admin: Principal = { kind: 'system', name: 'bench' };
const ANALYSIS_INTERVAL_MS = 500;
const MIN_REQUESTS = 20;

const packageRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();
const fixtureDir = join(packageRoot, 'test', 'fixtures', 'runtime');

function distribution(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  return { n: sorted.length, min: round(sorted[0] ?? NaN), p50: at(0.5), p90: at(0.9), max: round(sorted.at(-1) ?? NaN) };
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

interface Harness { runtime: Runtime; delivery: Delivery; port: number; digest: string; stop(): Promise<void> }

async function startHarness(): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-rollout-'));
  const config = parseConfig(['--data-dir', dataDir, '--port', '0', '--gateway-port', '0'], { PLINTH_LOG_LEVEL: 'silent', PLINTH_ADMIN_PASSWORD: 'bench-password-1' });
  const kernel = await createKernel({ ...config, jobs: { ...config.jobs, workerEnabled: false } }, { logger: createLogger({ level: 'silent', pretty: false }), version: 'bench', webDir: join(dataDir, 'none') });
  await kernel.start([...runtimeMigrations, ...deliveryMigrations]);
  const driver = createLocalDriver({ dataDir: join(dataDir, 'runtime'), prlimit: '/usr/bin/prlimit', restart: { initialBackoffMs: 100, maxBackoffMs: 1000 } });
  const gateway = createGateway({ host: '127.0.0.1', port: 0, endpoints: driver });
  const runtime = createRuntime(kernel, { driver, gateway });
  await runtime.start();
  const port = await runtime.listen();
  const delivery = createDelivery(kernel, { runtime });
  await delivery.start();
  kernel.jobs.startWorker({ concurrency: 8, pollMs: 50, leaseMs: 10_000 });
  return {
    runtime, delivery, port, digest: await digestDirectory(fixtureDir),
    async stop() {
      await kernel.jobs.stop(1000);
      await runtime.stop();
      await kernel.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function specOf(h: Harness, service: string, version: string, env: Record<string, string> = {}, replicas = 1): WorkloadSpecInput {
  return {
    service, environment: 'production', version, artifact: { kind: 'directory', path: fixtureDir, digest: h.digest }, command: [process.execPath, 'server.mjs'], env, replicas,
    readiness: { http: { path: '/healthz' }, periodMs: 50, deadlineMs: 10_000 }, terminationGraceMs: 300, labels: { owner: 'bench', 'cost-center': 'cc-bench' },
  };
}

const canaryStrategy = (bakeMs: number): RolloutStrategyInput => ({ kind: 'canary', bakeMs, analysisIntervalMs: ANALYSIS_INTERVAL_MS, analysis: { minRequests: MIN_REQUESTS }, smokeTest: { path: '/healthz' } });
const deploy = (h: Harness, spec: WorkloadSpecInput, strategy?: RolloutStrategyInput) =>
  h.delivery.startRollout(admin, { spec: spec as Record<string, unknown>, ...(strategy ? { strategy: strategy as never } : {}) });
async function settled(h: Harness, id: string, timeoutMs = 60_000): Promise<RolloutView> {
  let view = await h.delivery.getRollout(admin, id);
  await until(async () => ['succeeded', 'rolled-back', 'failed'].includes((view = await h.delivery.getRollout(admin, id)).phase), timeoutMs, 20);
  return view;
}

/** (a) Rollback time of a canary with 20% 5xx. */
async function rollbackTrials(h: Harness): Promise<number[]> {
  await settled(h, (await deploy(h, specOf(h, 'checkout', 'v0'))).id);
  const times: number[] = [];
  for (let i = 0; i < trials; i++) {
    let firstCanaryAnswer: number | undefined;
    const canary: { release?: string } = {};
    const load = startLoad(h.port, 'checkout.production.localhost', {
      workers: 3, pauseMs: 3,
      onAnswer: (release) => {
        if (release !== undefined && release === canary.release && firstCanaryAnswer === undefined) firstCanaryAnswer = performance.now();
      },
    });
    const rollout = await deploy(h, specOf(h, 'checkout', `bad-${i}`, { FAIL_PERCENT: '20' }), canaryStrategy(60_000));
    canary.release = rollout.releaseId;
    await until(() => h.runtime.traffic(admin, 'checkout', 'production')?.canary === undefined && firstCanaryAnswer !== undefined, 30_000, 2);
    const onStable = performance.now();
    const final = await settled(h, rollout.id);
    await load.stop();
    if (final.phase !== 'rolled-back') throw new Error(`trial ${i}: expected a rollback, got ${final.phase}: ${final.message ?? ''}`);
    times.push(onStable - firstCanaryAnswer!);
    progress(`(a) trial ${i + 1}/${trials}: ${round(onStable - firstCanaryAnswer!)} ms`);
  }
  return times;
}

/** (b) Healthy canaries with 1% background errors on both versions, five services at a time. */
async function healthyCanaries(h: Harness): Promise<{ promoted: number; rolledBack: number; other: number; reasons: string[] }> {
  const services = Array.from({ length: 5 }, (_, i) => `steady-${i}`);
  const errors = { FAIL_PERCENT: '1' };
  await Promise.all(services.map(async (s) => settled(h, (await deploy(h, specOf(h, s, 'v0', errors))).id)));
  const loads = services.map((s) => startLoad(h.port, `${s}.production.localhost`, { workers: 2, pauseMs: 5 }));
  const result = { promoted: 0, rolledBack: 0, other: 0, reasons: [] as string[] };
  try {
    for (let round = 0; round * services.length < canaries; round++) {
      await Promise.all(services.slice(0, Math.min(services.length, canaries - round * services.length)).map(async (s) => {
        const final = await settled(h, (await deploy(h, specOf(h, s, `v${round + 1}`, errors), canaryStrategy(1000))).id, 120_000);
        if (final.phase === 'succeeded') result.promoted++;
        else if (final.phase === 'rolled-back') {
          result.rolledBack++;
          result.reasons.push(final.message ?? '');
        } else result.other++;
      }));
      progress(`(b) ${Math.min(canaries, (round + 1) * services.length)}/${canaries} canaries: ${result.promoted} promoted, ${result.rolledBack} rolled back`);
    }
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }
  return result;
}

/** (c) kill -9 a replica: out of rotation, then restarted. */
async function crashTrials(h: Harness, n: number): Promise<{ outOfRotationMs: number[]; restartedMs: number[]; failedRequests: number }> {
  const rollout = await settled(h, (await deploy(h, specOf(h, 'crash', 'v0', {}, 2))).id);
  const agent = new Agent({ keepAlive: true });
  const get = () => new Promise<{ status: number; pid: number | undefined }>((resolve) => {
    const req = request({ host: '127.0.0.1', port: h.port, path: '/', agent, headers: { host: 'crash.production.localhost' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => {
        let pid: number | undefined;
        try {
          pid = (JSON.parse(body) as { pid?: number }).pid;
        } catch {
          pid = undefined;
        }
        resolve({ status: res.statusCode ?? 0, pid });
      });
    });
    req.on('error', () => resolve({ status: 0, pid: undefined }));
    req.end();
  });
  const out: number[] = [];
  const restarted: number[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const victim = h.runtime.replicas(admin, rollout.releaseId)[i % 2]!;
    const killedAt = performance.now();
    process.kill(victim.pid!, 'SIGKILL');
    let lastToVictim = killedAt;
    let readyAgain: number | undefined;
    // Requests for 1.5 s (which replica answers), watching for the restarted replica meanwhile.
    while (performance.now() - killedAt < 1500 || readyAgain === undefined) {
      if (performance.now() - killedAt > 20_000) throw new Error('the killed replica was not restarted within 20 s');
      const r = await get();
      if (r.status !== 200) failed++;
      else if (r.pid === victim.pid) lastToVictim = performance.now();
      const replica = h.runtime.replicas(admin, rollout.releaseId)[i % 2];
      if (readyAgain === undefined && replica?.phase === 'ready' && replica.pid !== victim.pid) readyAgain = performance.now();
    }
    out.push(lastToVictim - killedAt);
    restarted.push(readyAgain - killedAt);
    progress(`(c) trial ${i + 1}/${n}: out of rotation after ${round(out.at(-1)!)} ms, ready again after ${round(restarted.at(-1)!)} ms`);
  }
  agent.destroy();
  return { outOfRotationMs: out, restartedMs: restarted, failedRequests: failed };
}

async function main(): Promise<void> {
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg1mAtStart: round(loadavg()[0] ?? 0) };
  const h = await startHarness();
  try {
    progress(`(a) ${trials} canaries with 20% 5xx`);
    const rollback = distribution(await rollbackTrials(h));
    progress(`(b) ${canaries} healthy canaries with 1% background errors`);
    const healthy = await healthyCanaries(h);
    progress('(c) kill -9 of a replica, 5 trials');
    const crash = await crashTrials(h, 5);
    const outOfRotation = distribution(crash.outOfRotationMs);
    const figures = {
      bench: 'rollout',
      machine,
      settings: { analysisIntervalMs: ANALYSIS_INTERVAL_MS, minRequests: MIN_REQUESTS, alpha: 0.0001, minErrorRateIncreasePercent: 2, workerPollMs: 50, loadWorkers: 3, canarySteps: [10, 25, 50] },
      rollbackToStableMs: rollback,
      // Against the floor set by the configuration: one analysis interval.
      rollbackP50PerAnalysisInterval: round(rollback.p50 / ANALYSIS_INTERVAL_MS),
      healthyCanaries: { canaries, backgroundErrorPercent: 1, promoted: healthy.promoted, rolledBack: healthy.rolledBack, other: healthy.other, rollbackReasons: healthy.reasons },
      crash: { outOfRotationMs: outOfRotation, restartedMs: distribution(crash.restartedMs), failedRequestsDuringCrash: crash.failedRequests },
      targets: {
        rollbackMaxMs: { target: 10_000, met: rollback.max <= 10_000 },
        healthyRollbacks: { target: 0, met: healthy.rolledBack === 0 },
        crashOutOfRotationMaxMs: { target: 1000, met: outOfRotation.max <= 1000 },
      },
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await h.stop();
  }
}

await main();
