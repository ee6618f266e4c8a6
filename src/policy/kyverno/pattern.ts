/**
 * Structural pattern matching for `validate.pattern` / `anyPattern` (pkg/engine/validate/validate.go
 * and pkg/engine/anchor). Patterns are compiled once: anchors parsed, keys put in Kyverno's
 * evaluation order, string leaves parsed into operator expressions.
 *
 * The result is tri-state. A conditional `(k)` or global `<(k)` anchor that does not hold makes the
 * map *skip*; in a list, elements that skip are dropped and the list skips only when every element
 * did. Anything else that does not match *fails* with the path where it failed, and a failure with
 * no path (or while a conditional/existence anchor key was never seen in the resource) is an
 * *error*, as Kyverno reports it (../shared/conformance/kyverno/SEMANTICS.md §4).
 */
import { parseKey, type AnchorKind } from './anchor.js';
import { hasOwn, isJsonObject, type JsonObject, type JsonPrimitive, type JsonValue } from './json.js';
import { compileStringPattern, matchScalar, type StringPattern } from './pattern-value.js';
import { expandMetadataWildcards, hasMetadataWildcards } from './pattern-wildcards.js';

interface MapEntry {
  key: string;
  anchor: AnchorKind | undefined;
  name: string;
  node: PatternNode;
  /** `key: "*"` means "present and not null", checked before any value comparison. */
  isStar: boolean;
}

interface MapNode {
  kind: 'map';
  raw: JsonObject;
  /** Conditional, equality, existence and negation anchors, sorted by key text. */
  anchors: MapEntry[];
  /** Global anchors and keys with anchors below them first, then the rest, as Kyverno orders them. */
  others: MapEntry[];
  /** Anchor keys whose presence in the resource Kyverno tracks (conditional, existence, negation). */
  tracked: MapEntry[];
  /** Wildcard keys under metadata.labels/annotations, expanded against the resource at match time. */
  expandsMetadata: boolean;
}

interface ListNode {
  kind: 'list';
  items: PatternNode[];
}

interface LeafNode {
  kind: 'leaf';
  value: JsonPrimitive;
  compiled: StringPattern | undefined;
}

type PatternNode = MapNode | ListNode | LeafNode;

/** A pattern ready to match; build it with `compilePattern`. */
export interface CompiledPattern {
  readonly root: PatternNode;
}

export type PatternOutcome =
  | { status: 'pass' }
  | { status: 'skip'; reason: string }
  | { status: 'fail'; path: string; reason: string }
  | { status: 'error'; reason: string };

/** A problem found while compiling a pattern, with the pattern path where it sits. */
export interface PatternProblem {
  path: string;
  reason: string;
}

type Failure = { type: 'skip'; reason: string } | { type: 'fail'; path: string; reason: string; negation: boolean };

// ---- compile ---------------------------------------------------------------------------------

export function compilePattern(raw: JsonValue, problems: PatternProblem[] = [], path = ''): CompiledPattern {
  return { root: compileNode(raw, problems, path) };
}

function compileNode(raw: JsonValue, problems: PatternProblem[], path: string): PatternNode {
  if (Array.isArray(raw)) {
    if (raw.length === 0) problems.push({ path, reason: 'a list pattern needs at least one element' });
    return { kind: 'list', items: raw.map((item, i) => compileNode(item, problems, `${path}[${i}]`)) };
  }
  if (isJsonObject(raw)) return compileMap(raw, problems, path);
  return { kind: 'leaf', value: raw, compiled: typeof raw === 'string' ? compileStringPattern(raw) : undefined };
}

