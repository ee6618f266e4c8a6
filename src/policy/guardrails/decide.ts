/**
 * One decision at an enforcement point: every enabled policy that applies there (Kyverno policies
 * for manifests, GuardrailPolicies for Plinth's objects) judges the object, exceptions turn matching
 * failures into skips, and Enforce failures deny the change where the point can refuse it.
 */
import type { CompiledPolicy } from '../kyverno/compile.js';
import { evaluatePolicy, type RequestCache } from '../kyverno/engine.js';
import type { JsonObject } from '../kyverno/json.js';
import type { RequestUserInfo } from '../kyverno/match.js';
import type { Operation } from '../kyverno/model.js';
import { matchWildcard } from '../kyverno/wildcard.js';
import { evaluateGuardrail, type CompiledGuardrail } from './cel-policy.js';
import { blockingPoints, type Decision, type DecisionResult, type EnforcementPoint, type ExceptionMatch } from './model.js';

export type LoadedPolicy =
  | { kind: 'kyverno'; name: string; points: ReadonlySet<EnforcementPoint>; compiled: CompiledPolicy }
  | { kind: 'guardrail'; name: string; points: ReadonlySet<EnforcementPoint>; compiled: CompiledGuardrail };

/** An exception in force (not expired). */
export interface ActiveException {
  id: string;
  policy: string;
  rules: readonly string[];
  match: ExceptionMatch;
}

export interface DecisionInput {
  point: EnforcementPoint;
  object: JsonObject;
  operation: Operation;
  user?: { username: string; role: string };
  context: JsonObject;
  now: Date;
  dryRun: boolean;
}

function metadataOf(object: JsonObject): { name: string; namespace: string } {
  const metadata = object.metadata;
  const read = (key: string) => (metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) && typeof metadata[key] === 'string' ? (metadata[key] as string) : '');
  return { name: read('name'), namespace: read('namespace') };
}

/** `Deployment default/web`, or `Deployment web` for a cluster-scoped object. */
export function describeObject(object: JsonObject): string {
  const { name, namespace } = metadataOf(object);
  const kind = typeof object.kind === 'string' ? object.kind : 'Object';
  return `${kind} ${namespace ? `${namespace}/` : ''}${name || '(unnamed)'}`;
}

/** A rule an exception names also covers the rules Kyverno generates from it for Pod controllers. */
function ruleCovered(rules: readonly string[], rule: string): boolean {
  if (rules.length === 0) return true;
  return rules.some((name) => rule === name || rule === `autogen-${name}` || rule === `autogen-cronjob-${name}`);
}

export function exceptionApplies(exception: ActiveException, result: Pick<DecisionResult, 'policy' | 'rule'>, object: JsonObject): boolean {
  if (exception.policy !== result.policy || !ruleCovered(exception.rules, result.rule)) return false;
  const { name, namespace } = metadataOf(object);
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const { kinds, names, namespaces } = exception.match;
  if (kinds?.length && !kinds.some((p) => matchWildcard(p, kind))) return false;
  if (names?.length && !names.some((p) => matchWildcard(p, name))) return false;
  if (namespaces?.length && !namespaces.some((p) => matchWildcard(p, namespace))) return false;
  return true;
}

function kyvernoResults(policy: CompiledPolicy, input: DecisionInput, cache: RequestCache): DecisionResult[] {
  const userInfo: RequestUserInfo | undefined = input.user ? { username: input.user.username, groups: [`plinth:${input.user.role}`], roles: [], clusterRoles: [] } : undefined;
  const evaluated = evaluatePolicy(policy, { operation: input.operation, resource: input.object, userInfo }, cache);
  return evaluated.results.map((r) => ({ policy: policy.key, rule: r.rule, status: r.status, message: r.message, failureAction: r.failureAction }));
}

export function decide(policies: readonly LoadedPolicy[], exceptions: readonly ActiveException[], input: DecisionInput): Decision {
  const cache: RequestCache = new Map();
  const results: DecisionResult[] = [];
  const denials: DecisionResult[] = [];
  const blocking = blockingPoints.has(input.point);
  const request: JsonObject = {
    point: input.point,
    operation: input.operation,
    time: input.now.toISOString(),
    user: input.user ? { username: input.user.username, role: input.user.role } : null,
  };
  for (const policy of policies) {
    if (!policy.points.has(input.point)) continue;
    let own: DecisionResult[];
    let failurePolicy: 'Fail' | 'Ignore';
    if (policy.kind === 'kyverno') {
      own = kyvernoResults(policy.compiled, input, cache);
      failurePolicy = policy.compiled.failurePolicy;
    } else {
      const result = evaluateGuardrail(policy.compiled, { point: input.point, object: input.object, request, context: input.context });
      own = result ? [result] : [];
      failurePolicy = policy.compiled.failurePolicy;
    }
    for (const result of own) {
      if (result.status === 'fail' || result.status === 'error' || result.status === 'warn') {
        const exception = exceptions.find((e) => exceptionApplies(e, result, input.object));
        if (exception) {
          results.push({ ...result, status: 'skip', message: `rule skipped due to policy exception ${exception.id} (was: ${result.message})`, exception: exception.id });
          continue;
        }
      }
      results.push(result);
      const denies = result.failureAction === 'Enforce' && (result.status === 'fail' || (result.status === 'error' && failurePolicy === 'Fail'));
      if (blocking && denies) denials.push(result);
    }
  }
  return { point: input.point, allowed: denials.length === 0, denials, results, object: describeObject(input.object), dryRun: input.dryRun };
}
