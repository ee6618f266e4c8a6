/** Argument checks shared by Kyverno's custom JMESPath functions, with Kyverno's error wording. */
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { OutcomeError } from '../outcome-error.js';

export class FunctionError extends OutcomeError {
  override readonly name = 'FunctionError';
  constructor(functionName: string, reason: string) {
    super(`JMESPath function '${functionName}': ${reason}`);
  }
}

export function stringArg(fn: string, args: readonly JsonValue[], index: number): string {
  const value = args[index];
  if (typeof value !== 'string') throw new FunctionError(fn, `argument ${index + 1} is expected of string type`);
  return value;
}

export function numberArg(fn: string, args: readonly JsonValue[], index: number): number {
  const value = args[index];
  if (typeof value !== 'number') throw new FunctionError(fn, `argument ${index + 1} is expected of number type`);
  return value;
}

export function objectArg(fn: string, args: readonly JsonValue[], index: number): JsonObject {
  const value = args[index];
  if (!isJsonObject(value)) throw new FunctionError(fn, `argument ${index + 1} is expected of object type`);
  return value;
}

export function arrayArg(fn: string, args: readonly JsonValue[], index: number): JsonValue[] {
  const value = args[index];
  if (!Array.isArray(value)) throw new FunctionError(fn, `argument ${index + 1} is expected of array type`);
  return value;
}

/** Kyverno's `ifaceToString`: strings, numbers and booleans are accepted where text is expected. */
export function textArg(fn: string, args: readonly JsonValue[], index: number): string {
  const value = args[index];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatFloat32(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  throw new FunctionError(fn, `argument ${index + 1} is expected of string or number type`);
}

/** `strconv.FormatFloat(f, 'f', -1, 32)`: the shortest text that reads back as the same float32. */
function formatFloat32(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const target = Math.fround(value);
  for (let precision = 1; precision <= 9; precision++) {
    const text = Number(value.toPrecision(precision));
    if (Math.fround(text) === target) return String(text);
  }
  return String(target);
}
