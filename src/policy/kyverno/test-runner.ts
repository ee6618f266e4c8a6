/**
 * Runs Kyverno CLI test files (`kyverno test`): loads the policies, resources, values and user info
 * a `kyverno-test.yaml` names, evaluates each resource as the CLI does (an admission CREATE unless
 * the values or the result say otherwise, namespaced resources placed in `default`), and compares
 * every expected (policy, rule, resource) verdict with ours. A rule that does not apply to the
 * resource counts as `skip`, as the CLI reports it (../shared/conformance/kyverno/README.md).
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy, type EvaluationInput, type PolicyResult, type Verdict } from './engine.js';
import { PolicyLoadError } from './errors.js';
import { cloneJson, isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { formatPath, parseKyvernoPolicies } from './load.js';
import type { RequestUserInfo } from './match.js';
import type { Operation } from './model.js';
import { testSchema, userInfoSchema, valuesSchema, type KyvernoTest, type TestResult, type TestValues } from './test-model.js';
import { parseYamlDocument, parseYamlDocuments } from './yaml.js';

/** One expected verdict and what the engine said. */
export interface ExpectedOutcome {
  policy: string;
  rule: string;
  resource: string;
  kind: string | undefined;
  expected: Verdict;
  /** `none` when the rule does not apply to the resource (no response). */
  actual: Verdict | 'none';
  passed: boolean;
  /** Why it did not pass, or the engine's message. */
  detail: string;
}

export interface TestFileReport {
  file: string;
  name: string;
  outcomes: ExpectedOutcome[];
  /** Set when the test file itself could not be run; its expected results then all count as failed. */
  error?: string;
}

/** Built-in cluster-scoped kinds; anything else (including unknown custom kinds) is namespaced, as in the CLI. */
const clusterScopedKinds = new Set([
  'APIService', 'CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding', 'ComponentStatus', 'CSIDriver', 'CSINode',
  'CustomResourceDefinition', 'FlowSchema', 'IngressClass', 'MutatingWebhookConfiguration', 'Namespace', 'Node', 'PersistentVolume',
  'PodSecurityPolicy', 'PriorityClass', 'PriorityLevelConfiguration', 'RuntimeClass', 'StorageClass', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'ValidatingWebhookConfiguration', 'VolumeAttachment', 'ClusterPolicy', 'ClusterPolicyReport',
]);

const builtinGroups = new Set(['', 'apps', 'batch', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'networking.k8s.io', 'policy', 'apiextensions.k8s.io', 'admissionregistration.k8s.io', 'flowcontrol.apiserver.k8s.io', 'scheduling.k8s.io', 'node.k8s.io', 'certificates.k8s.io', 'apiregistration.k8s.io']);

function isClusterScoped(resource: JsonObject): boolean {
  const apiVersion = typeof resource.apiVersion === 'string' ? resource.apiVersion : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return builtinGroups.has(group) && typeof resource.kind === 'string' && clusterScopedKinds.has(resource.kind);
}

interface TestResource {
  name: string;
  namespace: string;
  kind: string;
  object: JsonObject;
}

function toTestResource(value: JsonValue, source: string): TestResource {
  if (!isJsonObject(value) || typeof value.kind !== 'string') throw new Error(`${source}: a resource needs a kind`);
  const object = cloneJson(value);
  const metadata: JsonObject = isJsonObject(object.metadata) ? object.metadata : {};
  object.metadata = metadata;
  if (!isClusterScoped(object) && (typeof metadata.namespace !== 'string' || metadata.namespace === '')) metadata.namespace = 'default';
  return { name: typeof metadata.name === 'string' ? metadata.name : '', namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '', kind: object.kind as string, object };
}

async function readYaml(path: string): Promise<JsonValue[]> {
  return parseYamlDocuments(await readFile(path, 'utf8'), path).map((d) => d.value);
}

