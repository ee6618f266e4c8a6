import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AnalysisConfig, type AnalysisResult, type CounterSnapshot } from './analysis.js';

const dnsLabel = z.string().max(63).regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and "-", starting with a letter');

/** A GET through the gateway to the new release (`x-plinth-canary: always`), expecting a 2xx. */
export const SmokeTest = z.strictObject({
  path: z.string().startsWith('/', 'must start with "/"').max(1000).default('/'),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
});

export const CanaryStep = z.strictObject({
  /** Percent of requests the canary gets during this step (100 is the promotion that follows the last step). */
  weightPercent: z.number().int().min(1).max(99),
  /** How long the step lasts before it may advance; the strategy's `bakeMs` when absent. */
  bakeMs: z.number().int().min(0).max(86_400_000).optional(),
  /** Judge the canary on live traffic during this step (a step without analysis advances on time alone). */
  analysis: z.boolean().default(true),
  /** Wait for an approval before this step's weight is set. */
  approval: z.boolean().default(false),
});
export type CanaryStep = z.infer<typeof CanaryStep>;

/** Default production steps: setWeight 10 → bake + analysis → 25 → 50 → 100 (issue #6). */
export const defaultCanarySteps: CanaryStep[] = [10, 25, 50].map((weightPercent) => ({ weightPercent, analysis: true, approval: false }));

export const RolloutStrategy = z.discriminatedUnion('kind', [
  /** Replace once the new release is ready and its smoke test passed (staging's default). */
  z.strictObject({ kind: z.literal('direct'), smokeTest: SmokeTest.prefault({}) }),
  z.strictObject({
    kind: z.literal('canary'),
    steps: z.array(CanaryStep).min(1).max(20).default(defaultCanarySteps),
    bakeMs: z.number().int().min(0).max(86_400_000).default(60_000),
    /** How often the canary is judged while a step bakes; rollback happens within one interval. */
    analysisIntervalMs: z.number().int().min(200).max(3_600_000).default(10_000),
    analysis: AnalysisConfig.prefault({}),
    smokeTest: SmokeTest.prefault({}),
    sticky: z.boolean().default(false),
  }),
  /** The new release runs beside the old without traffic (reachable with `x-plinth-canary: always`); after its smoke test (and an approval when asked) all traffic switches at once. */
  z.strictObject({ kind: z.literal('blueGreen'), approval: z.boolean().default(false), smokeTest: SmokeTest.prefault({}) }),
]);
export type RolloutStrategy = z.infer<typeof RolloutStrategy>;
export type RolloutStrategyInput = z.input<typeof RolloutStrategy>;

/** Where a Score file names its cost-center (Score metadata has annotations, not labels). */
export const COST_CENTER_ANNOTATION = 'plinth.dev/cost-center';

/** What makes an environment a preview: the repository branch it belongs to and when it expires. */
export const PreviewOf = z.object({ repository: z.string(), branch: z.string(), expiresAt: z.string() });
export type PreviewOf = z.infer<typeof PreviewOf>;

/** An environment's configuration: what Score's `environment` resource type reads (`${resources.<name>.<KEY>}`). */
export const EnvironmentVariables = z.record(z.string(), z.string().max(4096)).superRefine((variables, ctx) => {
  const names = Object.keys(variables);
  if (names.length > 200) ctx.addIssue({ code: 'custom', message: `${names.length} variables; an environment holds at most 200` });
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'must be a variable name: letters, digits and _, not starting with a digit, at most 100 characters' });
  }
});
export type EnvironmentVariables = z.infer<typeof EnvironmentVariables>;

