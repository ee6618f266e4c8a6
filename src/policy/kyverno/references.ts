/**
 * `$(path)` references inside a pattern (pkg/engine/variables/vars.go resolveReference): a leaf
 * that reads another leaf of the same pattern, by a path relative to itself and anchors ignored,
 * optionally behind an operator (`$(<=./../../limits/memory)`). They depend only on the policy, so
 * they are resolved once, at load time.
 */
import { parseKey } from './anchor.js';
import { formatGoFloat, isJsonObject, type JsonValue } from './json.js';

const referencePattern = /(^|[^\\])\$\((.[^ ]*?)\)/g;
const operators = ['>=', '<=', '>', '<', '!'];

export class PatternReferenceError extends Error {
  override readonly name = 'PatternReferenceError';
}

/** Resolves `.`/`..` segments of `base/relative` like Go's path.Join. */
function joinPath(base: readonly string[], relative: string): string[] {
  const parts = relative.startsWith('/') ? [] : [...base];
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') parts.pop();
    else parts.push(segment);
  }
  return parts;
}

function valueAt(document: JsonValue, path: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = document;
  for (const segment of path) {
    if (Array.isArray(current)) current = /^\d+$/.test(segment) ? current[Number(segment)] : undefined;
    else if (isJsonObject(current)) current = Object.entries(current).find(([key]) => parseKey(key).name === segment)?.[1];
    else return undefined;
  }
  return current;
}

function resolveOne(document: JsonValue, leafPath: readonly string[], inner: string): JsonValue {
  const operator = operators.find((op) => inner.startsWith(op)) ?? '';
  const path = inner.slice(operator.length);
  if (path === '') throw new PatternReferenceError('expected a path in $(), found an empty reference');
  const value = valueAt(document, joinPath(leafPath, path));
  if (value === undefined || value === null) throw new PatternReferenceError(`$(${inner}) does not point at a value of the pattern`);
  if (operator === '') return value;
  if (typeof value === 'string') return `${operator}${value}`;
  if (typeof value === 'number') return `${operator}${formatGoFloat(value)}`;
  throw new PatternReferenceError(`$(${inner}): operator ${operator} does not apply to ${JSON.stringify(value)}`);
}

/** Returns the pattern with every `$(…)` replaced; `\$(` escapes a literal. */
export function resolveReferences(document: JsonValue): JsonValue {
  const visit = (value: JsonValue, path: string[]): JsonValue => {
    if (Array.isArray(value)) return value.map((item, i) => visit(item, [...path, String(i)]));
    if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item, [...path, parseKey(key).name])]));
    if (typeof value !== 'string' || !value.includes('$(')) return value;
    const whole = /^\$\((.[^ ]*)\)$/.exec(value);
    if (whole) return resolveOne(document, path, whole[1]!);
    const replaced = value.replace(referencePattern, (_, prefix: string, inner: string) => {
      const resolved = resolveOne(document, path, inner);
      return `${prefix}${typeof resolved === 'string' ? resolved : JSON.stringify(resolved)}`;
    });
    return replaced.replace(/\\\$\(/g, '$(');
  };
  return visit(document, []);
}
