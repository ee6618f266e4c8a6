/**
 * An expected failure the CLI reports as one line on stderr, without a stack trace.
 * Exit codes: 1 for a failed operation, 2 for a usage error, 130 for an interrupted prompt.
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A wrong flag or argument that commander could not catch (bad URL, bad list). */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}
