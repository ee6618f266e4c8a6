/**
 * Compiling one rule: patterns parsed, JMESPath and CEL compiled, match blocks prepared. Every
 * problem is recorded with its field path instead of stopping at the first, so a refused policy
 * lists all its mistakes at once.
 */
import { compileCel, type CelProgram, type CompiledCelValidation } from './cel.js';
import { compileCondition, type CompiledConditions, type RawCondition } from './conditions.js';
import type { PolicyProblem } from './errors.js';
import { compileExpression } from './jmespath.js';
import type { JsonValue } from './json.js';
import { compileMatch, type CompiledMatch } from './match.js';
import type { CelValidation, Conditions, ContextEntry, FailureActionOverride, ForEachValidation, PolicyDocument, Rule } from './model.js';
import { compilePattern, type CompiledPattern } from './pattern.js';
import { resolveReferences } from './references.js';
import { checkVariables, containsVariable, jsonContainsVariable } from './variables.js';

export type FailureAction = 'Enforce' | 'Audit';

/** A pattern, compiled now unless it holds variables (then it is substituted and compiled per evaluation). */
export interface PatternSource {
  raw: JsonValue;
  compiled: CompiledPattern | undefined;
}

export interface CompiledContextEntry {
  name: string;
  value: JsonValue | undefined;
  jmesPath: string | undefined;
  defaultValue: JsonValue | undefined;
}

export type ElementBody =
  | { kind: 'deny'; conditions: CompiledConditions | undefined }
  | { kind: 'pattern'; pattern: PatternSource }
  | { kind: 'anyPattern'; patterns: PatternSource[] }
  | { kind: 'foreach'; entries: CompiledForEach[] }
  | { kind: 'none' };

export interface CompiledForEach {
  list: string;
  elementScope: boolean | undefined;
  context: CompiledContextEntry[];
  preconditions: CompiledConditions | undefined;
  body: ElementBody;
}

export type RuleBody = ElementBody | { kind: 'cel'; cel: CompiledCelValidation };

export interface CompiledRule {
  name: string;
  match: CompiledMatch;
  exclude: CompiledMatch | undefined;
  context: CompiledContextEntry[];
  preconditions: CompiledConditions | undefined;
  celPreconditions: { name: string; program: CelProgram }[];
  body: RuleBody;
  message: string | undefined;
  failureAction: FailureAction;
  failureActionOverrides: FailureActionOverride[];
  allowExistingViolations: boolean;
}

const unsupported: [keyof Rule, string][] = [
  ['mutate', 'mutate rules are not supported (only validate rules are evaluated)'],
  ['generate', 'generate rules are not supported (only validate rules are evaluated)'],
  ['verifyImages', 'verifyImages rules are not supported (they need an image registry)'],
];

export class Problems {
  readonly list: PolicyProblem[] = [];
  add(path: string, reason: string): void {
    this.list.push({ path, reason });
  }
  /** Runs a compile step, recording a thrown error as a problem at `path`. */
  attempt<T>(path: string, step: () => T): T | undefined {
    try {
      return step();
    } catch (err) {
      this.add(path, (err as Error).message);
      return undefined;
    }
  }
}

function checkJsonVariables(value: JsonValue | undefined, path: string, problems: Problems): void {
  if (value === undefined || !jsonContainsVariable(value)) return;
  const visit = (item: JsonValue, at: string): void => {
    if (typeof item === 'string') {
      if (containsVariable(item)) problems.attempt(at, () => checkVariables(item));
    } else if (Array.isArray(item)) item.forEach((x, i) => visit(x, `${at}[${i}]`));
    else if (item !== null && typeof item === 'object') {
      for (const [key, x] of Object.entries(item)) {
        if (containsVariable(key)) problems.attempt(`${at}.${key}`, () => checkVariables(key));
        visit(x, `${at}.${key}`);
      }
    }
  };
  visit(value, path);
}

function compilePatternSource(declared: JsonValue, path: string, problems: Problems): PatternSource {
  const raw = JSON.stringify(declared).includes('$(') ? (problems.attempt(path, () => resolveReferences(declared)) ?? declared) : declared;
  checkJsonVariables(raw, path, problems);
  const patternProblems: { path: string; reason: string }[] = [];
  const compiled = compilePattern(raw, patternProblems, path);
  for (const problem of patternProblems) problems.add(problem.path, problem.reason);
  return { raw, compiled: jsonContainsVariable(raw) ? undefined : compiled };
}

