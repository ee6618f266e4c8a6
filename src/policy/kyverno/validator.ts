/**
 * One validate step, for a rule or for one foreach element (pkg/engine/handlers/validation/
 * validate_resource.go): load the context entries, check the preconditions, then run the body
 * (deny, pattern, anyPattern or a nested foreach). `undefined` is "no response": Kyverno reports
 * nothing for the rule, and its test harness counts the row as excluded.
 */
import type { CompiledContextEntry, CompiledForEach, ElementBody, PatternSource } from './compile-rule.js';
import { evaluateConditions, type CompiledConditions } from './conditions.js';
import { compileExpression, evaluateExpression } from './jmespath.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { compilePattern, matchPattern, type PatternOutcome } from './pattern.js';
import { loadContextEntries } from './rule-context.js';
import { substituteJson, substituteString, type VariableScope } from './variables.js';

export type StepStatus = 'pass' | 'fail' | 'skip' | 'error';
export type StepOutcome = { status: StepStatus; message: string } | undefined;

export interface StepEnv {
  ruleName: string;
  ruleMessage: string | undefined;
  scope: VariableScope;
  /** The object patterns validate (undefined on DELETE, where pattern rules give no response). */
  resource: JsonValue | undefined;
  /** The foreach element when it is the pattern's target (element scope). */
  element: JsonObject | undefined;
  nesting: number;
}

