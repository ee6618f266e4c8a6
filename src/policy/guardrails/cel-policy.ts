/**
 * Plinth's own CEL policies (`GuardrailPolicy`): compiled once, evaluated against claims, deploy
 * requests, pipeline results and entities. Evaluation reuses the CEL machinery of Kyverno's
 * `validate.cel` (same library, same optional syntax, same lazily evaluated variables), so one
 * expression behaves the same in both kinds of policy.
 */
import type { z } from 'zod';
import { celActivation, compileCel, evaluateCelValidation, toCelValue, type CelProgram, type CompiledCelValidation } from '../kyverno/cel.js';
import { PolicyLoadError, type PolicyProblem } from '../kyverno/errors.js';
import type { JsonObject, JsonValue } from '../kyverno/json.js';
import { formatPath } from '../kyverno/load.js';
import { matchWildcard } from '../kyverno/wildcard.js';
import { guardrailPolicySchema, type DecisionResult, type EnforcementPoint, type GuardrailPolicyDocument } from './model.js';

/** The one rule name a GuardrailPolicy reports under (its validations run as one rule, as in a ValidatingAdmissionPolicy). */
export const GUARDRAIL_RULE = 'validations';

export interface CompiledGuardrail {
  name: string;
  document: GuardrailPolicyDocument;
  points: ReadonlySet<EnforcementPoint>;
  kinds: readonly string[];
  failureAction: 'Enforce' | 'Audit';
  failurePolicy: 'Fail' | 'Ignore';
  matchConditions: { name: string; program: CelProgram }[];
  validation: CompiledCelValidation;
}

export interface GuardrailInput {
  point: EnforcementPoint;
  object: JsonObject;
  request: JsonObject;
  context: JsonObject;
}

function zodProblems(error: z.ZodError): PolicyProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      return { path: formatPath(issue.path), reason: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}` };
    }
    return { path: formatPath(issue.path), reason: issue.message };
  });
}

/** Validates and compiles a GuardrailPolicy; throws PolicyLoadError listing every problem with its field path. */
export function compileGuardrail(value: JsonValue, source: string): CompiledGuardrail {
  const parsed = guardrailPolicySchema.safeParse(value);
  if (!parsed.success) throw new PolicyLoadError(source, zodProblems(parsed.error));
  const document = parsed.data;
  const problems: PolicyProblem[] = [];
  const compile = (path: string, expression: string): CelProgram | undefined => {
    try {
      return compileCel(expression);
    } catch (err) {
      problems.push({ path, reason: (err as Error).message });
      return undefined;
    }
  };
  const spec = document.spec;
  const matchConditions = (spec.matchConditions ?? []).flatMap((c, i) => {
    const program = compile(`spec.matchConditions[${i}].expression`, c.expression);
    return program ? [{ name: c.name, program }] : [];
  });
  const variables = (spec.variables ?? []).flatMap((v, i) => {
    const program = compile(`spec.variables[${i}].expression`, v.expression);
    return program ? [{ name: v.name, program }] : [];
  });
  const expressions = spec.validations.flatMap((v, i) => {
    const program = compile(`spec.validations[${i}].expression`, v.expression);
    const messageExpression = v.messageExpression === undefined ? undefined : compile(`spec.validations[${i}].messageExpression`, v.messageExpression);
    return program ? [{ program, message: v.message, messageExpression }] : [];
  });
  if (problems.length > 0) throw new PolicyLoadError(source, problems);
  return {
    name: document.metadata.name,
    document,
    points: new Set(spec.points),
    kinds: spec.kinds ?? [],
    failureAction: spec.failureAction,
    failurePolicy: spec.failurePolicy,
    matchConditions,
    validation: { expressions, variables, auditAnnotations: [] },
  };
}

/** Whether the policy looks at this object at this point (before its CEL match conditions). */
export function guardrailSelects(policy: CompiledGuardrail, point: EnforcementPoint, object: JsonObject): boolean {
  if (!policy.points.has(point)) return false;
  if (policy.kinds.length === 0) return true;
  const kind = typeof object.kind === 'string' ? object.kind : '';
  return policy.kinds.some((pattern) => matchWildcard(pattern, kind));
}

/**
 * The policy's verdict, or undefined when it does not apply (not its point or kind, or a match
 * condition is false). A match condition that cannot be evaluated is an error under `Fail`.
 */
export function evaluateGuardrail(policy: CompiledGuardrail, input: GuardrailInput): DecisionResult | undefined {
  if (!guardrailSelects(policy, input.point, input.object)) return undefined;
  const base = { object: toCelValue(input.object), request: toCelValue(input.request), context: toCelValue(input.context) };
  const activation = celActivation(base, policy.validation.variables);
  const result = (status: DecisionResult['status'], message: string): DecisionResult => ({ policy: policy.name, rule: GUARDRAIL_RULE, status, message, failureAction: policy.failureAction });
  for (const condition of policy.matchConditions) {
    let value: unknown;
    try {
      value = condition.program.program(activation);
    } catch (err) {
      return policy.failurePolicy === 'Ignore' ? undefined : result('error', `match condition ${condition.name} could not be evaluated: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof value !== 'boolean') return result('error', `match condition ${condition.name} must evaluate to bool`);
    if (!value) return undefined;
  }
  const outcome = evaluateCelValidation(policy.validation, activation, undefined);
  if (outcome.status === 'pass') return result('pass', 'passed');
  if (outcome.status === 'skip') return result('skip', outcome.message);
  // evaluateCelValidation folds evaluation errors into failures (Kubernetes' Fail); Ignore lets them pass.
  const evaluationError = outcome.message.startsWith('expression \'') && (outcome.message.includes('resulted in error') || outcome.message.includes('must evaluate to bool'));
  if (evaluationError) return policy.failurePolicy === 'Ignore' ? result('skip', `ignored: ${outcome.message}`) : result('error', outcome.message);
  return result('fail', outcome.message);
}
