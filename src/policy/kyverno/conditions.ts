/**
 * Condition blocks of `preconditions` and `deny` (pkg/engine/variables/evaluate.go): `{any, all}`
 * or the legacy bare list (all must hold). `any` is evaluated first and stops at the first true
 * item, then `all` stops at the first false one; an item that is never reached never raises its
 * error. A block that is absent counts as true, an explicitly empty `any: []` as false.
 * Key and value are substituted lazily, one condition at a time.
 */
import { jsonContainsVariable, substituteJson, type VariableScope } from './variables.js';
import type { JsonValue } from './json.js';
import { resolveOperator, type OperatorFunction } from './operators.js';

export interface CompiledCondition {
  key: JsonValue;
  operatorName: string;
  operator: OperatorFunction;
  value: JsonValue;
  message: string | undefined;
  keyHasVariables: boolean;
  valueHasVariables: boolean;
}

export type CompiledConditions =
  | { form: 'anyAll'; any: CompiledCondition[] | undefined; all: CompiledCondition[] | undefined }
  | { form: 'list'; conditions: CompiledCondition[] };

/** The raw condition as it appears in a policy (after schema validation). */
export interface RawCondition {
  key?: JsonValue;
  operator: string;
  value?: JsonValue;
  message?: string;
}

/** Thrown at load time for an operator Kyverno does not know. */
class UnknownOperatorError extends Error {
  override readonly name = 'UnknownOperatorError';
}

export function compileCondition(raw: RawCondition): CompiledCondition {
  const operator = resolveOperator(raw.operator);
  if (!operator) throw new UnknownOperatorError(`unknown operator "${raw.operator}"`);
  const key = raw.key ?? null;
  const value = raw.value ?? null;
  return {
    key,
    operatorName: raw.operator,
    operator,
    value,
    message: raw.message,
    keyHasVariables: jsonContainsVariable(key),
    valueHasVariables: jsonContainsVariable(value),
  };
}

export interface ConditionsResult {
  holds: boolean;
  /** Messages of the conditions that decided the result. */
  messages: string[];
}

/** Evaluates one condition; throws VariableError when its key or value cannot be substituted. */
export function evaluateCondition(condition: CompiledCondition, scope: VariableScope): boolean {
  const key = condition.keyHasVariables ? substituteJson(condition.key, scope) : condition.key;
  const value = condition.valueHasVariables ? substituteJson(condition.value, scope) : condition.value;
  return condition.operator(key, value);
}

export function evaluateConditions(conditions: CompiledConditions, scope: VariableScope): ConditionsResult {
  const messages: string[] = [];
  if (conditions.form === 'list') {
    for (const condition of conditions.conditions) {
      if (!evaluateCondition(condition, scope)) {
        if (condition.message) messages.push(condition.message);
        return { holds: false, messages };
      }
    }
    return { holds: true, messages };
  }
  let anyHolds = true;
  if (conditions.any !== undefined) {
    anyHolds = false;
    for (const condition of conditions.any) {
      if (evaluateCondition(condition, scope)) {
        anyHolds = true;
        if (condition.message) messages.push(condition.message);
        break;
      }
      if (condition.message) messages.push(condition.message);
    }
  }
  let allHold = true;
  if (conditions.all !== undefined) {
    for (const condition of conditions.all) {
      if (!evaluateCondition(condition, scope)) {
        allHold = false;
        if (condition.message) messages.push(condition.message);
        break;
      }
    }
  }
  return { holds: anyHolds && allHold, messages };
}

