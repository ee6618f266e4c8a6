/**
 * Loading a rule's (or foreach entry's) `context` entries of the `variable` kind
 * (pkg/engine/context/loaders/variable.go): `value` (variables substituted) optionally narrowed by
 * `jmesPath`, or `jmesPath` over the whole context, with `default` used when the query fails.
 * A variable that ends up null is an error, as in Kyverno.
 */
import type { CompiledContextEntry } from './compile-rule.js';
import { evaluateExpression, compileExpression } from './jmespath.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { splitDottedPath } from './context.js';
import { OutcomeError } from './outcome-error.js';
import { substituteJson, substituteString, VariableError, type VariableScope } from './variables.js';

export class ContextLoadError extends OutcomeError {
  override readonly name = 'ContextLoadError';
}

function query(expression: string, data: JsonValue): JsonValue {
  return evaluateExpression(compileExpression(expression), data);
}

function loadEntry(entry: CompiledContextEntry, scope: VariableScope): JsonValue {
  let path: string | undefined;
  if (entry.jmesPath !== undefined) {
    const substituted = substituteString(entry.jmesPath, scope);
    if (typeof substituted !== 'string') throw new ContextLoadError(`context entry ${entry.name}: jmesPath must be a string`);
    path = substituted;
  }
  const defaultValue = entry.defaultValue === undefined ? null : substituteJson(entry.defaultValue, scope);
  let output: JsonValue = defaultValue;
  if (entry.value !== undefined) {
    const value = substituteJson(entry.value, scope);
    if (path === undefined) output = value;
    else {
      try {
        output = query(path, value);
      } catch (err) {
        if (defaultValue === null) throw new ContextLoadError(`failed to apply jmespath ${path} to variable ${entry.name}: ${(err as Error).message}`);
      }
    }
  } else if (path !== undefined) {
    try {
      output = query(path, scope.data);
    } catch (err) {
      if (defaultValue === null) throw new ContextLoadError(`failed to apply jmespath ${path} for variable ${entry.name}: ${(err as Error).message}`);
    }
  }
  if (output === null) throw new ContextLoadError(`unable to add context entry for variable ${entry.name} since it evaluated to nil`);
  return output;
}

/** Sets `a.b.c` in a copy of `data`, sharing everything not on the path. */
function setPath(data: JsonObject, path: string[], value: JsonValue): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return data;
  if (rest.length === 0) return { ...data, [head]: value };
  const child = data[head];
  return { ...data, [head]: setPath(isJsonObject(child) ? child : {}, rest, value) };
}

/** Loads entries in order (each sees the ones before it); returns the new context data. */
export function loadContextEntries(entries: readonly CompiledContextEntry[], scope: VariableScope): JsonObject {
  let data = scope.data;
  for (const entry of entries) {
    let value: JsonValue;
    try {
      value = loadEntry(entry, { data, isDelete: scope.isDelete });
    } catch (err) {
      if (err instanceof ContextLoadError) throw err;
      if (err instanceof VariableError) throw new ContextLoadError(`failed to substitute variables in context entry ${entry.name}: ${err.message}`, { cause: err });
      throw err;
    }
    data = setPath(data, splitDottedPath(entry.name), value);
  }
  return data;
}
