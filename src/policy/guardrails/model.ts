import { z } from 'zod';

// ---- Enforcement points ---------------------------------------------------------------------------

/**
 * Where a change enters the platform and policies are asked:
 * - deploy: a workload's manifests before they run (every runtime renders the same Deployment/Service)
 * - provisioning: a resource claim's plan, with its monthly cost estimate
 * - ci: a pipeline's result, with its security findings
 * - catalog: an entity being ingested (audit only: the catalog never refuses on policy)
 * - scan: the background scan of everything running (reports only, nothing to refuse)
 */
export const enforcementPoints = ['deploy', 'provisioning', 'ci', 'catalog', 'scan'] as const;
export type EnforcementPoint = (typeof enforcementPoints)[number];

/** Points where a denial stops the change; elsewhere every result is reported and nothing blocks. */
export const blockingPoints: ReadonlySet<EnforcementPoint> = new Set(['deploy', 'provisioning', 'ci']);

/** Kyverno policies check Kubernetes-shaped manifests: by default at deploy admission and in the background scan. */
export const defaultKyvernoPoints: readonly EnforcementPoint[] = ['deploy', 'scan'];

/** A Kyverno policy may name its points in this annotation: `deploy,scan`. */
export const POINTS_ANNOTATION = 'policy.plinth.dev/points';

// ---- Plinth's own CEL policies ----------------------------------------------------------------------

export const GUARDRAIL_API_VERSION = 'policy.plinth.dev/v1alpha1';
export const GUARDRAIL_KIND = 'GuardrailPolicy';

const celExpression = z.string().trim().min(1, 'an expression is required');
const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lowercase letters, digits and dashes (a DNS label)').max(63);

/**
 * A ValidatingAdmissionPolicy-like policy over Plinth's own objects (claims, deploy requests,
 * pipeline results, catalog entities): `matchConditions` select, `variables` name sub-expressions,
 * and the first `validations` entry that is not true fails the rule. The CEL activation holds
 * `object`, `request` (point, operation, user, time), `context` (what the point adds: budgets at
 * provisioning) and `variables`.
 */
