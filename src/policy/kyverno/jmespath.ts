/**
 * JMESPath as Kyverno evaluates it. Parsing and most of the evaluation are the community library's;
 * what differs is that Kyverno's interpreter raises "Unknown key" when a field is read from a map
 * that lacks it, and only some nodes absorb that error (pkg/engine/jmespath/interpreter.go, and
 * ../shared/conformance/kyverno/SEMANTICS.md §5). Standard JMESPath would yield null there and
 * silently turn an `error` verdict into pass/fail/skip.
 *
 * The error propagates only through field access, sub-expressions (`a.b`), index expressions
 * (`a[0]`) and the right side of `&&`; every other node (`||`, comparisons, function arguments,
 * projections, filters, pipes, multi-selects) reads a missing key as null, which is exactly the
 * library's behaviour, so those nodes are handed to the library unchanged.
 */
import { compile as compileJmespath, TreeInterpreter, type JSONValue } from '@jmespath-community/jmespath';
import { registerKyvernoFunctions } from './functions/index.js';
import { hasOwn, isJsonObject, type JsonValue } from './json.js';
import { OutcomeError } from './outcome-error.js';

registerKyvernoFunctions();

/** A parsed JMESPath expression (the library's AST). */
export type JmespathAst = ReturnType<typeof compileJmespath>;

/** Raised when an expression reads a key that a map lacks; Kyverno reports it as "Unknown key". */
export class UnknownKeyError extends OutcomeError {
  override readonly name = 'UnknownKeyError';
  constructor(readonly key: string) {
    super(`Unknown key "${key}" in path`);
  }
}

/** Raised for an expression that does not parse; carries the library's reason. */
export class JmespathSyntaxError extends Error {
  override readonly name = 'JmespathSyntaxError';
}

const compiled = new Map<string, JmespathAst>();
const maxCachedExpressions = 10_000;

/** Parses once per distinct text; the cache is shared because policies repeat the same paths. */
export function compileExpression(expression: string): JmespathAst {
  const cached = compiled.get(expression);
  if (cached) return cached;
  let ast: JmespathAst;
  try {
    // Legacy literals: Kyverno's parser accepts `foo` (not valid JSON) as the string "foo".
    ast = compileJmespath(expression, { enable_legacy_literals: true });
  } catch (err) {
    throw new JmespathSyntaxError(`invalid JMESPath expression "${expression}": ${(err as Error).message}`);
  }
  if (compiled.size >= maxCachedExpressions) compiled.clear();
  compiled.set(expression, ast);
  return ast;
}

type AstNode = JmespathAst & { type: string; name?: string; left?: AstNode; right?: AstNode };

/** Evaluates a compiled expression against `data` with Kyverno's missing-key semantics. */
export function evaluateExpression(ast: JmespathAst, data: JsonValue): JsonValue {
  return evaluateStrict(ast as AstNode, data);
}

/** Compiles and evaluates in one call. */
export function queryJmespath(expression: string, data: JsonValue): JsonValue {
  return evaluateExpression(compileExpression(expression.trim()), data);
}

function evaluateStrict(node: AstNode, value: JsonValue): JsonValue {
  switch (node.type) {
    case 'Field': {
      if (!isJsonObject(value)) return null;
      const key = node.name!;
      if (!hasOwn(value, key)) throw new UnknownKeyError(key);
      return value[key] ?? null;
    }
    case 'Subexpression':
    case 'IndexExpression': {
      const left = evaluateStrict(node.left!, value);
      if (left === null) return null;
      return evaluateStrict(node.right!, left);
    }
    case 'AndExpression': {
      const left = evaluateLenient(node.left!, value);
      if (isFalsy(left)) return left;
      return evaluateStrict(node.right!, value);
    }
    case 'Current':
    case 'Identity':
      return value;
    default:
      return evaluateLenient(node, value);
  }
}

function evaluateLenient(node: AstNode, value: JsonValue): JsonValue {
  const result = TreeInterpreter.visit(node, value as JSONValue);
  return (result ?? null) as JsonValue;
}

/** JMESPath truthiness: null, false, "", [] and {} are false. */
function isFalsy(value: JsonValue): boolean {
  if (value === null || value === false || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isJsonObject(value)) return Object.keys(value).length === 0;
  return false;
}
