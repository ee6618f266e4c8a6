/**
 * Evaluating a compiled policy against one admission request: which rules select the resource
 * (match/exclude, autogen rules for Pod controllers), then each rule's verdict. A rule that does not
 * select the resource gives no result at all, which is different from `skip`.
 */
import { celActivation, celBaseActivation, evaluateAuditAnnotations, evaluateCelPreconditions, evaluateCelValidation, type CelInput } from './cel.js';
import type { CompiledPolicy, CompiledRule, FailureAction } from './compile.js';
import { buildContextData, mergeContextValues } from './context.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { matchesLabelSelector, ruleSelects, type MatchSubject, type RequestUserInfo } from './match.js';
import type { Operation } from './model.js';
import { matchWildcard } from './wildcard.js';
import { runStep, type StepOutcome } from './validator.js';

export type Verdict = 'pass' | 'fail' | 'skip' | 'error' | 'warn';

export interface RuleResult {
  /** The rule as evaluated: its own name, or `autogen-…` / `autogen-cronjob-…` for a generated rule. */
  rule: string;
  status: Verdict;
  message: string;
  /** Enforce blocks admission when the rule fails; Audit only reports. It never changes the verdict. */
  failureAction: FailureAction;
  auditAnnotations?: Record<string, string>;
}

export interface PolicyResult {
  policy: string;
  results: RuleResult[];
}

export interface EvaluationInput {
  operation: Operation;
  /** The object submitted; on DELETE, the object being deleted. */
  resource: JsonObject;
  /** The object before an UPDATE. */
  oldResource?: JsonObject | null;
  userInfo?: RequestUserInfo;
  /** Labels of the resource's namespace, for `namespaceSelector`. */
  namespaceLabels?: Readonly<Record<string, string>>;
  /** For a subresource request (a Deployment's `scale`): the kind match sees the parent and the subresource. */
  subresourceOf?: { group: string; version: string; kind: string; subresource: string };
  /** Context values (dotted path → value) merged over the request, as the Kyverno CLI's values do. */
  values?: Readonly<Record<string, JsonValue>>;
  /** Values merged into the context when the named rule loads its context. */
  ruleValues?: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
}