export const Environment = z.object({
  name: z.string(),
  description: z.string(),
  strategy: RolloutStrategy,
  variables: z.record(z.string(), z.string()),
  builtin: z.boolean(),
  /** Set for a branch's preview environment (created by its pipeline, removed with the branch or at expiry). */
  preview: PreviewOf.nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Environment = z.infer<typeof Environment>;

export const CreateEnvironmentInput = z.strictObject({ name: dnsLabel, description: z.string().max(1000).default(''), strategy: RolloutStrategy.prefault({ kind: 'direct' }), variables: EnvironmentVariables.default({}) });
export type CreateEnvironmentInput = z.input<typeof CreateEnvironmentInput>;
/** `variables`, when given, replaces the environment's variables as a whole. */
export const UpdateEnvironmentInput = z.strictObject({ description: z.string().max(1000).optional(), strategy: RolloutStrategy.optional(), variables: EnvironmentVariables.optional() });
export type UpdateEnvironmentInput = z.input<typeof UpdateEnvironmentInput>;

/**
 * A branch's preview environment name: `pv-<branch, 10 characters>-<6 hex of repository and branch>`: a
 * DNS label, so `<service>.<name>.localhost` reaches it, and at most 20 characters, so the resource claims
 * of its workloads fit; the hash keeps branches apart.
 */
export function previewEnvironmentName(repository: string, branch: string): string {
  const slug = branch.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 10).replace(/-+$/, '');
  const start = /^[a-z]/.test(slug) ? slug : `b${slug}`.slice(0, 10).replace(/-+$/, '');
  return `pv-${start}-${createHash('sha256').update(`${repository}\n${branch}`).digest('hex').slice(0, 6)}`;
}

export const builtinEnvironments: { name: string; description: string; strategy: RolloutStrategy; variables: EnvironmentVariables }[] = [
  { name: 'staging', description: 'Pre-production: a release replaces the running one once ready and smoke-tested.', strategy: RolloutStrategy.parse({ kind: 'direct' }), variables: {} },
  { name: 'production', description: 'Production: every release is a canary, 10% → 25% → 50% → 100% with analysis at each step.', strategy: RolloutStrategy.parse({ kind: 'canary' }), variables: {} },
];

/**
 * Rollout phases:
 * - progressing: the new release takes its current step's weight; baking and being judged
 * - awaiting-approval: a manual gate before the next step; someone allowed must approve
 * - paused: paused by a user; weights stay as they are until resumed
 * - succeeded: promoted — the new release is stable, the previous stable drained
 * - rolled-back: analysis failed, or aborted/undone — all traffic on the previous stable, the new release stopped
 * - failed: the new release never became ready or failed its smoke test; the stable was never touched
 */
export const rolloutPhases = ['progressing', 'awaiting-approval', 'paused', 'succeeded', 'rolled-back', 'failed'] as const;
export type RolloutPhase = (typeof rolloutPhases)[number];
export const isTerminalRollout = (phase: RolloutPhase) => phase === 'succeeded' || phase === 'rolled-back' || phase === 'failed';

export const rolloutCommands = ['promote', 'abort', 'pause', 'resume', 'approve'] as const;
export type RolloutCommand = (typeof rolloutCommands)[number];

/** What the controller records after each pass: the resumable record (STYLE §6). */
export interface RolloutStatus {
  phase: RolloutPhase;
  /** Index into the canary steps; -1 before the first step (smoke test pending). */
  stepIndex: number;
  /** The new release's current weight (percent). */
  weightPercent: number;
  stepStartedAt: string | null;
  smokeTestPassed: boolean;
  /** Why the rollout is where it is (waiting for traffic, the failed check, who aborted). */
  message: string | null;
  lastAnalysis: (AnalysisResult & { at: string }) | null;
  /** Cumulative gateway counters at the start of the current step's window, per release id. */
  baseline: Record<string, CounterSnapshot> | null;
  approvals: { step: number; by: string; at: string }[];
  /** The phase a pause interrupted, resumed into. */
  pausedFrom: RolloutPhase | null;
  finishedAt: string | null;
}

export interface Rollout {
  id: string;
  service: string;
  environment: string;
  version: string;
  artifactDigest: string;
  commit: string | null;
  strategy: RolloutStrategy;
  /** The release this rollout brings in. */
  releaseId: string;
  /** The stable release when it started (null: the service's first release). */
  previousReleaseId: string | null;
  ownerRef: string | null;
  status: RolloutStatus;
  pendingCommand: { command: RolloutCommand; by: string; at: string } | null;
  jobId: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export const RolloutView = z.object({
  id: z.string(),
  service: z.string(),
  environment: z.string(),
  version: z.string(),
  artifactDigest: z.string(),
  commit: z.string().nullable(),
  strategy: z.unknown(),
  releaseId: z.string(),
  previousReleaseId: z.string().nullable(),
  ownerRef: z.string().nullable(),
  phase: z.enum(rolloutPhases),
  stepIndex: z.number(),
  stepCount: z.number(),
  weightPercent: z.number(),
  stepStartedAt: z.string().nullable(),
  message: z.string().nullable(),
  lastAnalysis: z.unknown().nullable(),
  approvals: z.array(z.object({ step: z.number(), by: z.string(), at: z.string() })),
  pendingCommand: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RolloutView = z.infer<typeof RolloutView>;

export function toRolloutView(r: Rollout): RolloutView {
  return {
    id: r.id, service: r.service, environment: r.environment, version: r.version, artifactDigest: r.artifactDigest, commit: r.commit, strategy: r.strategy,
    releaseId: r.releaseId, previousReleaseId: r.previousReleaseId, ownerRef: r.ownerRef,
    phase: r.status.phase, stepIndex: r.status.stepIndex, stepCount: r.strategy.kind === 'canary' ? r.strategy.steps.length : 1, weightPercent: r.status.weightPercent,
    stepStartedAt: r.status.stepStartedAt, message: r.status.message, lastAnalysis: r.status.lastAnalysis, approvals: r.status.approvals,
    pendingCommand: r.pendingCommand?.command ?? null, createdBy: r.createdBy, createdAt: r.createdAt, updatedAt: r.updatedAt, finishedAt: r.status.finishedAt,
  };
}

/** Starting a rollout: a workload spec (or a Score file's conversion, done by the client or `score` here). */
export const StartRolloutInput = z.strictObject({
  spec: z.record(z.string(), z.unknown()).optional(),
  /** score.yaml text; converted with the runtime's Score converter. */
  score: z.string().max(256_000).optional(),
  /** Overrides for a Score conversion (which has no artifact or environment of its own). */
  environment: dnsLabel.optional(),
  version: z.string().max(100).optional(),
  artifact: z.record(z.string(), z.unknown()).optional(),
  /** Labels merged into the spec's (a Score file has none of its own; the guardrails require owner and cost-center). */
  labels: z.record(z.string().max(253), z.string().max(63)).optional(),
  commit: z.string().regex(/^[0-9a-f]{7,64}$/, 'must be a hex commit id').optional(),
  /** Overrides the environment's strategy for this rollout. */
  strategy: RolloutStrategy.optional(),
}).refine((i) => (i.spec === undefined) !== (i.score === undefined), { message: 'give exactly one of spec or score' });
export type StartRolloutInput = z.input<typeof StartRolloutInput>;

export const WebhookInput = z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2000) });
export const WebhookView = z.object({ id: z.string(), service: z.string(), url: z.string(), createdBy: z.string(), createdAt: z.string() });
export type WebhookView = z.infer<typeof WebhookView>;

/** What the controller does after judging a step (pure; unit-tested). */
export type StepDecision =
  | { kind: 'wait'; message: string | null }
  | { kind: 'rollback'; reason: string }
  | { kind: 'next-step'; stepIndex: number; needsApproval: boolean }
  | { kind: 'promote' };

/** Decides a canary step from the elapsed bake time and the latest analysis. */
export function decideCanaryStep(strategy: Extract<RolloutStrategy, { kind: 'canary' }>, status: RolloutStatus, analysis: AnalysisResult | null, nowMs: number): StepDecision {
  const step = strategy.steps[status.stepIndex];
  if (!step) return { kind: 'promote' };
  if (analysis?.verdict === 'fail') return { kind: 'rollback', reason: analysis.summary };
  const bakeMs = step.bakeMs ?? strategy.bakeMs;
  const elapsedMs = status.stepStartedAt === null ? 0 : nowMs - Date.parse(status.stepStartedAt);
  if (step.analysis && analysis?.verdict !== 'pass') return { kind: 'wait', message: analysis?.summary ?? null };
  if (elapsedMs < bakeMs) return { kind: 'wait', message: analysis?.summary ?? `baking at ${step.weightPercent}%` };
  const next = status.stepIndex + 1;
  if (next >= strategy.steps.length) return { kind: 'promote' };
  return { kind: 'next-step', stepIndex: next, needsApproval: strategy.steps[next]!.approval };
}
