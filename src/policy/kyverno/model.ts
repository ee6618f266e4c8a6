/**
 * The shape of Kyverno `ClusterPolicy` / `Policy` documents (kyverno.io/v1 and v2beta1), as zod
 * schemas. Objects are strict, so an unknown or misspelt field is refused at load with its path,
 * as Kyverno's CRD schema would refuse it. Fields Kyverno has but this engine does not evaluate
 * (mutate, generate, verifyImages, external context) are known here and refused by compile.ts
 * with a "not supported" reason instead of "unknown field".
 */
import { z } from 'zod';
import type { JsonValue } from './json.js';

const json = z.custom<JsonValue>((value) => value !== undefined, { message: 'a JSON value is required' });
const stringMap = z.record(z.string(), z.string());

export const labelSelectorSchema = z.strictObject({
  matchLabels: stringMap.nullish(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).nullish(),
      }),
    )
    .nullish(),
});
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

const operationSchema = z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
export type Operation = z.infer<typeof operationSchema>;

export const resourceDescriptionSchema = z.strictObject({
  kinds: z.array(z.string()).nullish(),
  name: z.string().nullish(),
  names: z.array(z.string()).nullish(),
  namespaces: z.array(z.string()).nullish(),
  annotations: stringMap.nullish(),
  selector: labelSelectorSchema.nullish(),
  namespaceSelector: labelSelectorSchema.nullish(),
  operations: z.array(operationSchema).nullish(),
});
export type ResourceDescription = z.infer<typeof resourceDescriptionSchema>;

const subjectSchema = z.strictObject({
  kind: z.enum(['User', 'Group', 'ServiceAccount']),
  name: z.string(),
  namespace: z.string().nullish(),
  apiGroup: z.string().nullish(),
});
export type Subject = z.infer<typeof subjectSchema>;

const userFields = {
  roles: z.array(z.string()).nullish(),
  clusterRoles: z.array(z.string()).nullish(),
  subjects: z.array(subjectSchema).nullish(),
};

export const resourceFilterSchema = z.strictObject({ resources: resourceDescriptionSchema.nullish(), ...userFields });
export type ResourceFilter = z.infer<typeof resourceFilterSchema>;

export const matchResourcesSchema = z.strictObject({
  any: z.array(resourceFilterSchema).nullish(),
  all: z.array(resourceFilterSchema).nullish(),
  resources: resourceDescriptionSchema.nullish(),
  ...userFields,
});
export type MatchResources = z.infer<typeof matchResourcesSchema>;

const conditionSchema = z.strictObject({
  key: json.optional(),
  operator: z.string().min(1),
  value: json.optional(),
  message: z.string().nullish(),
});
const anyAllSchema = z.strictObject({ any: z.array(conditionSchema).nullish(), all: z.array(conditionSchema).nullish() });
export const conditionsSchema = z.union([anyAllSchema, z.array(conditionSchema)]);
export type Conditions = z.infer<typeof conditionsSchema>;

export const contextEntrySchema = z.strictObject({
  name: z.string().min(1),
  variable: z.strictObject({ value: json.optional(), jmesPath: z.string().nullish(), default: json.optional() }).nullish(),
  // Known to Kyverno, refused by compile.ts: they need a cluster, a registry or global state.
  configMap: json.optional(),
  apiCall: json.optional(),
  imageRegistry: json.optional(),
  globalReference: json.optional(),
});
export type ContextEntry = z.infer<typeof contextEntrySchema>;

export interface ForEachValidation {
  list: string;
  elementScope?: boolean | null;
  context?: ContextEntry[] | null;
  preconditions?: Conditions | null;
  pattern?: JsonValue;
  anyPattern?: JsonValue;
  deny?: { conditions?: Conditions | null } | null;
  foreach?: ForEachValidation[] | null;
}

const denySchema = z.strictObject({ conditions: conditionsSchema.nullish() });

export const forEachValidationSchema: z.ZodType<ForEachValidation> = z.lazy(() =>
  z.strictObject({
    list: z.string().min(1),
    elementScope: z.boolean().nullish(),
    context: z.array(contextEntrySchema).nullish(),
    preconditions: conditionsSchema.nullish(),
    pattern: json.optional(),
    anyPattern: json.optional(),
    deny: denySchema.nullish(),
    foreach: z.array(forEachValidationSchema).nullish(),
  }),
);

