import { mkdir } from 'node:fs/promises';
import {
  applyPlinthYaml,
  applyPreset,
  checkPlinthYaml,
  detectPreset,
  formatProblem,
  maskPatterns,
  maskText,
  planPipeline,
  PLINTH_YAML,
  standardPipeline,
  type LogLine,
  type PlannedStep,
  type RecordedTest,
  type Run,
  type Step,
  type StepStatus,
  type Toolchain,
} from '../model/index.js';
import { executePlan, type AttemptResult, type StepEnd } from './executor.js';
import { openRunCache, type CacheLocation } from './cache.js';
import { confinedArgv, runProcess, type Sandbox, type StepLimits } from './process.js';
import { checkout, collectTestReports, repositoryFacts } from './workspace.js';

export interface PlatformStepContext {
  run: Run;
  step: string;
  workspace: string;
  /** Outputs of the steps of this run that have passed so far, by step name (`outputs['build-artifact'].digest`). */
  outputs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  inputs: Record<string, unknown>;
  env: Record<string, string>;
  signal: AbortSignal;
  /** Writes a line to the step's log (masked like any other). */
  log(line: string): void;
}
export interface PlatformStepResult {
  /** `skipped`: nothing to do for this repository (no score.yaml to deploy, say), with the reason in `message`. */
  status: 'passed' | 'failed' | 'skipped';
  message?: string;
  outputs?: Record<string, unknown>;
}
export type PlatformStepHandler = (ctx: PlatformStepContext) => Promise<PlatformStepResult>;

/** A log line before it is numbered: whoever records it gives it its `seq`. */
export type LogEntry = Omit<LogLine, 'seq'>;

/** What runs a platform step's handler: in the server's process, or the server on an external runner's behalf. */
export type PlatformStepRunner = (uses: string, ctx: Omit<PlatformStepContext, 'run'>) => Promise<PlatformStepResult | 'not-installed'>;

/**
 * Where a run's progress goes: the store, when the server's embedded runner runs it; the API, when an
 * external runner (`plinth runner`) does. Writes from a runner that lost its lease are refused there.
 */
export interface RunRecorder {
  appendLogs(lines: readonly LogEntry[]): Promise<void>;
  replaceSteps(steps: readonly Step[]): Promise<void>;
  /** `finished`: the step ended (a ledger event for the server to record). */
  updateStep(step: Step, finished: boolean): Promise<void>;
  replaceTestResults(step: string, tests: readonly RecordedTest[]): Promise<void>;
  runPlatformStep: PlatformStepRunner;
}

interface RunInput {
  run: Run;
  resumed: boolean;
  recorder: RunRecorder;
  sandbox: Sandbox;
  limits: StepLimits;
  available: ReadonlySet<Toolchain>;
  secrets: Record<string, string>;
  signal: AbortSignal;
  parallelism: number;
  /** What a step must not read (the server's data directory, or an external runner's work directory). */
  dataDir: string;
  source: string;
  /** Environment of the checkout's git only (an external repository's credentials, answered through GIT_ASKPASS). */
  sourceEnv?: Record<string, string>;
  /** Values masked in the log that steps do not receive as env (an external repository's clone token). */
  maskValues?: readonly string[];
  workspace: string;
  home: string;
  /** Where package-manager caches live and how much they may take (see cache.ts). */
  caches: CacheLocation;
  now: () => string;
  /** Least time between two log writes while lines keep coming (default 20 ms). */
  logFlushMs?: number;
}

/**
 * Buffers log lines and writes them in batches; every line is masked before it is kept anywhere. A line
 * after a quiet spell goes out at once; while lines keep coming, at most one batch per `logFlushMs`, so
 * a chatty step costs one write per interval rather than one per line.
 */
function createLogSink(input: RunInput, patterns: readonly string[]) {
  const intervalMs = input.logFlushMs ?? 20;
  let buffer: LogEntry[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let lastFlushMs = -Infinity;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    lastFlushMs = performance.now();
    const lines = buffer;
    buffer = [];
    flushing = flushing.then(() => (lines.length > 0 ? input.recorder.appendLogs(lines) : undefined));
    return flushing;
  };
  return {
    write(step: string, stream: LogLine['stream'], text: string) {
      buffer.push({ time: input.now(), step, stream, text: maskText(text, patterns) });
      if (buffer.length >= 200) void flush();
      else timer ??= setTimeout(() => void flush(), Math.max(0, lastFlushMs + intervalMs - performance.now()));
    },
    flush,
  };
}