function text(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

function stringMap(value: JsonValue | undefined): Record<string, string> {
  if (!isJsonObject(value)) return {};
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') result[key] = item;
  return result;
}

function metadataOf(resource: JsonObject): JsonObject {
  return isJsonObject(resource.metadata) ? resource.metadata : {};
}

function groupVersion(resource: JsonObject): { group: string; version: string } {
  const apiVersion = text(resource.apiVersion);
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function subjectOf(resource: JsonObject, input: EvaluationInput, operation: Operation): MatchSubject {
  const metadata = metadataOf(resource);
  const { group, version } = groupVersion(resource);
  const parent = input.subresourceOf;
  return {
    group: parent?.group ?? group,
    version: parent?.version ?? version,
    kind: parent?.kind ?? text(resource.kind),
    subresource: parent?.subresource ?? '',
    name: text(metadata.name) || text(metadata.generateName),
    namespace: text(metadata.namespace),
    labels: stringMap(metadata.labels),
    annotations: stringMap(metadata.annotations),
    namespaceLabels: { ...(input.namespaceLabels ?? {}) },
    operation,
    userInfo: input.userInfo,
  };
}

/** The failure action for a resource: overrides by namespace take precedence over the rule's action. */
function failureActionFor(rule: CompiledRule, subject: MatchSubject): FailureAction {
  for (const override of rule.failureActionOverrides) {
    const inNamespace = (override.namespaces ?? []).some((pattern) => matchWildcard(pattern, subject.namespace));
    const bySelector = override.namespaceSelector ? matchesLabelSelector(override.namespaceSelector, subject.namespaceLabels) : false;
    if (inNamespace || bySelector) return override.action.toLowerCase() === 'enforce' ? 'Enforce' : 'Audit';
  }
  return rule.failureAction;
}

interface RequestView {
  operation: Operation;
  object: JsonObject | null;
  oldObject: JsonObject | null;
  data: JsonObject;
  subject: MatchSubject;
  /** The CEL variables object/oldObject/request/namespaceObject, converted once per request. */
  celBase?: Record<string, unknown>;
}

/**
 * Views of one request shared by every policy of a decision (building the context and the match
 * subject once instead of once per policy). Keyed by whether the view carries `images`.
 */
export type RequestCache = Map<boolean, RequestView>;

function namespaceOf(resource: JsonObject | null): string {
  return resource ? text(metadataOf(resource).namespace) : '';
}

/**
 * The request as rules see it. Values (from a test harness) are merged into the context first, and
 * because they may rewrite `request.object`, match/exclude look at the object after that merge, as
 * the Kyverno CLI does.
 */
function viewOf(policy: CompiledPolicy, input: EvaluationInput, operation: Operation, object: JsonObject | null, oldObject: JsonObject | null): RequestView {
  const namespace = namespaceOf(object ?? oldObject);
  let data = buildContextData({ operation, object, oldObject, namespace, userInfo: input.userInfo, includeImages: policy.usesImages });
  if (input.values && Object.keys(input.values).length > 0) data = mergeContextValues(data, input.values);
  const request = data.request as JsonObject;
  const merged = (key: string) => (isJsonObject(request[key]) ? (request[key] as JsonObject) : null);
  const current = object ? merged('object') : null;
  const previous = oldObject ? merged('oldObject') : null;
  const subject = subjectOf(current ?? previous ?? {}, input, operation);
  return { operation, object: current, oldObject: previous, data, subject };
}

function celInputOf(view: RequestView, input: EvaluationInput): CelInput {
  const { subject } = view;
  const request: JsonObject = {
    kind: { group: subject.group, version: subject.version, kind: subject.kind },
    resource: { group: subject.group, version: subject.version, resource: `${subject.kind.toLowerCase()}s` },
    subResource: subject.subresource,
    name: subject.name,
    namespace: subject.namespace,
    operation: view.operation,
    userInfo: { username: input.userInfo?.username ?? '', groups: input.userInfo?.groups ?? [] },
    dryRun: false,
    options: null,
  };
  const namespaced = subject.namespace !== '' && !(subject.kind === 'Namespace' && subject.group === '');
  return {
    object: view.operation === 'DELETE' ? null : (view.data.request as JsonObject).object ?? view.object,
    oldObject: view.oldObject,
    request,
    namespaceObject: namespaced ? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: subject.namespace } } : null,
  };
}

function activationFor(rule: CompiledRule, view: RequestView, input: EvaluationInput): Record<string, unknown> {
  view.celBase ??= celBaseActivation(celInputOf(view, input));
  return celActivation(view.celBase, rule.body.kind === 'cel' ? rule.body.cel.variables : []);
}

function evaluateCelRule(rule: CompiledRule, view: RequestView, input: EvaluationInput): NonNullable<StepOutcome> {
  const activation = activationFor(rule, view, input);
  if (rule.celPreconditions.length > 0) {
    const pre = evaluateCelPreconditions(rule.celPreconditions, activation);
    if (pre.status !== 'pass') return { status: pre.status, message: pre.message };
  }
  if (rule.body.kind !== 'cel') return { status: 'pass', message: '' };
  const outcome = evaluateCelValidation(rule.body.cel, activation, rule.message);
  return outcome.status === 'pass' ? { status: 'pass', message: `Validation rule '${rule.name}' passed.` } : outcome;
}

function runRule(rule: CompiledRule, view: RequestView, input: EvaluationInput): StepOutcome {
  if (rule.body.kind === 'cel') return evaluateCelRule(rule, view, input);
  if (rule.celPreconditions.length > 0) {
    const pre = evaluateCelRule(rule, view, input);
    if (pre.status !== 'pass') return pre.status === 'fail' ? { status: 'error', message: pre.message } : pre;
  }
  const values = input.ruleValues?.[rule.name];
  const data = values ? mergeContextValues(view.data, values) : view.data;
  const isDelete = view.operation === 'DELETE';
  const request = view.data.request as JsonObject;
  return runStep(
    { context: rule.context, preconditions: rule.preconditions, body: rule.body },
    {
      ruleName: rule.name,
      ruleMessage: rule.message,
      scope: { data, isDelete },
      resource: isDelete ? undefined : (request.object ?? undefined),
      element: undefined,
      nesting: 0,
    },
  );
}

