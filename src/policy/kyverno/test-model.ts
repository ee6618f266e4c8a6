/**
 * The Kyverno CLI's test files (`cli.kyverno.io/v1alpha1`): `kind: Test` (kyverno-test.yaml),
 * `kind: Values` (variables) and `kind: UserInfo`. These schemas accept the fields the CLI knows,
 * loosely, so a test written for a newer CLI still loads; what the runner needs is checked.
 */
import { z } from 'zod';
import type { JsonValue } from './json.js';

const json = z.custom<JsonValue>((value) => value !== undefined);
const verdict = z.enum(['pass', 'fail', 'skip', 'warn', 'error']);
const operation = z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export const testResultSchema = z.looseObject({
  policy: z.string().min(1),
  rule: z.string().min(1),
  resources: z.array(z.string()).nullish(),
  /** Deprecated single-resource form. */
  resource: z.string().nullish(),
  kind: z.string().nullish(),
  namespace: z.string().nullish(),
  result: verdict.nullish(),
  /** Deprecated name of `result`. */
  status: verdict.nullish(),
  operation: operation.nullish(),
  isValidatingAdmissionPolicy: z.boolean().nullish(),
});
export type TestResult = z.infer<typeof testResultSchema>;

const valuesMap = z.record(z.string(), json);

export const valuesSchema = z.looseObject({
  globalValues: valuesMap.nullish(),
  policies: z
    .array(
      z.looseObject({
        name: z.string(),
        resources: z.array(z.looseObject({ name: z.string(), values: valuesMap.nullish() })).nullish(),
        rules: z.array(z.looseObject({ name: z.string(), values: valuesMap.nullish(), foreachValues: json.optional() })).nullish(),
      }),
    )
    .nullish(),
  namespaceSelector: z.array(z.looseObject({ name: z.string(), labels: z.record(z.string(), z.string()).nullish() })).nullish(),
  namespaces: z.array(json).nullish(),
  subresources: z
    .array(
      z.looseObject({
        parentResource: z.looseObject({ group: z.string().nullish(), version: z.string(), kind: z.string() }),
        subresource: z.looseObject({ group: z.string().nullish(), version: z.string(), kind: z.string(), name: z.string() }),
      }),
    )
    .nullish(),
});
export type TestValues = z.infer<typeof valuesSchema>;

export const userInfoSchema = z.looseObject({
  roles: z.array(z.string()).nullish(),
  clusterRoles: z.array(z.string()).nullish(),
  userInfo: z.looseObject({ username: z.string().nullish(), groups: z.array(z.string()).nullish() }).nullish(),
});
export type TestUserInfo = z.infer<typeof userInfoSchema>;

export const testSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().nullish() }).nullish(),
  /** Older test files name themselves at the top level. */
  name: z.string().nullish(),
  policies: z.array(z.string()).min(1),
  resources: z.array(z.string()),
  variables: z.string().nullish(),
  values: valuesSchema.nullish(),
  userinfo: z.string().nullish(),
  results: z.array(testResultSchema),
});
export type KyvernoTest = z.infer<typeof testSchema>;
