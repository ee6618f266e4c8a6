/**
 * `validate.cel` and `celPreconditions`, evaluated as Kyverno does through Kubernetes'
 * ValidatingAdmissionPolicy machinery (pkg/engine/handlers/validation/validate_cel.go):
 * variables `object`, `oldObject`, `request`, `namespaceObject` and `variables.<name>`; the first
 * expression that is not true denies. Kyverno builds that validator without a failure policy, so
 * Kubernetes' default `Fail` applies and an expression that cannot be evaluated also denies: the
 * rule fails (with the evaluation error as its message) rather than passing.
 *
 * Evaluation uses @marcbachmann/cel-js with optional types (`?.`, `[?…]`, `.orValue()`), which about
 * half of Kyverno's CEL policies use (../shared/notes/libraries.md).
 */
import { Environment, Optional, serialize, type ASTNode } from '@marcbachmann/cel-js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

const environment = new Environment({ enableOptionalTypes: true, unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false }).registerFunction(
  'kyverno_optional(dyn): optional<dyn>',
  (value: unknown) => (value instanceof Optional ? value : Optional.of(value)),
);

type Program = ReturnType<typeof environment.parse>;

const optionalProducers = new Set(['.?', '[?]']);

/**
 * Kyverno evaluates `x.orValue(d)` on a plain (non-optional) `x` as `x` — policies in its library
 * rely on it (`container.volumeMounts.orValue([])` in ensure-readonly-hostpath-cel expects a pass),
 * while the library rejects a non-optional receiver. Such receivers are wrapped in
 * `kyverno_optional(…)`, which leaves an optional unchanged and makes anything else a present one.
 */
function wrapPlainOrValueReceivers(program: Program): string | undefined {
  let changed = false;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object' || !('op' in node)) return;
    const ast = node as ASTNode & { args: unknown };
    const args = ast.args as unknown[];
    if (ast.op === 'rcall' && args[0] === 'orValue') {
      const receiver = args[1] as ASTNode & { args: unknown[] };
      const producesOptional = optionalProducers.has(receiver.op) || (receiver.op === 'rcall' && (receiver.args[0] === 'or' || receiver.args[0] === 'of'));
      if (!producesOptional) {
        const wrapper = environment.parse('kyverno_optional(x)').ast as ASTNode & { args: unknown[] };
        (wrapper.args[1] as unknown[])[0] = receiver;
        args[1] = wrapper;
        changed = true;
      }
    }
    if (Array.isArray(args)) args.forEach(visit);
  };
  visit(program.ast);
  return changed ? serialize(program.ast) : undefined;
}

export interface CelProgram {
  source: string;
  program: Program;
}

/** Parses a CEL expression; the error message is the library's, first line only. */
export function compileCel(source: string): CelProgram {
  try {
    const program = environment.parse(source);
    const rewritten = wrapPlainOrValueReceivers(program);
    return { source, program: rewritten === undefined ? program : environment.parse(rewritten) };
  } catch (err) {
    throw new Error(`invalid CEL expression ${JSON.stringify(source)}: ${firstLine(err)}`);
  }
}

function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n')[0] ?? 'unknown error';
}

export interface CompiledCelValidation {
  expressions: { program: CelProgram; message: string | undefined; messageExpression: CelProgram | undefined }[];
  variables: { name: string; program: CelProgram }[];
  auditAnnotations: { key: string; program: CelProgram }[];
}

/** The admission attributes CEL sees, in Kubernetes' JSON shape. */
export interface CelInput {
  object: JsonValue;
  oldObject: JsonValue;
  request: JsonObject;
  namespaceObject: JsonValue;
}

/**
 * Kubernetes decodes whole JSON numbers as int64, which CEL keeps apart from double; the library
 * uses BigInt for int, so whole numbers become BigInt and the rest stay doubles.
 */
export function toCelValue(value: JsonValue | undefined): unknown {
  if (value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCelValue);
  if (isJsonObject(value)) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = toCelValue(item);
    return result;
  }
  return value;
}

/** The request part of the activation, converted once per request. */
export function celBaseActivation(input: CelInput): Record<string, unknown> {
  return {
    object: toCelValue(input.object),
    oldObject: toCelValue(input.oldObject),
    request: toCelValue(input.request),
    namespaceObject: toCelValue(input.namespaceObject),
    params: null,
  };
}

/** The activation of one rule: the request plus its variables, evaluated lazily and once, as in Kubernetes. */
export function celActivation(base: Record<string, unknown>, variables: readonly { name: string; program: CelProgram }[]): Record<string, unknown> {
  const activation: Record<string, unknown> = { ...base };
  const values: Record<string, unknown> = {};
  for (const variable of variables) {
    let computed = false;
    let cached: unknown;
    Object.defineProperty(values, variable.name, {
      enumerable: true,
      get() {
        if (!computed) {
          cached = variable.program.program(activation);
          computed = true;
        }
        return cached;
      },
    });
  }
  activation.variables = values;
  return activation;
}

export type CelOutcome = { status: 'pass' } | { status: 'fail'; message: string } | { status: 'skip'; message: string };

/** `celPreconditions`: all must be true for the rule to run; a false one skips it. */
export function evaluateCelPreconditions(preconditions: readonly { name: string; program: CelProgram }[], activation: Record<string, unknown>): CelOutcome {
  for (const precondition of preconditions) {
    let result: unknown;
    try {
      result = precondition.program.program(activation);
    } catch (err) {
      return { status: 'fail', message: `failed to evaluate CEL precondition ${precondition.name}: ${firstLine(err)}` };
    }
    if (typeof result !== 'boolean') return { status: 'fail', message: `CEL precondition ${precondition.name} must evaluate to bool` };
    if (!result) return { status: 'skip', message: 'cel preconditions not met' };
  }
  return { status: 'pass' };
}

/** Runs the validations in order; the first that is not `true` decides the verdict. */
export function evaluateCelValidation(cel: CompiledCelValidation, activation: Record<string, unknown>, ruleMessage: string | undefined): CelOutcome {
  for (const expression of cel.expressions) {
    let result: unknown;
    try {
      result = expression.program.program(activation);
    } catch (err) {
      return { status: 'fail', message: `expression '${expression.program.source}' resulted in error: ${firstLine(err)}` };
    }
    if (result === true) continue;
    if (typeof result !== 'boolean') return { status: 'fail', message: `expression '${expression.program.source}' must evaluate to bool` };
    return { status: 'fail', message: failureMessage(expression, activation, ruleMessage) };
  }
  return { status: 'pass' };
}

function failureMessage(expression: CompiledCelValidation['expressions'][number], activation: Record<string, unknown>, ruleMessage: string | undefined): string {
  if (expression.messageExpression) {
    try {
      const message = expression.messageExpression.program(activation);
      if (typeof message === 'string' && message.trim() !== '') return message;
    } catch {
      // Kubernetes falls back to the static message when messageExpression fails.
    }
  }
  return expression.message || ruleMessage || `failed expression: ${expression.program.source}`;
}

/** Audit annotations as key → value text (values that are null are left out, as in Kubernetes). */
export function evaluateAuditAnnotations(cel: CompiledCelValidation, activation: Record<string, unknown>): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const annotation of cel.auditAnnotations) {
    const value = annotation.program.program(activation);
    if (value === null || value === undefined) continue;
    annotations[annotation.key] = typeof value === 'string' ? value : String(value);
  }
  return annotations;
}
