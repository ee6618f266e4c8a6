/**
 * Rule auto-generation for Pod controllers (pkg/autogen/v1). A policy whose rules select `Pod`
 * also validates Deployments, DaemonSets, StatefulSets, Jobs, ReplicaSets and ReplicationControllers
 * through `autogen-<rule>` (the pod pattern wrapped under `spec.template`) and CronJobs through
 * `autogen-cronjob-<rule>` (under `spec.jobTemplate.spec.template`). Paths in variables are moved
 * by a plain text substitution over the serialized rule, as Kyverno does, so `request.object.metadata`
 * becomes the *template* metadata (../shared/conformance/kyverno/SEMANTICS.md §9).
 */
import { isJsonObject, type JsonValue } from './json.js';
import { parseKindSelector, kindsOf } from './match.js';
import type { MatchResources, PolicyDocument, ResourceDescription, ResourceFilter, Rule, Validation } from './model.js';

const podControllers = ['DaemonSet', 'Deployment', 'Job', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'CronJob'] as const;
const autogenControllersAnnotation = 'pod-policies.kyverno.io/autogen-controllers';

const controllerGvk: Record<string, string> = {
  DaemonSet: 'apps/v1/DaemonSet',
  Deployment: 'apps/v1/Deployment',
  Job: 'batch/v1/Job',
  StatefulSet: 'apps/v1/StatefulSet',
  ReplicaSet: 'apps/v1/ReplicaSet',
  ReplicationController: 'v1/ReplicationController',
  CronJob: 'batch/v1/CronJob',
  Pod: 'v1/Pod',
};

const podKinds = new Set<string>(['Pod', ...podControllers]);

function containsKind(kinds: readonly string[], kind: string): boolean {
  return kinds.some((k) => parseKindSelector(k).kind === kind);
}

function descriptionsOf(match: MatchResources | null | undefined): ResourceDescription[] {
  if (!match) return [];
  return [match.resources, ...(match.any ?? []).map((f) => f.resources), ...(match.all ?? []).map((f) => f.resources)].filter((d): d is ResourceDescription => d !== undefined && d !== null);
}

/**
 * Whether autogen applies to the policy at all (CanAutoGen): no rule may select by name, selector
 * or annotations, nor list Pod together with other kinds, and some rule must name Pod or a controller.
 */
function canAutogen(policy: PolicyDocument): boolean {
  let needed = false;
  for (const rule of policy.spec.rules) {
    for (const description of [...descriptionsOf(rule.match), ...descriptionsOf(rule.exclude)]) {
      const kinds = description.kinds ?? [];
      if (description.name || (description.names && description.names.length > 0) || description.selector || description.annotations) return false;
      if (kinds.length > 1 && containsKind(kinds, 'Pod')) return false;
      if (kinds.some((k) => podKinds.has(k))) needed = true;
    }
  }
  return needed;
}

/** The controller kinds that get generated rules: the annotation's list, or every controller. */
export function autogenControllers(policy: PolicyDocument): Set<string> {
  if (!canAutogen(policy)) return new Set();
  const annotation = policy.metadata.annotations?.[autogenControllersAnnotation];
  if (annotation === undefined) return new Set(podControllers);
  return new Set(annotation.split(','));
}

function truncateName(name: string): string {
  return name.length > 63 ? name.slice(0, 63) : name;
}

function replaceKinds(filters: ResourceFilter[], kinds: string[], onlyPodFilters: boolean): ResourceFilter[] {
  return filters.map((filter) => {
    if (onlyPodFilters && !containsKind(filter.resources?.kinds ?? [], 'Pod')) return filter;
    return { ...filter, resources: { ...(filter.resources ?? {}), kinds } };
  });
}

function retargetMatch(match: MatchResources, kinds: string[], onlyPodFilters: boolean, isExclude: boolean): MatchResources {
  if (match.any && match.any.length > 0) return { ...match, any: replaceKinds(match.any, kinds, onlyPodFilters) };
  if (match.all && match.all.length > 0) return { ...match, all: replaceKinds(match.all, kinds, onlyPodFilters) };
  if (isExclude && !(match.resources?.kinds && match.resources.kinds.length > 0)) return match;
  return { ...match, resources: { ...(match.resources ?? {}), kinds } };
}

function wrap(pattern: JsonValue, templateKey: string): JsonValue {
  return { spec: { [templateKey]: pattern } };
}

