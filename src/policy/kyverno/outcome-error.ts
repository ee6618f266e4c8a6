/**
 * Errors that report an expected outcome of evaluation (a missing key, an unresolvable variable)
 * rather than a bug. They are thrown on hot paths, often once per rule, so they skip the stack
 * trace, which would cost more than the evaluation itself and tells nothing about the policy.
 */
export class OutcomeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}
