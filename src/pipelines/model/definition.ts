import { z } from 'zod';

// ---- The standard pipeline ------------------------------------------------------------------------
// Platform-owned and versioned: every run records the version it ran, so a later change to the
// definition never rewrites what an old run meant (provenance names it as an external parameter).
// standard@2: the SBOM is made from the lockfiles in the security stage, and the artifact scan runs
// in the package stage after build-artifact (standard@1 scanned an artifact that did not exist yet).
// standard@3: the deploy stages run the delivery layer's steps (deploy, performance test, canary,
// analysis, progressive rollout, smoke test); the integration test is a shell step whose command
// comes from the preset and which reads the staging URL from the deploy step's outputs. Also in
// standard@3: the scan steps hand their findings on instead of failing on severity, and a `ci-gate`
// step (condition always, after them) tracks the findings and asks the policy layer's `ci` point:
// an open critical finding fails the run, high passes as a tracked finding with a due date (issues #7, #9).

export const STANDARD_PIPELINE_VERSION = 'standard@3';

/** Stages in the order they run; `setup` (checkout, config) is the platform's own and always first. */
export const stageNames = ['setup', 'build', 'security', 'package', 'deploy-staging', 'deploy-production'] as const;
export type StageName = (typeof stageNames)[number];

/** Stages a repository's plinth.yaml may turn off. Build and security always run (DESIGN principle 6). */
export const optionalStages: readonly StageName[] = ['package', 'deploy-staging', 'deploy-production'];

/**
 * When a step runs:
 * - on-success: every step it needs passed (or was skipped/not installed without failing)
 * - always: whatever happened before (reporting, cleanup)
 * - default-branch: like on-success, and only for pushes to the repository's default branch
 */
export const stepConditions = ['on-success', 'always', 'default-branch'] as const;
export type StepCondition = (typeof stepConditions)[number];

interface StepBase {
  /** Unique in the pipeline; other steps name it in `needs`. */
  name: string;
  stage: StageName;
  timeoutS: number;
  /** Extra attempts after a failure (a pass on a later attempt marks failed-then-passed tests flaky). */
  retries: number;
  condition: StepCondition;
  /** Steps that must finish first; steps of earlier stages are implied. */
  needs: string[];
  env: Record<string, string>;
}

/** A command run by `sh -c` in the workspace. `command: null` means the preset has nothing to run (skipped, with `reason`). */
export interface ShellStep extends StepBase {
  kind: 'shell';
  command: string | null;
  reason?: string;
}

/** A step another layer implements through the step registry (`uses` names the registered kind). */
export interface PlatformStep extends StepBase {
  kind: 'platform';
  uses: string;
  inputs: Record<string, unknown>;
}

export type StepDefinition = ShellStep | PlatformStep;

export interface PipelineDefinition {
  version: string;
  env: Record<string, string>;
  stages: { name: StageName; enabled: boolean }[];
  steps: StepDefinition[];
}

const defaults = { timeoutS: 600, retries: 0, condition: 'on-success' as StepCondition, needs: [] as string[], env: {} as Record<string, string> };
const shell = (stage: StageName, name: string, needs: string[] = []): ShellStep => ({ ...defaults, kind: 'shell', stage, name, needs, command: null, reason: 'no command for this repository' });
const platform = (stage: StageName, name: string, uses: string, needs: string[] = [], condition: StepCondition = 'on-success', timeoutS = defaults.timeoutS): PlatformStep => ({
  ...defaults, kind: 'platform', stage, name, uses, needs, condition, inputs: {}, timeoutS,
});
/** Waiting on a production canary: each step bakes (60 s by default) and may wait for an approval. */
const ROLLOUT_TIMEOUT_S = 3600;

/** The standard pipeline before presets and plinth.yaml: build commands come from the language preset. */
export function standardPipeline(): PipelineDefinition {
  return {
    version: STANDARD_PIPELINE_VERSION,
    env: { CI: 'true' },
    stages: stageNames.map((name) => ({ name, enabled: true })),
    steps: [
      shell('build', 'install'),
      shell('build', 'compile', ['install']),
      shell('build', 'unit-test', ['compile']),
      shell('build', 'lint', ['install']),
      platform('security', 'sast-scan', 'security.sast-scan'),
      platform('security', 'dependency-audit', 'security.dependency-audit'),
      platform('security', 'secrets-scan', 'security.secrets-scan'),
      platform('security', 'sbom', 'security.sbom'),
      platform('security', 'ci-gate', 'security.ci-gate', ['sast-scan', 'dependency-audit', 'secrets-scan'], 'always'),
      platform('package', 'build-artifact', 'pipelines.build-artifact'),
      platform('package', 'artifact-scan', 'security.artifact-scan', ['build-artifact']),
      // Only a scanned artifact is signed: a critical finding in it stops the signature, so it can never deploy.
      platform('package', 'sign', 'security.sign', ['artifact-scan']),
      platform('package', 'provenance', 'security.provenance', ['sign']),
      // The default branch deploys to staging, every other branch to its own preview environment.
      platform('deploy-staging', 'deploy', 'delivery.deploy'),
      shell('deploy-staging', 'integration-test', ['deploy']),
      platform('deploy-staging', 'performance-test', 'delivery.performance-test', ['deploy']),
      platform('deploy-production', 'canary', 'delivery.canary', [], 'default-branch'),
      platform('deploy-production', 'analysis', 'delivery.analysis', ['canary'], 'default-branch', ROLLOUT_TIMEOUT_S),
      platform('deploy-production', 'progressive-rollout', 'delivery.progressive-rollout', ['analysis'], 'default-branch', ROLLOUT_TIMEOUT_S),
      platform('deploy-production', 'smoke-test', 'delivery.smoke-test', ['progressive-rollout'], 'default-branch'),
    ],
  };
}

