/**
 * Turns a validated policy document into a compiled policy: every rule compiled, and the rules
 * auto-generated for each Pod controller. Everything that can be wrong with a policy is found here,
 * so evaluation never meets a malformed policy; the problems are reported with their field paths.
 */
import { autogenControllers, autogenRulesFor } from './autogen.js';
import { compileRule, Problems, type CompiledRule } from './compile-rule.js';
import type { PolicyProblem } from './errors.js';
import type { MatchResources, PolicyDocument } from './model.js';

export type { CompiledRule, FailureAction } from './compile-rule.js';

export interface CompiledPolicy {
  kind: 'ClusterPolicy' | 'Policy';
  name: string;
  /** Set for a namespaced `Policy`: it only applies to resources of that namespace. */
  namespace: string | undefined;
  /** `name`, or `namespace/name` for a `Policy` (how test results and reports name it). */
  key: string;
  document: PolicyDocument;
  rules: CompiledRule[];
  /** Generated rules by controller kind (Deployment, CronJob…). */
  autogenRules: ReadonlyMap<string, CompiledRule[]>;
  applyRulesOne: boolean;
  /** `policies.kyverno.io/scored: "false"` reports failures as warnings. */
  scored: boolean;
  background: boolean;
  /** `Fail` (default): a rule that errors under Enforce blocks admission; `Ignore` lets it through. */
  failurePolicy: 'Fail' | 'Ignore';
  /** Whether any rule reads `images` (the context then carries image details). */
  usesImages: boolean;
}

const userVariable = /\{\{[^}]*\b(request\.userInfo|request\.roles|request\.clusterRoles|serviceAccountName|serviceAccountNamespace)\b/;

function usesUserFilters(match: MatchResources | null | undefined): boolean {
  if (!match) return false;
  const filters = [match, ...(match.any ?? []), ...(match.all ?? [])];
  return filters.some((f) => (f.roles?.length ?? 0) > 0 || (f.clusterRoles?.length ?? 0) > 0 || (f.subjects?.length ?? 0) > 0);
}

/**
 * Kyverno refuses a background policy that depends on who made the request: background scans
 * have no requester, so such a rule could never be evaluated there.
 */
function checkBackgroundMode(policy: PolicyDocument, problems: Problems): void {
  if (policy.spec.background === false) return;
  policy.spec.rules.forEach((rule, i) => {
    const path = `spec.rules[${i}]`;
    if (usesUserFilters(rule.match) || usesUserFilters(rule.exclude)) {
      problems.add(path, 'roles, clusterRoles and subjects filters need background: false (background scans have no user info)');
    }
    const body = JSON.stringify({ context: rule.context, preconditions: rule.preconditions, validate: rule.validate });
    const found = userVariable.exec(body);
    if (found) problems.add(path, `the variable ${found[1]} needs background: false (background scans have no user info)`);
  });
}

/** Compiles a validated document; returns the problems instead when there are any. */
export function compilePolicyDocument(policy: PolicyDocument): CompiledPolicy | PolicyProblem[] {
  const problems = new Problems();
  checkBackgroundMode(policy, problems);
  const names = new Set<string>();
  const rules = policy.spec.rules.map((rule, i) => {
    if (names.has(rule.name)) problems.add(`spec.rules[${i}].name`, `duplicate rule name "${rule.name}"`);
    names.add(rule.name);
    return compileRule(rule, `spec.rules[${i}]`, policy, problems);
  });
  const autogenRules = new Map<string, CompiledRule[]>();
  const controllers = autogenControllers(policy);
  for (const controller of controllers) {
    // Generated rules come from rules that compiled above, so their problems are already reported.
    const generated = autogenRulesFor(policy, controllers, controller).map((rule) => compileRule(rule, `autogen(${controller}).${rule.name}`, policy, new Problems()));
    if (generated.length > 0) autogenRules.set(controller, generated);
  }
  if (problems.list.length > 0) return problems.list;
  const namespace = policy.kind === 'Policy' ? (policy.metadata.namespace ?? 'default') : undefined;
  const serialized = JSON.stringify(policy.spec.rules);
  return {
    kind: policy.kind,
    name: policy.metadata.name,
    namespace,
    key: namespace ? `${namespace}/${policy.metadata.name}` : policy.metadata.name,
    document: policy,
    rules,
    autogenRules,
    applyRulesOne: policy.spec.applyRules === 'One',
    scored: policy.metadata.annotations?.['policies.kyverno.io/scored'] !== 'false',
    background: policy.spec.background !== false,
    failurePolicy: policy.spec.failurePolicy ?? 'Fail',
    usesImages: /\{\{[^}]*\bimages\b/.test(serialized),
  };
}