function checked<T>(schema: z.ZodType<T>, value: JsonValue, source: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${source}: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

interface LoadedTest {
  test: KyvernoTest;
  policies: Map<string, CompiledPolicy>;
  policyErrors: string[];
  resources: TestResource[];
  values: TestValues;
  userInfo: RequestUserInfo | undefined;
}

async function loadTest(file: string): Promise<LoadedTest> {
  const base = dirname(file);
  const test = checked(testSchema, parseYamlDocument(await readFile(file, 'utf8'), file), file);
  const policies = new Map<string, CompiledPolicy>();
  const policyErrors: string[] = [];
  for (const relative of test.policies) {
    const path = resolve(base, relative);
    try {
      for (const policy of parseKyvernoPolicies(await readFile(path, 'utf8'), path)) policies.set(policy.key, policy);
    } catch (err) {
      if (!(err instanceof PolicyLoadError)) throw err;
      policyErrors.push(err.message);
    }
  }
  const resources: TestResource[] = [];
  for (const relative of test.resources) {
    const path = resolve(base, relative);
    for (const value of await readYaml(path)) resources.push(toTestResource(value, path));
  }
  let values: TestValues = test.values ?? {};
  if (test.variables) values = checked(valuesSchema, parseYamlDocument(await readFile(resolve(base, test.variables), 'utf8'), test.variables), test.variables);
  let userInfo: RequestUserInfo | undefined;
  if (test.userinfo) {
    const info = checked(userInfoSchema, parseYamlDocument(await readFile(resolve(base, test.userinfo), 'utf8'), test.userinfo), test.userinfo);
    userInfo = { username: info.userInfo?.username ?? '', groups: info.userInfo?.groups ?? [], roles: info.roles ?? [], clusterRoles: info.clusterRoles ?? [] };
  }
  return { test, policies, policyErrors, resources, values, userInfo };
}

function operationFrom(values: Readonly<Record<string, JsonValue>> | undefined): Operation | undefined {
  const value = values?.['request.operation'] ?? (isJsonObject(values?.request ?? null) ? (values!.request as JsonObject).operation : undefined);
  return value === 'CREATE' || value === 'UPDATE' || value === 'DELETE' || value === 'CONNECT' ? value : undefined;
}

function namespaceLabels(values: TestValues, namespace: string): Record<string, string> {
  const fromSelector = values.namespaceSelector?.find((n) => n.name === namespace)?.labels;
  if (fromSelector) return fromSelector;
  const fromObjects = (values.namespaces ?? []).find((n) => isJsonObject(n) && isJsonObject(n.metadata) && n.metadata.name === namespace);
  const labels = isJsonObject(fromObjects ?? null) && isJsonObject((fromObjects as JsonObject).metadata) ? ((fromObjects as JsonObject).metadata as JsonObject).labels : undefined;
  return isJsonObject(labels ?? null) ? (labels as Record<string, string>) : {};
}

function subresourceOf(values: TestValues, resource: TestResource): EvaluationInput['subresourceOf'] {
  const apiVersion = typeof resource.object.apiVersion === 'string' ? resource.object.apiVersion : '';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const entry = values.subresources?.find((s) => s.subresource.kind === resource.kind && (s.subresource.group ?? '') === group && s.subresource.version === version);
  if (!entry) return undefined;
  const name = entry.subresource.name;
  return { group: entry.parentResource.group ?? '', version: entry.parentResource.version, kind: entry.parentResource.kind, subresource: name.slice(name.indexOf('/') + 1) };
}

/** Evaluates one policy against one resource the way the CLI would for this test. */
function evaluateForTest(loaded: LoadedTest, policy: CompiledPolicy, resource: TestResource, resultOperation: Operation | undefined): PolicyResult {
  const policyValues = loaded.values.policies?.filter((p) => p.name === policy.name || p.name === policy.key) ?? [];
  const resourceValues = Object.assign({}, ...policyValues.flatMap((p) => (p.resources ?? []).filter((r) => r.name === resource.name).map((r) => r.values ?? {}))) as Record<string, JsonValue>;
  const globalValues = loaded.values.globalValues ?? {};
  const operation = resultOperation ?? operationFrom(resourceValues) ?? operationFrom(globalValues) ?? 'CREATE';
  const values: Record<string, JsonValue> = { ...globalValues, ...resourceValues };
  // A result's own operation wins over one set in the values.
  if (resultOperation) delete values['request.operation'];
  const ruleValues: Record<string, Record<string, JsonValue>> = {};
  for (const rule of policyValues.flatMap((p) => p.rules ?? [])) if (rule.values) ruleValues[rule.name] = { ...(ruleValues[rule.name] ?? {}), ...rule.values };
  return evaluatePolicy(policy, {
    operation,
    resource: resource.object,
    oldResource: operation === 'UPDATE' ? resource.object : null,
    userInfo: loaded.userInfo,
    namespaceLabels: namespaceLabels(loaded.values, resource.namespace),
    subresourceOf: subresourceOf(loaded.values, resource),
    values,
    ruleValues,
  });
}

function expectedVerdict(result: TestResult): Verdict | undefined {
  return result.result ?? result.status ?? undefined;
}

function findResources(loaded: LoadedTest, reference: string, result: TestResult): TestResource[] {
  const slash = reference.indexOf('/');
  const [namespace, name] = slash >= 0 ? [reference.slice(0, slash), reference.slice(slash + 1)] : [result.namespace ?? undefined, reference];
  const byName = loaded.resources.filter((r) => r.name === name && (namespace === undefined || r.namespace === namespace));
  const byKind = result.kind ? byName.filter((r) => r.kind === result.kind) : [];
  return byKind.length > 0 ? [...byKind, ...byName.filter((r) => !byKind.includes(r))] : byName;
}

function judge(loaded: LoadedTest, result: TestResult, reference: string, cache: Map<string, PolicyResult>): ExpectedOutcome {
  const expected = expectedVerdict(result) ?? 'pass';
  const base = { policy: result.policy, rule: result.rule, resource: reference, kind: result.kind ?? undefined, expected };
  const policy = loaded.policies.get(result.policy);
  if (!policy) {
    const reason = loaded.policyErrors.length > 0 ? loaded.policyErrors.join('; ') : `policy ${result.policy} is not in the test's policy files`;
    return { ...base, actual: 'none', passed: false, detail: reason };
  }
  const candidates = findResources(loaded, reference, result);
  if (candidates.length === 0) return { ...base, actual: 'none', passed: false, detail: `resource ${reference} is not in the test's resource files` };
  const ruleNames = new Set([result.rule, `autogen-${result.rule}`, `autogen-cronjob-${result.rule}`]);
  for (const resource of candidates) {
    const key = `${policy.key}\0${loaded.resources.indexOf(resource)}\0${result.operation ?? ''}`;
    let evaluation = cache.get(key);
    if (!evaluation) {
      evaluation = evaluateForTest(loaded, policy, resource, result.operation ?? undefined);
      cache.set(key, evaluation);
    }
    const response = evaluation.results.find((r) => ruleNames.has(r.rule));
    if (response) return { ...base, actual: response.status, passed: response.status === expected, detail: response.message };
  }
  // No response. The Kyverno CLI prints such a row as "excluded" and counts it as passing whatever was
  // expected; we count it as `skip` only, and say why it did not apply.
  const known = [...policy.rules, ...[...policy.autogenRules.values()].flat()].some((r) => ruleNames.has(r.name));
  const why = known
    ? 'the rule gives no result for this resource (match/exclude does not select it, or its foreach found no element)'
    : `the policy has no rule named ${result.rule}`;
  return { ...base, actual: 'none', passed: expected === 'skip', detail: why };
}

/**
 * The compiled policies and the resources (namespaces defaulted as the CLI does) a test file names,
 * for callers that evaluate them their own way (the benchmark). Throws when the test cannot load.
 */
export async function loadKyvernoTestInputs(file: string): Promise<{ policies: CompiledPolicy[]; resources: JsonObject[] }> {
  const loaded = await loadTest(file);
  if (loaded.policyErrors.length > 0) throw new Error(loaded.policyErrors.join('; '));
  return { policies: [...loaded.policies.values()], resources: loaded.resources.map((r) => r.object) };
}

/** Runs one kyverno-test.yaml; never throws for a broken test, it reports it instead. */
export async function runKyvernoTestFile(file: string): Promise<TestFileReport> {
  let loaded: LoadedTest;
  try {
    loaded = await loadTest(file);
  } catch (err) {
    return { file, name: file, outcomes: [], error: (err as Error).message };
  }
  const cache = new Map<string, PolicyResult>();
  const outcomes: ExpectedOutcome[] = [];
  for (const result of loaded.test.results) {
    const references = [...(result.resources ?? []), ...(result.resource ? [result.resource] : [])];
    for (const reference of references) outcomes.push(judge(loaded, result, reference, cache));
  }
  return { file, name: loaded.test.metadata?.name ?? loaded.test.name ?? file, outcomes };
}

/** Every `kyverno-test.yaml` under `dir`, hidden `.kyverno-test/` folders included, sorted. */
export async function findKyvernoTestFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== '.git') await walk(path);
      else if (entry.isFile() && entry.name === 'kyverno-test.yaml') found.push(path);
    }
  };
  await walk(resolve(dir));
  return found.sort();
}
