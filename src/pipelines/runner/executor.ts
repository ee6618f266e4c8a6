import { isFailedStep, mergeAttempts, type PlannedStep, type RecordedTest, type StepStatus, type TestResult } from '../model/index.js';

/** What a step reported when it ended. */
export interface StepEnd {
  status: StepStatus;
  message: string | null;
  exitCode: number | null;
  attempts: number;
  tests: RecordedTest[];
  /** What a platform step handed to the steps after it (an artifact digest, counts); null for shell steps. */
  outputs: Record<string, unknown> | null;
}

/** One attempt of a step; the executor retries failed attempts up to the step's `retries`. */
export interface AttemptResult {
  status: 'passed' | 'failed' | 'timed-out' | 'cancelled' | 'not-installed' | 'skipped';
  message: string | null;
  exitCode: number | null;
  tests: TestResult[];
  outputs?: Record<string, unknown>;
}

export interface ExecutorHooks {
  runAttempt(step: PlannedStep, attempt: number): Promise<AttemptResult>;
  onStart(step: PlannedStep): Promise<void>;
  onEnd(step: PlannedStep, end: StepEnd): Promise<void>;
  signal: AbortSignal;
  /** Steps running at once. */
  parallelism: number;
}

/**
 * Runs the planned DAG: a step starts once everything it waits for has ended; a step whose
 * dependencies failed is skipped unless its condition is `always`. Independent steps run side by side.
 */
export async function executePlan(plan: readonly PlannedStep[], hooks: ExecutorHooks): Promise<Map<string, StepStatus>> {
  const status = new Map<string, StepStatus>(plan.map((p) => [p.definition.name, 'pending']));
  const running = new Map<string, Promise<void>>();
  const ended = (name: string) => {
    const s = status.get(name);
    return s !== undefined && s !== 'pending' && s !== 'running';
  };

  let progressed = false;
  async function finish(step: PlannedStep, end: StepEnd) {
    progressed = true;
    status.set(step.definition.name, end.status);
    await hooks.onEnd(step, end);
  }

  async function run(step: PlannedStep) {
    await hooks.onStart(step);
    const attempts: TestResult[][] = [];
    let last: AttemptResult = { status: 'failed', message: null, exitCode: null, tests: [] };
    const maxAttempts = 1 + step.definition.retries;
    let attempt = 0;
    while (attempt < maxAttempts) {
      attempt++;
      last = await hooks.runAttempt(step, attempt);
      attempts.push(last.tests);
      // Only failures are retried; a timeout is a hang, not a flake, and a cancellation is final.
      if (last.status !== 'failed' || hooks.signal.aborted) break;
    }
    await finish(step, { status: last.status, message: last.message, exitCode: last.exitCode, attempts: attempt, tests: mergeAttempts(step.definition.name, attempts), outputs: last.outputs ?? null });
  }

  for (;;) {
    progressed = false;
    for (const step of plan) {
      const name = step.definition.name;
      if (status.get(name) !== 'pending' || running.size >= hooks.parallelism) continue;
      if (hooks.signal.aborted) {
        await finish(step, { status: 'cancelled', message: 'the run was cancelled', exitCode: null, attempts: 0, tests: [], outputs: null });
        continue;
      }
      if (step.skipReason !== undefined) {
        await finish(step, { status: 'skipped', message: step.skipReason, exitCode: null, attempts: 0, tests: [], outputs: null });
        continue;
      }
      const waits = step.waitsFor.filter((n) => status.has(n));
      if (!waits.every(ended)) continue;
      const failed = waits.filter((n) => isFailedStep(status.get(n)!));
      if (failed.length > 0 && step.definition.condition !== 'always') {
        await finish(step, { status: 'skipped', message: `skipped because ${failed.join(', ')} did not pass`, exitCode: null, attempts: 0, tests: [], outputs: null });
        continue;
      }
      status.set(name, 'running');
      progressed = true;
      running.set(name, run(step).finally(() => running.delete(name)));
    }
    if (running.size === 0 && !progressed) break;
    if (running.size > 0) await Promise.race(running.values());
  }
  // Whatever is still pending waits on itself through `needs`: report it rather than hang.
  for (const step of plan) {
    if (status.get(step.definition.name) === 'pending') await finish(step, { status: 'skipped', message: `its needs form a cycle (${step.waitsFor.join(', ')})`, exitCode: null, attempts: 0, tests: [], outputs: null });
  }
  return status;
}