function compileConditionBlock(raw: Conditions | null | undefined, path: string, problems: Problems): CompiledConditions | undefined {
  if (raw === null || raw === undefined) return undefined;
  const compileList = (list: RawCondition[], at: string) =>
    list.flatMap((condition, i) => {
      checkJsonVariables(condition.key, `${at}[${i}].key`, problems);
      checkJsonVariables(condition.value, `${at}[${i}].value`, problems);
      const compiled = problems.attempt(`${at}[${i}].operator`, () => compileCondition(condition));
      return compiled ? [compiled] : [];
    });
  if (Array.isArray(raw)) return { form: 'list', conditions: compileList(raw as RawCondition[], path) };
  return {
    form: 'anyAll',
    any: raw.any ? compileList(raw.any as RawCondition[], `${path}.any`) : undefined,
    all: raw.all ? compileList(raw.all as RawCondition[], `${path}.all`) : undefined,
  };
}

function compileContext(entries: ContextEntry[] | null | undefined, path: string, problems: Problems): CompiledContextEntry[] {
  return (entries ?? []).map((entry, i) => {
    const at = `${path}[${i}]`;
    for (const kind of ['configMap', 'apiCall', 'imageRegistry', 'globalReference'] as const) {
      if (entry[kind] !== undefined) problems.add(`${at}.${kind}`, `context entries of type ${kind} are not supported (only variable entries are)`);
    }
    if (!entry.variable) {
      if (!(['configMap', 'apiCall', 'imageRegistry', 'globalReference'] as const).some((k) => entry[k] !== undefined)) problems.add(at, 'a context entry needs a variable');
      return { name: entry.name, value: undefined, jmesPath: undefined, defaultValue: undefined };
    }
    const { value, jmesPath, default: defaultValue } = entry.variable;
    if (value === undefined && !jmesPath) problems.add(`${at}.variable`, 'a variable needs a value or a jmesPath');
    checkJsonVariables(value, `${at}.variable.value`, problems);
    checkJsonVariables(defaultValue, `${at}.variable.default`, problems);
    if (jmesPath) {
      if (containsVariable(jmesPath)) problems.attempt(`${at}.variable.jmesPath`, () => checkVariables(jmesPath));
      else problems.attempt(`${at}.variable.jmesPath`, () => compileExpression(jmesPath));
    }
    return { name: entry.name, value, jmesPath: jmesPath ?? undefined, defaultValue };
  });
}

function compileElementBody(
  source: { pattern?: JsonValue; anyPattern?: JsonValue; deny?: { conditions?: Conditions | null } | null; foreach?: ForEachValidation[] | null },
  path: string,
  problems: Problems,
): ElementBody {
  const present = (['deny', 'pattern', 'anyPattern', 'foreach'] as const).filter((k) => source[k] !== undefined && source[k] !== null);
  if (present.length > 1) problems.add(path, `only one of ${present.join(', ')} may be given`);
  if (source.deny) return { kind: 'deny', conditions: compileConditionBlock(source.deny.conditions, `${path}.deny.conditions`, problems) };
  if (source.pattern !== undefined && source.pattern !== null) return { kind: 'pattern', pattern: compilePatternSource(source.pattern, `${path}.pattern`, problems) };
  if (source.anyPattern !== undefined && source.anyPattern !== null) {
    if (!Array.isArray(source.anyPattern) || source.anyPattern.length === 0) {
      problems.add(`${path}.anyPattern`, 'anyPattern must be a non-empty list of patterns');
      return { kind: 'none' };
    }
    return { kind: 'anyPattern', patterns: source.anyPattern.map((p, i) => compilePatternSource(p, `${path}.anyPattern[${i}]`, problems)) };
  }
  if (source.foreach && source.foreach.length > 0) return { kind: 'foreach', entries: source.foreach.map((f, i) => compileForEach(f, `${path}.foreach[${i}]`, problems)) };
  problems.add(path, 'needs one of pattern, anyPattern, deny, foreach (or cel for a rule)');
  return { kind: 'none' };
}

