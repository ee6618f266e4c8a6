/**
 * `{{ … }}` variable substitution (pkg/engine/variables/vars.go). Substitution happens in every
 * string leaf and map key of the part of a rule being evaluated. The innermost variables are
 * resolved first and the string is scanned again, so `{{ f('{{a}}') }}` works; a string that is
 * exactly one variable keeps the JSON type of the result, otherwise the result is spliced in as
 * text (JSON-encoded when it is not a string). `\{{` escapes a variable, and `{{- … }}` inserts its
 * result without scanning it again.
 */
import { parseKey } from './anchor.js';
import { compileExpression, evaluateExpression, type JmespathAst } from './jmespath.js';
import { goJsonMarshal, isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { OutcomeError } from './outcome-error.js';

/** What variables resolve against. */
export interface VariableScope {
  /** The JSON context: `request`, `element`, context entries, values from the test harness… */
  readonly data: JsonObject;
  /** On DELETE, Kyverno reads `request.object` as `request.oldObject` in every variable. */
  readonly isDelete: boolean;
}

/** A variable that could not be resolved; the rule's verdict becomes `error`. */
export class VariableError extends OutcomeError {
  override readonly name = 'VariableError';
}

const variablePattern = /\{\{(?:\{[^{}]*\}|[^{}])*\}\}/g;

export function containsVariable(text: string): boolean {
  return text.includes('{{');
}

/** Whether any string or key of a JSON value holds a variable (decides if substitution can be skipped). */
export function jsonContainsVariable(value: JsonValue): boolean {
  if (typeof value === 'string') return containsVariable(value);
  if (Array.isArray(value)) return value.some(jsonContainsVariable);
  if (isJsonObject(value)) return Object.entries(value).some(([key, item]) => containsVariable(key) || jsonContainsVariable(item));
  return false;
}

interface VariableMatch {
  text: string;
  expression: string;
  shallow: boolean;
}

function findVariables(text: string): VariableMatch[] {
  const found: VariableMatch[] = [];
  variablePattern.lastIndex = 0;
  for (let match = variablePattern.exec(text); match !== null; match = variablePattern.exec(text)) {
    if (match.index > 0 && text[match.index - 1] === '\\') continue;
    let inner = match[0].slice(2, -2);
    const shallow = inner.startsWith('-');
    if (shallow) inner = inner.slice(1);
    found.push({ text: match[0], expression: inner.trim(), shallow });
  }
  return found;
}

/** Parses every variable of a policy string once, so a bad expression is refused at load time. */
export function checkVariables(text: string): void {
  for (const variable of findVariables(text)) {
    if (variable.expression === '' ) throw new VariableError(`empty variable in ${JSON.stringify(text)}`);
    if (variable.expression !== '@') compileExpression(variable.expression);
  }
}

interface CompiledVariable {
  ast: JmespathAst;
  /** The same expression with `request.object` read as `request.oldObject`, for DELETE. */
  deleteAst: JmespathAst;
}

const variableCache = new Map<string, CompiledVariable>();

function compileVariable(expression: string): CompiledVariable {
  let compiled = variableCache.get(expression);
  if (!compiled) {
    const ast = compileExpression(expression);
    const rewritten = expression.replaceAll('request.object', 'request.oldObject');
    compiled = { ast, deleteAst: rewritten === expression ? ast : compileExpression(rewritten) };
    if (variableCache.size > 10_000) variableCache.clear();
    variableCache.set(expression, compiled);
  }
  return compiled;
}

function resolve(variable: VariableMatch, scope: VariableScope, path: readonly string[]): JsonValue {
  let expression = variable.expression;
  if (expression === '@') expression = `request.object.${jmespathOf(path)}`;
  let compiled: CompiledVariable;
  try {
    compiled = compileVariable(expression);
  } catch (err) {
    throw new VariableError(`failed to resolve ${expression} at path /${path.join('/')}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return evaluateExpression(scope.isDelete ? compiled.deleteAst : compiled.ast, scope.data);
  } catch (err) {
    throw new VariableError(`failed to resolve ${expression} at path /${path.join('/')}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A pattern path as JMESPath, anchors removed: `spec/containers/0/(name)` → `"spec"."containers"[0]."name"`
 * (for `{{@}}`, the resource value at the pattern's own path).
 */
function jmespathOf(path: readonly string[]): string {
  return path
    .map((part, i) => {
      if (/^\d+$/.test(part)) return `[${part}]`;
      const name = parseKey(part).name;
      return `${i === 0 ? '' : '.'}"${name.replace(/"/g, '\\"')}"`;
    })
    .join('');
}

/** Substitutes the variables of one string. Throws VariableError when one cannot be resolved. */
export function substituteString(text: string, scope: VariableScope, path: readonly string[] = []): JsonValue {
  if (!containsVariable(text)) return text;
  let value = text;
  for (let pass = 0; pass < 100; pass++) {
    const variables = findVariables(value);
    if (variables.length === 0) break;
    const original = value;
    for (const variable of variables) {
      const result = resolve(variable, scope, path);
      if (original === variable.text) return result;
      let inserted = typeof result === 'string' ? result : goJsonMarshal(result);
      if (variable.shallow) inserted = inserted.replaceAll('{{', '\\{{');
      value = value.replace(variable.text, () => inserted);
    }
  }
  return value.replace(/\\\{\{/g, '{{');
}

/** Substitutes the variables of every string leaf and map key of a JSON value. */
export function substituteJson(value: JsonValue, scope: VariableScope, path: readonly string[] = []): JsonValue {
  if (typeof value === 'string') return substituteString(value, scope, path);
  if (Array.isArray(value)) return value.map((item, i) => substituteJson(item, scope, [...path, String(i)]));
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const newKey = containsVariable(key) ? substituteString(key, scope, path) : key;
    const keyText = typeof newKey === 'string' ? newKey : goJsonMarshal(newKey);
    result[keyText] = substituteJson(item, scope, [...path, keyText]);
  }
  return result;
}