function compileMap(raw: JsonObject, problems: PatternProblem[], path: string): MapNode {
  const anchors: MapEntry[] = [];
  const rest: MapEntry[] = [];
  for (const key of Object.keys(raw).sort()) {
    const { anchor, name } = parseKey(key);
    const value = raw[key]!;
    const entryPath = path === '' ? key : `${path}.${key}`;
    if (anchor === 'add') problems.push({ path: entryPath, reason: 'the +() anchor only applies to mutate rules' });
    if (anchor === 'existence' && !(Array.isArray(value) && value.length > 0 && value.every(isJsonObject))) {
      problems.push({ path: entryPath, reason: 'an existence anchor ^() needs a list of maps' });
    }
    const entry: MapEntry = { key, anchor, name, node: compileNode(value, problems, entryPath), isStar: value === '*' };
    if (anchor === 'conditional' || anchor === 'equality' || anchor === 'existence' || anchor === 'negation') anchors.push(entry);
    else rest.push(entry);
  }
  // Kyverno pushes global anchors and keys with nested anchors to the front one by one, so they
  // end up in reverse key order ahead of the plain keys (validate/utils.go getSortedNestedAnchorResource).
  const front: MapEntry[] = [];
  const back: MapEntry[] = [];
  for (const entry of rest) {
    if (entry.anchor === 'global' || hasNestedAnchors(raw[entry.key]!)) front.unshift(entry);
    else back.push(entry);
  }
  const tracked = [...anchors, ...rest].filter((e) => e.anchor === 'conditional' || e.anchor === 'existence' || e.anchor === 'negation');
  return { kind: 'map', raw, anchors, others: [...front, ...back], tracked, expandsMetadata: hasMetadataWildcards(raw) };
}

function hasNestedAnchors(value: JsonValue): boolean {
  if (Array.isArray(value)) return value.some(hasNestedAnchors);
  if (!isJsonObject(value)) return false;
  return Object.keys(value).some((key) => {
    const { anchor } = parseKey(key);
    return (anchor !== undefined && anchor !== 'add') || hasNestedAnchors(value[key]!);
  });
}

// ---- match -----------------------------------------------------------------------------------

/** Per-match record of which tracked anchor keys were ever present in the resource. */
type AnchorPresence = Map<string, boolean>;

/** Matches a resource against a compiled pattern, with Kyverno's pass/skip/fail/error outcome. */
export function matchPattern(resource: JsonValue, pattern: CompiledPattern): PatternOutcome {
  const presence: AnchorPresence = new Map();
  const failure = matchNode(resource, pattern.root, '/', presence);
  if (failure === undefined) return { status: 'pass' };
  if (failure.type === 'skip') return { status: 'skip', reason: failure.reason };
  if (failure.negation) return { status: 'fail', path: failure.path, reason: failure.reason };
  const missingAnchor = [...presence].some(([key, seen]) => !seen && parseKey(key).anchor !== 'negation');
  if (missingAnchor || failure.path === '') return { status: 'error', reason: failure.reason };
  return { status: 'fail', path: failure.path, reason: failure.reason };
}

function fail(path: string, reason: string, negation = false): Failure {
  return { type: 'fail', path, reason, negation };
}

function matchNode(resource: JsonValue | undefined, node: PatternNode, path: string, presence: AnchorPresence): Failure | undefined {
  switch (node.kind) {
    case 'map': {
      if (!isJsonObject(resource)) return fail(path, `expected a map at ${path}, found ${describe(resource)}`);
      trackAnchors(node, resource, presence);
      const effective = node.expandsMetadata ? compileMap(expandMetadataWildcards(node.raw, resource), [], '') : node;
      return matchMap(resource, effective, path, presence);
    }
    case 'list':
      if (!Array.isArray(resource)) return fail(path, `expected a list at ${path}, found ${describe(resource)}`);
      return matchList(resource, node, path, presence);
    case 'leaf': {
      const values = Array.isArray(resource) ? resource : [resource];
      for (const value of values) {
        if (!matchScalar(value, node.value, node.compiled)) {
          return fail(path, `value ${describe(resource)} does not match ${JSON.stringify(node.value)} at path ${path}`);
        }
      }
      return undefined;
    }
  }
}

function trackAnchors(node: MapNode, resource: JsonObject, presence: AnchorPresence): void {
  for (const entry of node.tracked) {
    if (presence.get(entry.key) === true) continue;
    presence.set(entry.key, hasOwn(resource, entry.name));
  }
}

