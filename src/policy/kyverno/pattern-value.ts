/**
 * Matching one resource value against one scalar pattern leaf (pkg/engine/pattern/pattern.go).
 * A string leaf is an expression: alternatives split on `|`, conjunctions on `&`, each part an
 * optional operator (`>=`, `<=`, `>`, `<`, `!`) or a range (`a-b`, `a!-b`) over an operand that is
 * compared as a Go duration, else a Kubernetes quantity, else a wildcard string
 * (../shared/conformance/kyverno/SEMANTICS.md §3).
 */
import { formatGoFloatE, isJsonObject, type JsonValue } from './json.js';
import { compareQuantities, parseGoDuration, parseQuantity } from './quantity.js';
import { matchWildcard } from './wildcard.js';

export type PatternOperator = '' | '>=' | '<=' | '>' | '<' | '!';

/** One comparison: `op operand`. Ranges are expanded into two of these at compile time. */
interface Comparison {
  op: PatternOperator;
  operand: string;
}

/** A part of a conjunction: a comparison, or a range that passes when inside (or outside) its bounds. */
type Term = { type: 'compare'; comparison: Comparison } | { type: 'range'; low: string; high: string; outside: boolean };

/** A compiled string pattern: OR of AND of terms. */
export interface StringPattern {
  source: string;
  alternatives: Term[][];
}

const notInRange = /^(-?\d+(?:\.\d+)?[A-Za-z]*)!-(-?\d+(?:\.\d+)?[A-Za-z]*)$/;
const inRange = /^(-?\d+(?:\.\d+)?[A-Za-z]*)-(-?\d+(?:\.\d+)?[A-Za-z]*)$/;

function parseTerm(part: string): Term {
  if (part.length >= 2) {
    for (const op of ['>=', '<=', '>', '<', '!'] as const) {
      if (part.startsWith(op)) return { type: 'compare', comparison: { op, operand: part.slice(op.length).trim() } };
    }
    const outside = notInRange.exec(part);
    if (outside) return { type: 'range', low: outside[1]!, high: outside[2]!, outside: true };
    const inside = inRange.exec(part);
    if (inside) return { type: 'range', low: inside[1]!, high: inside[2]!, outside: false };
  }
  return { type: 'compare', comparison: { op: '', operand: part.trim() } };
}

export function compileStringPattern(source: string): StringPattern {
  return {
    source,
    alternatives: source.split('|').map((alternative) =>
      alternative
        .trim()
        .split('&')
        .map((part) => parseTerm(part.trim())),
    ),
  };
}

/** Kyverno's `convertNumberToString`: the text a duration or quantity comparison parses. */
function numericText(value: JsonValue | undefined): string | undefined {
  if (value === null || value === undefined) return '0';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return value.toFixed(6);
  return undefined;
}

function applyOrder(order: number, op: PatternOperator): boolean {
  switch (op) {
    case '':
      return order === 0;
    case '!':
      return order !== 0;
    case '>':
      return order > 0;
    case '<':
      return order < 0;
    case '>=':
      return order >= 0;
    case '<=':
      return order <= 0;
  }
}

function compareDuration(value: JsonValue | undefined, { op, operand }: Comparison): boolean {
  const expected = parseGoDuration(operand);
  if (expected === undefined) return false;
  const text = numericText(value);
  const actual = text === undefined ? undefined : parseGoDuration(text);
  if (actual === undefined) return false;
  return applyOrder(Math.sign(actual - expected), op);
}

function compareQuantity(value: JsonValue | undefined, { op, operand }: Comparison): boolean {
  const expected = parseQuantity(operand);
  if (!expected) return false;
  const text = numericText(value);
  const actual = text === undefined ? undefined : parseQuantity(text);
  if (!actual) return false;
  return applyOrder(compareQuantities(actual, expected), op);
}

function compareString(value: JsonValue | undefined, { op, operand }: Comparison): boolean {
  if (op !== '' && op !== '!') return false; // >, <, >=, <= never apply to strings
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') text = formatGoFloatE(value);
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else return false;
  const matched = matchWildcard(operand, text);
  return op === '!' ? !matched : matched;
}

function matchComparison(value: JsonValue | undefined, comparison: Comparison): boolean {
  return compareDuration(value, comparison) || compareQuantity(value, comparison) || compareString(value, comparison);
}

function matchTerm(value: JsonValue | undefined, term: Term): boolean {
  if (term.type === 'compare') return matchComparison(value, term.comparison);
  if (term.outside) return matchComparison(value, { op: '<', operand: term.low }) || matchComparison(value, { op: '>', operand: term.high });
  return matchComparison(value, { op: '>=', operand: term.low }) && matchComparison(value, { op: '<=', operand: term.high });
}

export function matchStringPattern(value: JsonValue | undefined, pattern: StringPattern): boolean {
  if (value === pattern.source) return true;
  return pattern.alternatives.some((terms) => terms.every((term) => matchTerm(value, term)));
}

/**
 * A scalar pattern leaf (string, number, boolean or null) against a resource value.
 * Numbers in policies and resources are float64 in Kyverno, so a numeric pattern compares
 * numerically and parses a numeric string.
 */
export function matchScalar(value: JsonValue | undefined, pattern: JsonValue, compiled: StringPattern | undefined): boolean {
  if (typeof pattern === 'string') return matchStringPattern(value, compiled ?? compileStringPattern(pattern));
  if (typeof pattern === 'boolean') return typeof value === 'boolean' && value === pattern;
  if (typeof pattern === 'number') {
    if (typeof value === 'number') return value === pattern;
    if (typeof value === 'string') {
      const parsed = parseGoFloat(value);
      return parsed !== undefined && parsed === pattern;
    }
    return false;
  }
  if (pattern === null) {
    if (value === null || value === undefined) return true;
    if (typeof value === 'number') return value === 0;
    if (typeof value === 'string') return value === '';
    if (typeof value === 'boolean') return !value;
    return false;
  }
  if (isJsonObject(pattern)) return isJsonObject(value);
  return false; // lists are not scalar patterns
}

/** Go's `strconv.ParseFloat` for the forms that occur in manifests. */
export function parseGoFloat(text: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|[Ii]nf(inity)?|NaN)$/.test(text)) return undefined;
  return Number(text.replace(/^([+-]?)[Ii]nf(inity)?$/, '$1Infinity'));
}
