import { InputError, PlinthError, type Clock, type Principal } from '../kernel/index.js';
import { exampleOutput, type ActionRegistry } from './actions/index.js';
import { ExpressionError, isTruthy, renderValue } from './expressions.js';
import type { StepState, StepStatus, TaskSpec } from './model.js';

export interface RunHooks {
  /** A log line (Backstage's log event body). */
  log(body: { message: string; stepId?: string; status?: StepStatus }): Promise<void>;
  /** A step changed status (persisted as the task's per-step state). */
  step(state: StepState, index: number): Promise<void>;
}

export interface RunOptions {
  spec: TaskSpec;
  workspacePath: string;
  actions: ActionRegistry;
  dryRun: boolean;
  principal: Principal;
  secrets: Record<string, string>;
  userToken?: string;
  serverUrl(): string | undefined;
  signal: AbortSignal;
  clock: Clock;
  /**
   * Step states of an earlier run of this task (a retry): steps that completed or were skipped there are
   * not run again; their recorded outputs feed the later steps, and the workspace is the one they left.
   */
  resumeFrom?: readonly StepState[];
}

export type RunResult = { status: 'completed'; output: Record<string, unknown> } | { status: 'failed'; error: { name: string; message: string } } | { status: 'cancelled' };

class Cancelled extends Error {}

/** Replaces secret values in log text (secrets may flow into step inputs and from there into messages). */
function masker(secrets: Record<string, string>) {
  const values = Object.values(secrets).filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  return (text: string) => values.reduce((t, v) => t.split(v).join('***'), text);
}

/** Renders a template value, naming the field path when an expression fails. */
function render(value: unknown, context: unknown, path: string): unknown {
  try {
    return renderValue(value, context);
  } catch (err) {
    if (err instanceof ExpressionError) throw new InputError(`${path}: ${err.message}`);
    throw err;
  }
}

/**
 * Runs a task's steps in order in its workspace (NunjucksWorkflowRunner's semantics): render `if` and
 * input against parameters, earlier outputs, user and secrets; validate the input with the action's
 * schema; run; collect outputs. The first failure stops the run. In a dry run, actions that do not
 * support it are skipped and their outputs replaced by examples.
 */
export async function runSteps(options: RunOptions, hooks: RunHooks): Promise<RunResult> {
  const { spec, actions, clock } = options;
  const mask = masker(options.secrets);
  const now = () => clock.now().toISOString();
  const steps: Record<string, { output: Record<string, unknown> }> = {};
  const context = () => ({ parameters: spec.parameters, steps, user: spec.user, secrets: options.secrets });
  const earlier = new Map((options.resumeFrom ?? []).filter((s) => s.status === 'completed' || s.status === 'skipped').map((s) => [s.id, s]));
  const states: StepState[] = spec.steps.map((s) => earlier.get(s.id) ?? { id: s.id, name: s.name, action: s.action, status: 'open' });
  const setStatus = async (index: number, status: StepStatus) => {
    const state = states[index]!;
    state.status = status;
    if (status === 'processing') state.startedAt = now();
    else state.endedAt = now();
    await hooks.step({ ...state }, index);
    await hooks.log({ message: `${state.name}: ${status}`, stepId: state.id, status });
  };

  let current = -1;
  try {
    for (const [index, step] of spec.steps.entries()) {
      current = index;
      if (options.signal.aborted) throw new Cancelled();
      const done = earlier.get(step.id);
      if (done !== undefined) {
        steps[step.id] = { output: done.output ?? {} };
        await hooks.log({ message: `${done.name}: ${done.status} in an earlier run; reusing its output`, stepId: step.id, status: done.status });
        continue;
      }
      const action = actions.get(step.action);
      if (!action) throw new InputError(`spec.steps[${index}].action: unknown action "${step.action}"`);
      await setStatus(index, 'processing');
      if (step.if !== undefined && !isTruthy(render(step.if, context(), `spec.steps[${index}].if`))) {
        await hooks.log({ message: `Skipping step ${step.id} because its if condition was false`, stepId: step.id });
        steps[step.id] = { output: {} };
        await setStatus(index, 'skipped');
        continue;
      }
      const rendered = render(step.input, context(), `spec.steps[${index}].input`);
      const parsed = action.schema.input.safeParse(rendered ?? {});
      if (!parsed.success) {
        throw new InputError(`spec.steps[${index}].input (${step.action}): ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
      }
      if (options.dryRun && !action.supportsDryRun) {
        await hooks.log({ message: `Skipping because ${action.id} does not support dry-run`, stepId: step.id });
        steps[step.id] = { output: exampleOutput(action) };
        await setStatus(index, 'skipped');
        continue;
      }
      const output: Record<string, unknown> = {};
      const pending: Promise<void>[] = [];
      await action.handler({
        workspacePath: options.workspacePath,
        input: parsed.data,
        log: (message) => void pending.push(hooks.log({ message: mask(message), stepId: step.id })),
        output: (name, value) => void Object.defineProperty(output, name, { value, enumerable: true, writable: true, configurable: true }),
        signal: options.signal,
        isDryRun: options.dryRun,
        principal: options.principal,
        user: spec.user,
        secrets: options.secrets,
        templateInfo: spec.templateInfo,
        ...(options.userToken !== undefined ? { userToken: options.userToken } : {}),
        serverUrl: options.serverUrl,
      });
      await Promise.all(pending);
      if (options.signal.aborted) throw new Cancelled();
      steps[step.id] = { output };
      // Recorded with the step so that a retry can hand it to the steps after it.
      states[index]!.output = output;
      await setStatus(index, 'completed');
    }
    return { status: 'completed', output: renderOutput(spec, context()) };
  } catch (err) {
    if (err instanceof Cancelled || options.signal.aborted) {
      if (current >= 0 && states[current]!.status === 'processing') await setStatus(current, 'cancelled');
      return { status: 'cancelled' };
    }
    const named = err instanceof PlinthError;
    const message = mask(named ? err.message : `${(err as Error).message ?? String(err)}`);
    if (current >= 0) {
      await hooks.log({ message: `${states[current]!.name} failed: ${message}`, stepId: states[current]!.id });
      if (states[current]!.status !== 'failed') await setStatus(current, 'failed');
    }
    return { status: 'failed', error: { name: named ? err.name : 'Error', message } };
  }
}

/** The task's output with `if` applied to links and text items (Backstage ≥ 1.30 conditional output). */
function renderOutput(spec: TaskSpec, context: unknown): Record<string, unknown> {
  const rendered = (render(spec.output, context, 'spec.output') ?? {}) as Record<string, unknown>;
  for (const key of ['links', 'text'] as const) {
    const items = rendered[key];
    if (!Array.isArray(items)) continue;
    rendered[key] = items
      .filter((item: unknown) => !(item !== null && typeof item === 'object' && 'if' in item) || isTruthy((item as { if: unknown }).if))
      .map((item: unknown) => {
        if (item === null || typeof item !== 'object') return item;
        const { if: _if, ...rest } = item as Record<string, unknown>;
        return rest;
      });
  }
  return rendered;
}