export interface Step {
  context: readonly CompiledContextEntry[];
  preconditions: CompiledConditions | undefined;
  body: ElementBody;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function runStep(step: Step, env: StepEnv): StepOutcome {
  let scope = env.scope;
  try {
    if (step.context.length > 0) scope = { ...scope, data: loadContextEntries(step.context, scope) };
  } catch (err) {
    return { status: 'error', message: `failed to load context: ${errorText(err)}` };
  }
  if (step.preconditions) {
    let result;
    try {
      result = evaluateConditions(step.preconditions, scope);
    } catch (err) {
      return { status: 'error', message: `failed to evaluate preconditions: ${errorText(err)}` };
    }
    if (!result.holds) return { status: 'skip', message: ['preconditions not met', ...result.messages].join('; ') };
  }
  const stepEnv = { ...env, scope };
  switch (step.body.kind) {
    case 'deny':
      return runDeny(step.body.conditions, stepEnv);
    case 'pattern':
    case 'anyPattern':
      return runPatterns(step.body.kind === 'pattern' ? [step.body.pattern] : step.body.patterns, step.body.kind === 'anyPattern', stepEnv);
    case 'foreach':
      return runForEach(step.body.entries, stepEnv);
    case 'none':
      return undefined;
  }
}

/** The rule message with variables substituted; on failure, the given fallback. */
function renderMessage(template: string, scope: VariableScope, fallback: string): string {
  try {
    const rendered = substituteString(template, scope);
    return typeof rendered === 'string' ? rendered : "the produced message didn't resolve to a string, check your policy definition.";
  } catch {
    return fallback;
  }
}

function runDeny(conditions: CompiledConditions | undefined, env: StepEnv): StepOutcome {
  let denied = true;
  let messages: string[] = [];
  if (conditions) {
    try {
      const result = evaluateConditions(conditions, env.scope);
      denied = result.holds;
      messages = result.messages;
    } catch (err) {
      return { status: 'error', message: `failed to check deny conditions: ${errorText(err)}` };
    }
  }
  if (!denied) return { status: 'pass', message: `validation rule '${env.ruleName}' passed.` };
  const conditionMessages = messages.join('; ');
  const combined = [env.ruleMessage ?? '', conditionMessages].filter((m) => m !== '').join('; ');
  if (combined === '') return { status: 'fail', message: `validation error: rule ${env.ruleName} failed` };
  return { status: 'fail', message: renderMessage(combined, env.scope, conditionMessages) };
}

function failureMessage(env: StepEnv, outcome: Exclude<PatternOutcome, { status: 'pass' | 'skip' }>): string {
  const path = outcome.status === 'fail' ? outcome.path : '';
  const detail = path ? `failed at path ${path}` : `execution error: ${outcome.reason}`;
  if (!env.ruleMessage) return `validation error: rule ${env.ruleName} ${detail}`;
  let message = renderMessage(env.ruleMessage, env.scope, '');
  if (message === '') return `validation error: variables substitution error in rule ${env.ruleName} ${detail}`;
  if (!message.endsWith('.')) message += '.';
  return `validation error: ${message} rule ${env.ruleName} ${detail}`;
}

function resolvePattern(source: PatternSource, scope: VariableScope): ReturnType<typeof compilePattern> {
  if (source.compiled) return source.compiled;
  const problems: { path: string; reason: string }[] = [];
  const compiled = compilePattern(substituteJson(source.raw, scope), problems);
  if (problems.length > 0) throw new Error(`invalid pattern after variable substitution: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`);
  return compiled;
}

function runPatterns(sources: readonly PatternSource[], isAnyPattern: boolean, env: StepEnv): StepOutcome {
  let patterns;
  try {
    patterns = sources.map((source) => resolvePattern(source, env.scope));
  } catch (err) {
    return { status: 'error', message: `variable substitution failed: ${errorText(err)}` };
  }
  const target = env.element ?? env.resource;
  if (target === undefined) return undefined; // DELETE: Kyverno does not validate a deleted object's pattern
  if (!isAnyPattern) {
    const outcome = matchPattern(target, patterns[0]!);
    if (outcome.status === 'pass') return { status: 'pass', message: `validation rule '${env.ruleName}' passed.` };
    if (outcome.status === 'skip') return { status: 'skip', message: outcome.reason };
    return { status: outcome.status, message: failureMessage(env, outcome) };
  }
  const failed: string[] = [];
  const skipped: string[] = [];
  for (const [index, pattern] of patterns.entries()) {
    const outcome = matchPattern(target, pattern);
    if (outcome.status === 'pass') return { status: 'pass', message: `validation rule '${env.ruleName}' anyPattern[${index}] passed.` };
    if (outcome.status === 'skip') skipped.push(`rule ${env.ruleName}[${index}] skipped: ${outcome.reason}`);
    else failed.push(outcome.status === 'fail' ? `rule ${env.ruleName}[${index}] failed at path ${outcome.path}` : `rule ${env.ruleName}[${index}] failed: ${outcome.reason}`);
  }
  if (failed.length === 0 && skipped.length > 0) return { status: 'skip', message: skipped.join(' ') };
  if (failed.length === 0) return { status: 'pass', message: env.ruleMessage ?? '' };
  const errors = failed.join(' ');
  if (!env.ruleMessage) return { status: 'fail', message: `validation error: ${errors}` };
  const message = renderMessage(env.ruleMessage, env.scope, '');
  return { status: 'fail', message: message.endsWith('.') ? `validation error: ${message} ${errors}` : `validation error: ${message}. ${errors}` };
}

function runForEach(entries: readonly CompiledForEach[], env: StepEnv): StepOutcome {
  let applied = 0;
  for (const entry of entries) {
    let elements: JsonValue[];
    try {
      const list = evaluateExpression(compileExpression(entry.list), env.scope.data);
      elements = Array.isArray(list) ? list : [list];
    } catch {
      // Kyverno skips a foreach entry whose list cannot be evaluated (a missing key, typically).
      continue;
    }
    const { outcome, count } = runElements(entry, elements, env);
    if (outcome && outcome.status !== 'pass') return outcome;
    applied += count;
  }
  if (applied === 0) return undefined;
  return { status: 'pass', message: 'rule passed' };
}

function runElements(entry: CompiledForEach, elements: JsonValue[], env: StepEnv): { outcome: StepOutcome; count: number } {
  let count = 0;
  for (const [index, element] of elements.entries()) {
    if (element === null) continue;
    const isMap = isJsonObject(element);
    if (entry.elementScope === true && !isMap) {
      const message = `cannot use elementScope=true foreach rules for elements that are not maps, expected type=map got type=${Array.isArray(element) ? '[]interface {}' : typeof element}`;
      return { outcome: { status: 'error', message: `failed to process foreach: ${message}` }, count };
    }
    const scoped = entry.elementScope ?? isMap;
    const data: JsonObject = { ...env.scope.data, element, elementIndex: index, [`element${env.nesting}`]: element, [`elementIndex${env.nesting}`]: index };
    const outcome = runStep(entry, {
      ...env,
      scope: { data, isDelete: env.scope.isDelete },
      element: scoped && isMap ? element : undefined,
      nesting: env.nesting + 1,
    });
    if (outcome === undefined || outcome.status === 'skip') continue;
    if (outcome.status !== 'pass') {
      // An element that errors is passed over unless it is the last one (validateElements).
      if (outcome.status === 'error' && index < elements.length - 1) continue;
      return { outcome: { status: outcome.status, message: `validation failure: ${outcome.message}` }, count };
    }
    count++;
  }
  return { outcome: { status: 'pass', message: '' }, count };
}
