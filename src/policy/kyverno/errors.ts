import { InputError } from '../../kernel/index.js';

/** One reason a policy was refused, at a field path of the document (`spec.rules[0].validate.pattern`). */
export interface PolicyProblem {
  path: string;
  reason: string;
}

/**
 * A policy that cannot be loaded: unknown field, bad pattern, invalid JMESPath or CEL, unsupported
 * feature. Lists every problem found, each with its source and field path.
 */
export class PolicyLoadError extends InputError {
  constructor(
    readonly source: string,
    readonly problems: readonly PolicyProblem[],
  ) {
    super(`${source}: ${problems.map((p) => (p.path ? `${p.path}: ${p.reason}` : p.reason)).join('; ')}`);
  }
}
