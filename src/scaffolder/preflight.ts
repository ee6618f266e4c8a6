import type { Principal } from '../kernel/index.js';
import type { ActionRegistry } from './actions/index.js';
import { isTruthy, renderValue } from './expressions.js';
import type { TemplateStep } from './model.js';

const NEEDS_EARLIER_OUTPUT = /\bsteps\s*[.[]/;

/**
 * Runs the preflight checks of a task's steps before the task exists, so that a task that would fail
 * midway for a reason known now (the repository to publish to exists) is refused with nothing created.
 * Only inputs that render from the parameters alone are checked: a step whose `if` or input needs an
 * earlier step's output cannot be judged yet and is left to run time.
 */
export async function preflightSteps(steps: readonly TemplateStep[], actions: ActionRegistry, context: { parameters: Record<string, unknown>; user: unknown; secrets: Record<string, string> }, principal: Principal): Promise<void> {
  const scope = { ...context, steps: {} };
  for (const step of steps) {
    const action = actions.get(step.action);
    if (action?.preflight === undefined || NEEDS_EARLIER_OUTPUT.test(JSON.stringify([step.if, step.input]))) continue;
    let input: unknown;
    try {
      if (step.if !== undefined && !isTruthy(renderValue(step.if, scope))) continue;
      input = renderValue(step.input, scope);
    } catch {
      continue;
    }
    const parsed = action.schema.input.safeParse(input ?? {});
    if (!parsed.success) continue;
    await action.preflight({ input: parsed.data, principal });
  }
}