/** The validate block of a generated rule: patterns wrapped, everything else copied (generateRule). */
function retargetValidation(validation: Validation, templateKey: string): Validation {
  const common = {
    message: validation.message,
    failureAction: validation.failureAction,
    failureActionOverrides: validation.failureActionOverrides,
    allowExistingViolations: validation.allowExistingViolations,
  };
  if (validation.pattern !== undefined && validation.pattern !== null) return { ...common, pattern: wrap(validation.pattern, templateKey) };
  if (validation.deny) return { ...common, deny: validation.deny };
  if (Array.isArray(validation.anyPattern)) return { ...common, anyPattern: validation.anyPattern.map((p) => wrap(p, templateKey)) };
  if (validation.foreach && validation.foreach.length > 0) return { ...common, foreach: validation.foreach };
  return validation;
}

function generateRule(name: string, rule: Rule, templateKey: string, kinds: string[], onlyPodFilters: boolean): Rule {
  const generated: Rule = { ...rule, name, match: retargetMatch(rule.match, kinds, onlyPodFilters, false) };
  if (rule.exclude) generated.exclude = retargetMatch(rule.exclude, kinds, onlyPodFilters, true);
  if (rule.validate) generated.validate = retargetValidation(rule.validate, templateKey);
  return generated;
}

const podReplacements: [string, string][] = [
  ['request.object.spec', 'request.object.spec.template.spec'],
  ['request.oldObject.spec', 'request.oldObject.spec.template.spec'],
  ['request.object.metadata', 'request.object.spec.template.metadata'],
  ['request.oldObject.metadata', 'request.oldObject.spec.template.metadata'],
];
const podCelReplacements: [string, string][] = [
  ['object.spec', 'object.spec.template.spec'],
  ['oldObject.spec', 'oldObject.spec.template.spec'],
  ['object.metadata', 'object.spec.template.metadata'],
  ['oldObject.metadata', 'oldObject.spec.template.metadata'],
];
const cronJobReplacements: [string, string][] = podReplacements.map(([from, to]) => [from, to.replace('.template.', '.jobTemplate.spec.template.')]);
const cronJobCelReplacements: [string, string][] = podCelReplacements.map(([from, to]) => [from, to.replace('.template.', '.jobTemplate.spec.template.')]);

/** Kyverno's `updateFields`: a text substitution over the whole serialized rule. */
function rewritePaths(rule: Rule, cronJob: boolean): Rule {
  const isCel = rule.validate?.cel !== undefined && rule.validate.cel !== null;
  const replacements = cronJob ? (isCel ? cronJobCelReplacements : cronJobReplacements) : isCel ? podCelReplacements : podReplacements;
  let text = JSON.stringify(rule);
  for (const [from, to] of replacements) text = text.replaceAll(from, to);
  const parsed = JSON.parse(text) as unknown;
  if (!isJsonObject(parsed as JsonValue)) throw new Error('autogen produced a rule that is not an object');
  return parsed as Rule;
}

/** The controller rule before path rewriting (generateRuleForControllers), or undefined when the rule is not eligible. */
function controllerRule(rule: Rule, controllers: string[]): Rule | undefined {
  if (rule.name.startsWith('autogen-') || controllers.length === 0) return undefined;
  const matchKinds = kindsOf(rule.match);
  const excludeKinds = kindsOf(rule.exclude);
  if (!containsKind(matchKinds, 'Pod') || (excludeKinds.length > 0 && !containsKind(excludeKinds, 'Pod'))) return undefined;
  const kinds = [...controllers].sort().map((k) => controllerGvk[k] ?? k);
  return generateRule(truncateName(`autogen-${rule.name}`), rule, 'template', kinds, true);
}

/** The generated rules that apply to a resource of `kind` (none when `kind` is not a selected controller). */
export function autogenRulesFor(policy: PolicyDocument, controllers: ReadonlySet<string>, kind: string): Rule[] {
  if (!controllers.has(kind)) return [];
  const generated: Rule[] = [];
  for (const rule of policy.spec.rules) {
    if (kind !== 'CronJob') {
      const forController = controllerRule(rule, [kind]);
      if (forController) generated.push(rewritePaths(forController, false));
      continue;
    }
    const base = controllerRule(rule, ['CronJob']);
    if (!base) continue;
    const cronJob = generateRule(truncateName(`autogen-cronjob-${rule.name}`), base, 'jobTemplate', [controllerGvk.CronJob!], false);
    // The CronJob rule starts from the un-rewritten controller rule, so paths move only once.
    generated.push(rewritePaths({ ...cronJob, validate: cronJob.validate }, true));
  }
  return generated;
}