export const guardrailPolicySchema = z
  .object({
    apiVersion: z.literal(GUARDRAIL_API_VERSION),
    kind: z.literal(GUARDRAIL_KIND),
    metadata: z
      .object({
        name,
        annotations: z.record(z.string(), z.string()).optional(),
        labels: z.record(z.string(), z.string()).optional(),
      })
      .strict(),
    spec: z
      .object({
        points: z.array(z.enum(enforcementPoints)).min(1, 'name at least one enforcement point'),
        /** `object.kind` values the policy applies to; empty or absent means every object at its points. */
        kinds: z.array(z.string().min(1)).optional(),
        failureAction: z.enum(['Enforce', 'Audit']).default('Audit'),
        /** `Fail` (default): an expression that cannot be evaluated fails the rule, so errors never silently allow. */
        failurePolicy: z.enum(['Fail', 'Ignore']).default('Fail'),
        matchConditions: z.array(z.object({ name, expression: celExpression }).strict()).optional(),
        variables: z.array(z.object({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a CEL identifier'), expression: celExpression }).strict()).optional(),
        validations: z
          .array(
            z
              .object({
                expression: celExpression,
                message: z.string().optional(),
                messageExpression: z.string().optional(),
              })
              .strict(),
          )
          .min(1, 'name at least one validation'),
      })
      .strict(),
  })
  .strict();
export type GuardrailPolicyDocument = z.infer<typeof guardrailPolicySchema>;

// ---- Decisions --------------------------------------------------------------------------------------

export type RuleStatus = 'pass' | 'fail' | 'error' | 'warn' | 'skip';

/** One rule's verdict on one object. */
export interface DecisionResult {
  policy: string;
  rule: string;
  status: RuleStatus;
  message: string;
  failureAction: 'Enforce' | 'Audit';
  /** Set when a policy exception turned a failure into a skip. */
  exception?: string;
}

export interface Decision {
  point: EnforcementPoint;
  allowed: boolean;
  /** The Enforce failures (and errors under failurePolicy Fail) that deny the change. */
  denials: DecisionResult[];
  results: DecisionResult[];
  /** `kind namespace/name` of the object judged. */
  object: string;
  dryRun: boolean;
}

// ---- API shapes -------------------------------------------------------------------------------------

export const PolicyView = z.object({
  name: z.string(),
  kind: z.enum(['ClusterPolicy', 'Policy', GUARDRAIL_KIND]),
  source: z.enum(['builtin', 'custom']),
  /** Built-in policies edited by an admin stop following the shipped version. */
  modified: z.boolean(),
  enabled: z.boolean(),
  failureAction: z.enum(['Enforce', 'Audit', 'mixed']),
  points: z.array(z.enum(enforcementPoints)),
  rules: z.array(z.string()),
  description: z.string().nullable(),
  violations: z.number().int(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type PolicyView = z.infer<typeof PolicyView>;

export const PolicyDetailView = PolicyView.extend({ yaml: z.string() });
export type PolicyDetailView = z.infer<typeof PolicyDetailView>;

export const PutPolicyBody = z.object({
  yaml: z.string().min(1).max(512 * 1024),
  enabled: z.boolean().optional(),
});

const DecisionResultView = z.object({
  policy: z.string(),
  rule: z.string(),
  status: z.enum(['pass', 'fail', 'error', 'warn', 'skip']),
  message: z.string(),
  failureAction: z.enum(['Enforce', 'Audit']),
  exception: z.string().optional(),
});

export const DecisionView = z.object({
  point: z.enum(enforcementPoints),
  allowed: z.boolean(),
  denials: z.array(DecisionResultView),
  results: z.array(DecisionResultView),
  object: z.string(),
  dryRun: z.boolean(),
});

export const CheckBody = z.object({
  point: z.enum(enforcementPoints).default('deploy'),
  /** The object to check, or YAML text (several documents: each is checked). */
  object: z.record(z.string(), z.unknown()).optional(),
  yaml: z.string().max(512 * 1024).optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']).default('CREATE'),
  /** At provisioning: money already committed this month, to try a claim against a budget as it will stand. */
  context: z
    .object({ teamSpend: z.number().nonnegative().optional(), costCenterSpend: z.number().nonnegative().optional() })
    .strict()
    .optional(),
});
export type CheckBody = z.infer<typeof CheckBody>;

export const ExceptionMatch = z
  .object({
    kinds: z.array(z.string().min(1)).optional(),
    names: z.array(z.string().min(1)).optional(),
    namespaces: z.array(z.string().min(1)).optional(),
  })
  .strict();
export type ExceptionMatch = z.infer<typeof ExceptionMatch>;

export const CreateExceptionBody = z
  .object({
    policy: z.string().min(1),
    /** Rule names; empty or absent means every rule of the policy. `autogen-` variants are covered by their rule. */
    rules: z.array(z.string().min(1)).optional(),
    match: ExceptionMatch.refine((m) => (m.kinds?.length ?? 0) + (m.names?.length ?? 0) + (m.namespaces?.length ?? 0) > 0, 'name at least one kind, name or namespace: an exception for everything is a disabled policy'),
    reason: z.string().trim().min(3, 'say why the exception is needed').max(2000),
    /** ISO time; at most a year ahead. */
    expiresAt: z.string().datetime({ offset: true }),
  })
  .strict();
export type CreateExceptionBody = z.infer<typeof CreateExceptionBody>;

export const ExceptionView = z.object({
  id: z.string(),
  policy: z.string(),
  rules: z.array(z.string()),
  match: ExceptionMatch,
  reason: z.string(),
  approvedBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  expired: z.boolean(),
});
export type ExceptionView = z.infer<typeof ExceptionView>;

export const budgetScopes = ['team', 'cost-center'] as const;
export type BudgetScope = (typeof budgetScopes)[number];

export const BudgetView = z.object({
  scope: z.enum(budgetScopes),
  name: z.string(),
  monthlyLimit: z.number(),
  currency: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type BudgetView = z.infer<typeof BudgetView>;

export const PutBudgetBody = z.object({
  monthlyLimit: z.number().nonnegative().max(1e9),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD').default('USD'),
});

export const ViolationView = z.object({
  point: z.enum(enforcementPoints),
  subject: z.string(),
  owner: z.string().nullable(),
  policy: z.string(),
  rule: z.string(),
  status: z.enum(['fail', 'error', 'warn']),
  message: z.string(),
  failureAction: z.enum(['Enforce', 'Audit']),
  updatedAt: z.string(),
});
export type ViolationView = z.infer<typeof ViolationView>;

export const ViolationsQuery = z.object({
  owner: z.string().optional(),
  policy: z.string().optional(),
  subject: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
