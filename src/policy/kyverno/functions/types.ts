import type { JsonValue } from '../json.js';

/** One custom function: its name, how many arguments it takes, and its body over resolved arguments. */
export interface FunctionDefinition {
  name: string;
  /** Exact argument count, or [min, max]. */
  arity: number | [number, number];
  run(args: JsonValue[]): JsonValue;
}