const failureActionSchema = z.enum(['Audit', 'Enforce', 'audit', 'enforce']);

const failureActionOverrideSchema = z.strictObject({
  action: failureActionSchema,
  namespaces: z.array(z.string()).nullish(),
  namespaceSelector: labelSelectorSchema.nullish(),
});
export type FailureActionOverride = z.infer<typeof failureActionOverrideSchema>;

const celSchema = z.strictObject({
  expressions: z
    .array(
      z.strictObject({
        expression: z.string().min(1),
        message: z.string().nullish(),
        messageExpression: z.string().nullish(),
        reason: z.string().nullish(),
        fieldPath: z.string().nullish(),
      }),
    )
    .nullish(),
  variables: z.array(z.strictObject({ name: z.string().min(1), expression: z.string().min(1) })).nullish(),
  auditAnnotations: z.array(z.strictObject({ key: z.string().min(1), valueExpression: z.string().min(1) })).nullish(),
  generate: z.boolean().nullish(),
  paramKind: json.optional(),
  paramRef: json.optional(),
});
export type CelValidation = z.infer<typeof celSchema>;

export const validationSchema = z.strictObject({
  message: z.string().nullish(),
  failureAction: failureActionSchema.nullish(),
  failureActionOverrides: z.array(failureActionOverrideSchema).nullish(),
  allowExistingViolations: z.boolean().nullish(),
  pattern: json.optional(),
  anyPattern: json.optional(),
  deny: denySchema.nullish(),
  foreach: z.array(forEachValidationSchema).nullish(),
  cel: celSchema.nullish(),
  // Known to Kyverno, refused by compile.ts.
  podSecurity: json.optional(),
  manifests: json.optional(),
  assert: json.optional(),
});
export type Validation = z.infer<typeof validationSchema>;

export const ruleSchema = z.strictObject({
  name: z.string().min(1).max(63),
  match: matchResourcesSchema,
  exclude: matchResourcesSchema.nullish(),
  context: z.array(contextEntrySchema).nullish(),
  preconditions: conditionsSchema.nullish(),
  celPreconditions: z.array(z.strictObject({ name: z.string().min(1), expression: z.string().min(1) })).nullish(),
  validate: validationSchema.nullish(),
  skipBackgroundRequests: z.boolean().nullish(),
  reportProperties: stringMap.nullish(),
  imageExtractors: json.optional(),
  // Known to Kyverno, refused by compile.ts.
  mutate: json.optional(),
  generate: json.optional(),
  verifyImages: json.optional(),
});
export type Rule = z.infer<typeof ruleSchema>;

export const policySpecSchema = z.strictObject({
  rules: z.array(ruleSchema).min(1),
  validationFailureAction: failureActionSchema.nullish(),
  validationFailureActionOverrides: z.array(failureActionOverrideSchema).nullish(),
  failurePolicy: z.enum(['Fail', 'Ignore']).nullish(),
  applyRules: z.enum(['One', 'All']).nullish(),
  admission: z.boolean().nullish(),
  background: z.boolean().nullish(),
  emitWarning: z.boolean().nullish(),
  schemaValidation: z.boolean().nullish(),
  webhookTimeoutSeconds: z.number().int().nullish(),
  webhookConfiguration: json.optional(),
  mutateExistingOnPolicyUpdate: z.boolean().nullish(),
  generateExisting: z.boolean().nullish(),
  generateExistingOnPolicyUpdate: z.boolean().nullish(),
  useServerSideApply: z.boolean().nullish(),
});
export type PolicySpec = z.infer<typeof policySpecSchema>;

export const policyDocumentSchema = z.strictObject({
  apiVersion: z.enum(['kyverno.io/v1', 'kyverno.io/v2beta1']),
  kind: z.enum(['ClusterPolicy', 'Policy']),
  // ObjectMeta has many standard fields (uid, resourceVersion, managedFields…); only these matter.
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().nullish(),
    annotations: stringMap.nullish(),
    labels: stringMap.nullish(),
  }),
  spec: policySpecSchema,
  status: json.optional(),
});
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