function matchMap(resource: JsonObject, node: MapNode, path: string, presence: AnchorPresence): Failure | undefined {
  for (const entry of node.anchors) {
    const failure = matchEntry(resource, entry, path, presence);
    if (failure) return failure;
  }
  for (const entry of node.others) {
    const failure = matchEntry(resource, entry, path, presence);
    if (failure) return failure;
  }
  return undefined;
}

function matchEntry(resource: JsonObject, entry: MapEntry, path: string, presence: AnchorPresence): Failure | undefined {
  const present = hasOwn(resource, entry.name);
  const value = present ? resource[entry.name] : undefined;
  const current = `${path}${entry.name}/`;
  switch (entry.anchor) {
    case 'conditional': {
      if (!present) return { type: 'skip', reason: `conditional anchor key ${entry.name} is not in the resource at ${path}` };
      const failure = matchNode(value, entry.node, current, presence);
      return failure ? { type: 'skip', reason: `conditional anchor mismatch at ${current}: ${failure.reason}` } : undefined;
    }
    case 'global': {
      if (!present) return undefined;
      const failure = matchNode(value, entry.node, current, presence);
      return failure ? { type: 'skip', reason: `global anchor mismatch at ${current}: ${failure.reason}` } : undefined;
    }
    case 'equality':
      return present ? matchNode(value, entry.node, current, presence) : undefined;
    case 'negation':
      return present ? fail(current, `${current} is not allowed`, true) : undefined;
    case 'existence':
      return present ? matchExistence(value, entry, current, presence) : undefined;
    default:
      if (entry.isStar) return value !== undefined && value !== null ? undefined : fail(path, `${path}${entry.name} not found`);
      return matchNode(value ?? null, entry.node, current, presence);
  }
}

/** `^(k): [P…]`: every pattern map must be matched by at least one element of the resource list. */
function matchExistence(value: JsonValue | undefined, entry: MapEntry, path: string, presence: AnchorPresence): Failure | undefined {
  if (!Array.isArray(value)) return fail(path, `an existence anchor ^() applies only to a list, found ${describe(value)} at ${path}`);
  if (entry.node.kind !== 'list') return fail(path, `an existence anchor ^() needs a list pattern at ${path}`);
  for (const item of entry.node.items) {
    if (item.kind !== 'map') return fail(path, `an existence anchor ^() needs a list of maps at ${path}`);
    const satisfied = value.some((element, i) => matchNode(element, item, `${path}${i}/`, presence) === undefined);
    if (!satisfied) return fail(path, `existence anchor validation failed at path ${path}`);
  }
  return undefined;
}

function matchList(resource: JsonValue[], node: ListNode, path: string, presence: AnchorPresence): Failure | undefined {
  const first = node.items[0];
  if (first === undefined) return fail(path, 'pattern list is empty');
  if (first.kind === 'leaf') return matchNode(resource, first, path, presence);
  if (first.kind === 'map') return collectSkips(resource.map((element, i) => () => matchNode(element, first, `${path}${i}/`, presence)), path);
  // A list of lists is matched position by position.
  if (resource.length < node.items.length) {
    return fail('', `list length mismatch: the resource has ${resource.length} elements, the pattern ${node.items.length}`);
  }
  return collectSkips(node.items.map((item, i) => () => matchNode(resource[i], item, `${path}${i}/`, presence)), path);
}

/** Elements that skip are dropped; the list skips only when none applied and some skipped. */
function collectSkips(checks: (() => Failure | undefined)[], path: string): Failure | undefined {
  let applied = 0;
  const skipped: string[] = [];
  for (const check of checks) {
    const failure = check();
    if (failure === undefined) applied++;
    else if (failure.type === 'skip') skipped.push(failure.reason);
    else return failure;
  }
  if (applied === 0 && skipped.length > 0) return { type: 'skip', reason: skipped.join('; ') || `skipped at ${path}` };
  return undefined;
}

function describe(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