// ---- Resolving the plan ----------------------------------------------------------------------------

export interface PlannedStep {
  definition: StepDefinition;
  /** Every step this one waits for: its own needs plus all steps of earlier enabled stages. */
  waitsFor: string[];
  /** Set when the step will not run at all (stage off, branch condition); the step is recorded as skipped. */
  skipReason?: string;
}

/**
 * Orders the definition into a DAG. Stages are barriers (a stage starts when the one before it is
 * done); inside a stage, `needs` alone decides, so independent steps run in parallel.
 */
export function planPipeline(definition: PipelineDefinition, context: { isDefaultBranch: boolean }): PlannedStep[] {
  const enabled = new Map(definition.stages.map((s) => [s.name, s.enabled]));
  const byStage = (stage: StageName) => definition.steps.filter((s) => s.stage === stage);
  const planned: PlannedStep[] = [];
  let earlier: string[] = [];
  for (const stage of stageNames) {
    const steps = byStage(stage);
    if (steps.length === 0) continue;
    for (const step of steps) {
      const skipReason =
        enabled.get(stage) === false ? `the ${stage} stage is turned off in plinth.yaml`
        : step.condition === 'default-branch' && !context.isDefaultBranch ? 'runs only for pushes to the default branch'
        : undefined;
      planned.push({ definition: step, waitsFor: [...new Set([...earlier, ...step.needs])], ...(skipReason !== undefined ? { skipReason } : {}) });
    }
    earlier = [...earlier, ...steps.map((s) => s.name)];
  }
  return planned;
}

// ---- Outcomes --------------------------------------------------------------------------------------

/**
 * Step phases:
 * - pending: not started
 * - running: a process (or platform handler) is working on it
 * - passed / failed: finished with exit 0 / non-zero (after its retries)
 * - timed-out: killed at its time limit
 * - skipped: not run (stage off, branch condition, a needed step failed, nothing to run)
 * - not-installed: a platform step whose implementing layer is not installed
 * - cancelled: the run was cancelled before or while it ran
 */
export const stepStatuses = ['pending', 'running', 'passed', 'failed', 'timed-out', 'skipped', 'not-installed', 'cancelled'] as const;
export type StepStatus = (typeof stepStatuses)[number];

/** Stage status, derived from its steps; `not-installed` whenever a step is and none failed — never `passed`. */
export const stageStatuses = ['pending', 'running', 'passed', 'failed', 'skipped', 'not-installed', 'cancelled'] as const;
export type StageStatus = (typeof stageStatuses)[number];

/**
 * Run phases:
 * - queued: waiting for a runner
 * - running: a runner holds it
 * - passed: every step passed or was skipped
 * - incomplete: nothing failed, but some steps are not installed, so the run proves less than the standard asks
 * - failed: a step failed or timed out
 * - cancelled: cancelled by a user
 */
export const runStatuses = ['queued', 'running', 'passed', 'incomplete', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof runStatuses)[number];

export const isTerminalRun = (status: RunStatus): boolean => status !== 'queued' && status !== 'running';
export const isFailedStep = (status: StepStatus): boolean => status === 'failed' || status === 'timed-out' || status === 'cancelled';

export function stageStatusOf(steps: readonly StepStatus[]): StageStatus {
  if (steps.length === 0) return 'skipped';
  if (steps.includes('failed') || steps.includes('timed-out')) return 'failed';
  if (steps.includes('cancelled')) return 'cancelled';
  if (steps.includes('running')) return 'running';
  if (steps.includes('pending')) return steps.every((s) => s === 'pending') ? 'pending' : 'running';
  if (steps.includes('not-installed')) return 'not-installed';
  if (steps.every((s) => s === 'skipped')) return 'skipped';
  return 'passed';
}

export function runStatusOf(steps: readonly StepStatus[]): RunStatus {
  if (steps.includes('failed') || steps.includes('timed-out')) return 'failed';
  if (steps.includes('cancelled')) return 'cancelled';
  if (steps.includes('not-installed')) return 'incomplete';
  return 'passed';
}

export const StepStatusSchema = z.enum(stepStatuses);