const setupSteps = ['checkout', 'config'] as const;
const blankStep = (name: string, stage: Step['stage'], kind: Step['kind'], command: string | null): Step => ({
  name, stage, kind, command, status: 'pending', message: null, exitCode: null, attempts: 0, startedAt: null, finishedAt: null, durationMs: null, outputs: null,
});

/** Checks out, resolves the definition (preset + plinth.yaml), runs the plan; returns every step's final status. */
export async function runPipeline(input: RunInput): Promise<Map<string, StepStatus>> {
  const { run, recorder } = input;
  const patterns = maskPatterns([...Object.values(input.secrets), ...(input.maskValues ?? [])]);
  const sink = createLogSink(input, patterns);
  const steps = new Map<string, Step>(setupSteps.map((n) => [n, blankStep(n, 'setup', 'shell', null)]));
  await recorder.replaceSteps([...steps.values()]);
  if (input.resumed) sink.write('checkout', 'system', 'the runner was interrupted; running the pipeline again from the start');

  const begin = async (name: string) => {
    const step = { ...steps.get(name)!, status: 'running' as const, startedAt: input.now() };
    steps.set(name, step);
    await recorder.updateStep(step, false);
  };
  const end = async (name: string, result: Omit<StepEnd, 'tests' | 'outputs'> & { outputs?: Record<string, unknown> | null }) => {
    const before = steps.get(name)!;
    const finishedAt = input.now();
    const step: Step = { ...before, ...result, outputs: result.outputs ?? null, finishedAt, durationMs: before.startedAt !== null ? Date.parse(finishedAt) - Date.parse(before.startedAt) : null };
    steps.set(name, step);
    await sink.flush();
    await recorder.updateStep(step, true);
  };
  const statuses = () => new Map([...steps.values()].map((s) => [s.name, s.status]));

  // ---- setup: checkout and config
  await begin('checkout');
  const checkedOut = await checkout({ source: input.source, env: input.sourceEnv, sha: run.sha, workspace: input.workspace, log: (line) => sink.write('checkout', 'system', line) });
  await end('checkout', { status: checkedOut ? 'passed' : 'failed', message: checkedOut ? null : 'could not check out the commit', exitCode: null, attempts: 1 });
  await begin('config');
  if (!checkedOut) {
    await end('config', { status: 'skipped', message: 'skipped because checkout did not pass', exitCode: null, attempts: 0 });
    return statuses();
  }
  const facts = await repositoryFacts(input.workspace, input.available);
  const preset = detectPreset(facts);
  let definition = applyPreset(standardPipeline(), preset);
  sink.write('config', 'system', `pipeline ${definition.version}; build preset: ${preset.summary}`);
  if (facts.plinthYaml !== undefined) {
    const checked = checkPlinthYaml(facts.plinthYaml, PLINTH_YAML, definition);
    if (!checked.ok) {
      for (const problem of checked.problems) sink.write('config', 'stderr', formatProblem(problem));
      await end('config', { status: 'failed', message: checked.problems.map(formatProblem).join('; '), exitCode: null, attempts: 1 });
      return statuses();
    }
    definition = applyPlinthYaml(definition, checked.config);
    sink.write('config', 'system', `applied ${PLINTH_YAML}`);
  }
  const plan = planPipeline(definition, { isDefaultBranch: run.isDefaultBranch });
  for (const p of plan) {
    const d = p.definition;
    steps.set(d.name, blankStep(d.name, d.stage, d.kind, d.kind === 'shell' ? d.command : d.uses));
  }
  await end('config', { status: 'passed', message: null, exitCode: null, attempts: 1 });
  await recorder.replaceSteps([...steps.values()]);

  // ---- the plan
  await mkdir(input.home, { recursive: true });
  const cache = preset.cache ? await openRunCache({ location: input.caches, spec: preset.cache, repository: run.repository, home: input.home, workspace: input.workspace, now: input.now }) : undefined;
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: input.home,
    LANG: 'C.UTF-8',
    ...definition.env,
    PLINTH_RUN_ID: run.id,
    PLINTH_REPOSITORY: run.repository,
    PLINTH_REF: run.ref,
    PLINTH_COMMIT_SHA: run.sha,
  };
  /** Passed steps' outputs, as the platform steps get them. */
  const passedOutputs = () => Object.fromEntries([...steps.values()].filter((s) => s.status === 'passed' && s.outputs !== null).map((s) => [s.name, s.outputs!]));
  /** The same for shell steps: `PLINTH_OUTPUT_<STEP>_<KEY>` for every string, number or boolean output (`PLINTH_OUTPUT_DEPLOY_URL`). */
  const outputsEnv = () => {
    const env: Record<string, string> = {};
    const envName = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
    for (const [step, outputs] of Object.entries(passedOutputs())) {
      for (const [key, value] of Object.entries(outputs)) {
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') env[`PLINTH_OUTPUT_${envName(step)}_${envName(key)}`] = String(value);
      }
    }
    return env;
  };
  // Report files already recorded by a step of this run (see collectTestReports).
  const claimedReports = new Set<string>();
  const attemptShell = async (p: PlannedStep, attempt: number): Promise<AttemptResult> => {
    const d = p.definition;
    if (d.kind !== 'shell') throw new Error('not a shell step');
    if (d.command === null) return { status: 'skipped', message: d.reason ?? 'nothing to run', exitCode: null, tests: [] };
    const name = d.name;
    if (attempt > 1) sink.write(name, 'system', `attempt ${attempt} of ${1 + d.retries}`);
    // Restored inside the install step, so that its duration tells what a cold or warm install costs.
    if (name === 'install' && attempt === 1) await cache?.restore((line) => sink.write(name, 'system', line));
    sink.write(name, 'system', `$ ${d.command}`);
    const startedMs = Date.now();
    const outcome = await runProcess({
      argv: confinedArgv(input.sandbox, { ...input.limits, cpuSeconds: Math.min(input.limits.cpuSeconds, d.timeoutS) }, { command: d.command, workspace: input.workspace, home: input.home, dataDir: input.dataDir }),
      cwd: input.workspace,
      env: { ...baseEnv, ...outputsEnv(), ...cache?.env(), ...d.env, ...input.secrets },
      timeoutMs: d.timeoutS * 1000,
      maskPatterns: patterns,
      signal: input.signal,
      onLine: (stream, text) => sink.write(name, stream, text),
    });
    const tests = await collectTestReports(input.workspace, startedMs, claimedReports);
    if (outcome.cancelled) return { status: 'cancelled', message: 'cancelled', exitCode: null, tests };
    if (outcome.timedOut) return { status: 'timed-out', message: `killed at its time limit of ${d.timeoutS}s`, exitCode: outcome.exitCode, tests };
    if (outcome.exitCode === 0) return { status: 'passed', message: null, exitCode: 0, tests };
    return { status: 'failed', message: `exited with ${outcome.exitCode ?? 'a signal'}`, exitCode: outcome.exitCode, tests };
  };
  const attemptPlatform = async (p: PlannedStep): Promise<AttemptResult> => {
    const d = p.definition;
    if (d.kind !== 'platform') throw new Error('not a platform step');
    // Only passed steps hand outputs on: a step never builds on what a failed one left behind.
    const outputs = passedOutputs();
    try {
      const result = await recorder.runPlatformStep(d.uses, {
        step: d.name, workspace: input.workspace, outputs, inputs: d.inputs, env: { ...baseEnv, ...d.env }, signal: input.signal,
        log: (line) => sink.write(d.name, 'stdout', line),
      });
      if (result === 'not-installed') return { status: 'not-installed', message: `${d.uses} is not installed on this platform yet`, exitCode: null, tests: [] };
      return { status: result.status, message: result.message ?? null, exitCode: null, tests: [], ...(result.outputs !== undefined ? { outputs: result.outputs } : {}) };
    } catch (err) {
      return { status: 'failed', message: `the ${d.uses} step failed: ${(err as Error).message}`, exitCode: null, tests: [] };
    }
  };
  await executePlan(plan, {
    signal: input.signal,
    parallelism: input.parallelism,
    onStart: (p) => begin(p.definition.name),
    runAttempt: (p, attempt) => (p.definition.kind === 'shell' ? attemptShell(p, attempt) : attemptPlatform(p)),
    onEnd: async (p, result) => {
      if (steps.get(p.definition.name)!.startedAt === null) steps.set(p.definition.name, { ...steps.get(p.definition.name)!, startedAt: input.now() });
      if (result.message !== null && result.status !== 'passed') sink.write(p.definition.name, 'system', `${result.status}: ${result.message}`);
      if (result.tests.length > 0) await recorder.replaceTestResults(p.definition.name, result.tests);
      if (p.definition.name === 'install' && result.status === 'passed') await cache?.save((line) => sink.write('install', 'system', line));
      await end(p.definition.name, result);
    },
  });
  await sink.flush();
  return statuses();
}