function compileForEach(raw: ForEachValidation, path: string, problems: Problems): CompiledForEach {
  problems.attempt(`${path}.list`, () => compileExpression(raw.list.trim()));
  return {
    list: raw.list.trim(),
    elementScope: raw.elementScope ?? undefined,
    context: compileContext(raw.context, `${path}.context`, problems),
    preconditions: compileConditionBlock(raw.preconditions, `${path}.preconditions`, problems),
    body: compileElementBody(raw, path, problems),
  };
}

function compileCelBlock(cel: CelValidation, path: string, problems: Problems): CompiledCelValidation {
  const program = (source: string, at: string) => problems.attempt(at, () => compileCel(source));
  return {
    expressions: (cel.expressions ?? []).flatMap((e, i) => {
      const compiled = program(e.expression, `${path}.expressions[${i}].expression`);
      const messageExpression = e.messageExpression ? program(e.messageExpression, `${path}.expressions[${i}].messageExpression`) : undefined;
      return compiled ? [{ program: compiled, message: e.message ?? undefined, messageExpression }] : [];
    }),
    variables: (cel.variables ?? []).flatMap((v, i) => {
      const compiled = program(v.expression, `${path}.variables[${i}].expression`);
      return compiled ? [{ name: v.name, program: compiled }] : [];
    }),
    auditAnnotations: (cel.auditAnnotations ?? []).flatMap((a, i) => {
      const compiled = program(a.valueExpression, `${path}.auditAnnotations[${i}].valueExpression`);
      return compiled ? [{ key: a.key, program: compiled }] : [];
    }),
  };
}

function normalizeAction(action: string | null | undefined): FailureAction | undefined {
  if (action === null || action === undefined) return undefined;
  return action.toLowerCase() === 'enforce' ? 'Enforce' : 'Audit';
}

export function compileRule(rule: Rule, path: string, policy: PolicyDocument, problems: Problems): CompiledRule {
  for (const [field, reason] of unsupported) if (rule[field] !== undefined) problems.add(`${path}.${field}`, reason);
  const validate = rule.validate;
  if (!validate) problems.add(`${path}.validate`, 'a rule needs a validate block');
  for (const [field, reason] of [
    ['podSecurity', 'validate.podSecurity is not supported'],
    ['manifests', 'validate.manifests (signature verification) is not supported'],
    ['assert', 'validate.assert is not supported'],
  ] as const) {
    if (validate?.[field] !== undefined) problems.add(`${path}.validate.${field}`, reason);
  }
  checkJsonVariables(validate?.message ?? undefined, `${path}.validate.message`, problems);
  let body: RuleBody = { kind: 'none' };
  if (validate?.cel) {
    const cel = validate.cel;
    if (cel.paramKind !== undefined || cel.paramRef !== undefined) problems.add(`${path}.validate.cel`, 'CEL parameters (paramKind/paramRef) are not supported');
    body = { kind: 'cel', cel: compileCelBlock(cel, `${path}.validate.cel`, problems) };
    const others = (['deny', 'pattern', 'anyPattern', 'foreach'] as const).filter((k) => validate[k] !== undefined && validate[k] !== null);
    if (others.length > 0) problems.add(`${path}.validate`, `cel cannot be combined with ${others.join(', ')}`);
  } else if (validate) {
    body = compileElementBody(validate, `${path}.validate`, problems);
  }
  const celPreconditions = (rule.celPreconditions ?? []).flatMap((c, i) => {
    const program = problems.attempt(`${path}.celPreconditions[${i}].expression`, () => compileCel(c.expression));
    return program ? [{ name: c.name, program }] : [];
  });
  return {
    name: rule.name,
    match: compileMatch(rule.match),
    exclude: rule.exclude ? compileMatch(rule.exclude) : undefined,
    context: compileContext(rule.context, `${path}.context`, problems),
    preconditions: compileConditionBlock(rule.preconditions, `${path}.preconditions`, problems),
    celPreconditions,
    body,
    message: validate?.message ?? undefined,
    failureAction: normalizeAction(validate?.failureAction) ?? normalizeAction(policy.spec.validationFailureAction) ?? 'Audit',
    failureActionOverrides: validate?.failureActionOverrides ?? policy.spec.validationFailureActionOverrides ?? [],
    allowExistingViolations: validate?.allowExistingViolations ?? true,
  };
}