/**
 * With Enforce on UPDATE, a violation the old object already had is not held against the change
 * (allowExistingViolations, default true): the rule is re-run on the old object as a CREATE, and if
 * that fails too the verdict is `skip`.
 */
function allowsExistingViolation(rule: CompiledRule, input: EvaluationInput, view: RequestView): boolean {
  if (view.operation !== 'UPDATE' || !rule.allowExistingViolations || !view.oldObject) return false;
  const subject = subjectOf(view.oldObject, input, 'CREATE');
  if (!ruleSelects(rule.match, rule.exclude, subject)) return false;
  const request = view.data.request as JsonObject;
  const data = { ...view.data, request: { ...request, object: view.oldObject, oldObject: null, operation: 'CREATE' } };
  const prior: RequestView = { operation: 'CREATE', object: view.oldObject, oldObject: null, data, subject };
  return runRule(rule, prior, input)?.status === 'fail';
}

/** The rules that apply to a resource of `kind`: the policy's own plus those generated for that controller. */
export function rulesFor(policy: CompiledPolicy, kind: string): CompiledRule[] {
  const generated = policy.autogenRules.get(kind);
  if (!generated) return policy.rules;
  return [...policy.rules.filter((r) => !r.name.startsWith('autogen-')), ...generated];
}

function requestView(policy: CompiledPolicy, input: EvaluationInput, cache: RequestCache | undefined): RequestView {
  const cached = cache?.get(policy.usesImages);
  if (cached) return cached;
  const operation = input.operation;
  const object = operation === 'DELETE' ? null : input.resource;
  const oldObject = operation === 'DELETE' ? input.resource : operation === 'UPDATE' ? (input.oldResource ?? null) : null;
  const view = viewOf(policy, input, operation, object, oldObject);
  cache?.set(policy.usesImages, view);
  return view;
}

/**
 * Evaluates every rule of the policy that selects the resource. `cache` shares the prepared request
 * between policies evaluated for the same, unchanged `input`.
 */
export function evaluatePolicy(policy: CompiledPolicy, input: EvaluationInput, cache?: RequestCache): PolicyResult {
  const view = requestView(policy, input, cache);
  const results: RuleResult[] = [];
  if (policy.namespace !== undefined && policy.namespace !== view.subject.namespace) return { policy: policy.key, results };
  for (const rule of rulesFor(policy, view.subject.kind)) {
    if (!ruleSelects(rule.match, rule.exclude, view.subject)) continue;
    const failureAction = failureActionFor(rule, view.subject);
    let outcome: StepOutcome;
    try {
      outcome = runRule(rule, view, input);
      if (outcome?.status === 'fail' && failureAction === 'Enforce' && rule.body.kind !== 'cel' && allowsExistingViolation(rule, input, view)) {
        outcome = { status: 'skip', message: 'skipping the rule evaluation as pre-existing violations are allowed' };
      }
    } catch (err) {
      // A bug or an unexpected value must never read as a pass.
      outcome = { status: 'error', message: `engine error: ${(err as Error).message}` };
    }
    if (outcome === undefined) continue;
    const status: Verdict = outcome.status === 'fail' && !policy.scored ? 'warn' : outcome.status;
    const result: RuleResult = { rule: rule.name, status, message: outcome.message, failureAction };
    if (rule.body.kind === 'cel' && rule.body.cel.auditAnnotations.length > 0 && (status === 'pass' || status === 'fail')) {
      try {
        result.auditAnnotations = evaluateAuditAnnotations(rule.body.cel, activationFor(rule, view, input));
      } catch (err) {
        result.status = 'error';
        result.message = `failed to evaluate audit annotations: ${(err as Error).message}`;
      }
    }
    results.push(result);
    if (policy.applyRulesOne && (status === 'pass' || status === 'fail' || status === 'warn')) break;
  }
  return { policy: policy.key, results };
}
