import { z } from 'zod';
import type { Permission } from '../../kernel/index.js';
import { runStatuses, stageStatuses, stepStatuses, type RunStatus, type StageName, type StageStatus, type StepStatus } from './definition.js';
import { testOutcomes, type RecordedTest } from './reports.js';

// ---- Runs as stored and served ------------------------------------------------------------------------

export const runTriggers = ['push', 'rerun'] as const;
export type RunTrigger = (typeof runTriggers)[number];

export interface Run {
  id: string;
  /** `owner/name` of the hosted repository. */
  repository: string;
  ownerRef: string;
  ref: string;
  sha: string;
  isDefaultBranch: boolean;
  /** 1 for the push, +1 per rerun of the same commit. */
  attempt: number;
  trigger: RunTrigger;
  status: RunStatus;
  definitionVersion: string;
  jobId: string | null;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * The runner that took the run last: an external runner's name, or `embedded@<worker id>` for a
   * server's own; null until one does. Always set on runs read from the store (optional for fixtures).
   */
  runner?: string | null;
}

export interface Step {
  name: string;
  stage: StageName;
  kind: 'shell' | 'platform';
  /** The shell command or the platform step kind. */
  command: string | null;
  status: StepStatus;
  /** Why it was skipped, not installed, failed or timed out. */
  message: string | null;
  exitCode: number | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** What a platform step handed on (e.g. build-artifact's `digest`); null for shell steps and steps that did not run. */
  outputs: Record<string, unknown> | null;
}

export interface LogLine {
  seq: number;
  time: string;
  step: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

export interface RunDetail extends Run {
  stages: { name: StageName; status: StageStatus; steps: Step[] }[];
  tests: RecordedTest[];
}

export const pipelinePermissions = {
  read: { name: 'read pipeline runs', verb: 'read' },
  operate: { name: 'rerun or cancel pipeline runs', verb: 'write' },
} satisfies Record<string, Permission>;

export const runSubject = (id: string): string => `pipeline-run:${id}`;

// ---- Ledger events (typed payloads of this layer's kinds) ----------------------------------------------

export interface PipelineEventPayloads {
  'pipelines.run.queued': { runId: string; repository: string; sha: string; ref: string; attempt: number; trigger: RunTrigger };
  'pipelines.run.started': { runId: string; repository: string; sha: string };
  'pipelines.run.finished': { runId: string; repository: string; sha: string; ref: string; status: RunStatus; durationMs: number | null; failedSteps: string[] };
  'pipelines.artifact.built': { digest: string; name: string; sizeBytes: number; repository: string; commit: string; runId: string };
  'pipelines.step.finished': { runId: string; repository: string; stage: StageName; step: string; status: StepStatus; attempts: number; durationMs: number | null; exitCode: number | null };
}

// ---- API shapes ------------------------------------------------------------------------------------------

export const RunView = z.object({
  id: z.string(),
  repository: z.string(),
  ownerRef: z.string(),
  ref: z.string(),
  sha: z.string(),
  isDefaultBranch: z.boolean(),
  attempt: z.number(),
  trigger: z.enum(runTriggers),
  status: z.enum(runStatuses),
  definitionVersion: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Null until a runner takes the run. */
  runner: z.string().nullable().optional(),
});

export const StepView = z.object({
  name: z.string(),
  stage: z.string(),
  kind: z.enum(['shell', 'platform']),
  command: z.string().nullable(),
  status: z.enum(stepStatuses),
  message: z.string().nullable(),
  exitCode: z.number().nullable(),
  attempts: z.number(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  outputs: z.record(z.string(), z.unknown()).nullable(),
});

export const TestView = z.object({
  step: z.string(),
  name: z.string(),
  file: z.string().nullable(),
  durationMs: z.number().nullable(),
  outcome: z.enum(testOutcomes),
  flaky: z.boolean(),
});

export const RunDetailView = RunView.extend({
  stages: z.array(z.object({ name: z.string(), status: z.enum(stageStatuses), steps: z.array(StepView) })),
  tests: z.array(TestView),
});

export const LogLineView = z.object({ seq: z.number(), time: z.string(), step: z.string(), stream: z.enum(['stdout', 'stderr', 'system']), text: z.string() });

const repositoryFullName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}\/[a-z0-9][a-z0-9._-]{0,99}$/, 'a repository is <owner>/<name>, e.g. team-a/payments');

export const ListRunsQuery = z.strictObject({
  repository: repositoryFullName.optional(),
  status: z.enum(runStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The id of the last run of the previous page. */
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/).optional(),
});
export type ListRunsQuery = z.infer<typeof ListRunsQuery>;

export const LogQuery = z.strictObject({
  step: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional(),
  afterSeq: z.coerce.number().int().min(0).optional(),
});
