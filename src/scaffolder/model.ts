import { z } from 'zod';
import { InputError } from '../kernel/index.js';
import { expressionProblem, stringsIn } from './expressions.js';
import { schemaProblem, type JsonSchema } from './parameters.js';

// ---- templates ----------------------------------------------------------------------------------

export type { JsonSchema };

export interface TemplateStep {
  id: string;
  name: string;
  action: string;
  input: Record<string, unknown>;
  if?: unknown;
}

export interface TemplateOutput {
  links?: Record<string, unknown>[];
  text?: Record<string, unknown>[];
  [key: string]: unknown;
}

/** A v1beta3 Template, checked and ready to run. */
export interface Template {
  /** `template:<namespace>/<name>` */
  ref: string;
  title: string;
  /** Parameter pages in order; one page when the template wrote a single object. */
  parameters: JsonSchema[];
  steps: TemplateStep[];
  output: TemplateOutput;
  /** The folder holding template.yaml when it came from a file location: skeletons resolve against it. */
  baseDir?: string;
  /** The URL of the folder holding template.yaml when it came from a url location (hosted git): skeletons resolve against it. */
  baseUrl?: string;
}

/** What the loader needs to know of actions: whether an id exists, or why it is unavailable. */
export interface ActionCatalogue {
  has(id: string): boolean;
}

const stepSchema = z.looseObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'a step id is 1-100 letters, digits, "-" or "_"').optional(),
  name: z.string().max(500).optional(),
  action: z.string().min(1).max(200),
  input: z.record(z.string(), z.unknown()).optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
});

const templateSchema = z.looseObject({
  apiVersion: z.literal('scaffolder.backstage.io/v1beta3', { error: 'only scaffolder.backstage.io/v1beta3 templates are supported' }),
  kind: z.literal('Template'),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional(), title: z.string().optional(), annotations: z.record(z.string(), z.string()).optional() }),
  spec: z.looseObject({
    type: z.string().min(1),
    parameters: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]).optional(),
    steps: z.array(stepSchema),
    output: z.record(z.string(), z.unknown()).optional(),
  }),
});

/**
 * Backstage actions that talk to systems this installation has no integration for (SCM providers,
 * container-based generators): refused when a template loads, never midway through a task.
 */
const EXTERNAL_ACTION = /^(publish:(github|gitlab|bitbucket|bitbucketCloud|bitbucketServer|azure|gerrit|gitea)(:.*)?|(github|gitlab|bitbucket|bitbucketCloud|bitbucketServer|azure|gerrit|gitea|confluence|sentry|argocd|aws|gcp):.+|fetch:(cookiecutter|rails|yeoman))$/;

export function isExternalAction(id: string): boolean {
  return EXTERNAL_ACTION.test(id);
}

/** The problem of an action id, or undefined when it can run here. */
export function actionProblem(id: string, actions: ActionCatalogue): string | undefined {
  if (actions.has(id)) return undefined;
  if (isExternalAction(id)) {
    const hint = id.startsWith('publish:') ? "; use publish:plinth to publish to Plinth's hosted git" : '';
    return `action "${id}" is not available in this installation (it needs an external provider or tool)${hint}`;
  }
  return `unknown action "${id}"; GET /api/scaffolder/v2/actions lists the available ones`;
}

/**
 * Loads a Template entity: its structure, every action (known, not external) and every `${{ }}`
 * expression (parses). Throws one InputError listing every problem with its field path.
 */
export function parseTemplate(entity: unknown, actions: ActionCatalogue, source: { baseDir?: string; baseUrl?: string; /** false: only the form matters (parameter schema), not whether the steps can run here. */ runnable?: boolean } = {}): Template {
  const parsed = templateSchema.safeParse(entity);
  if (!parsed.success) {
    throw new InputError(`template is not a v1beta3 Template: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const { metadata, spec } = parsed.data;
  const ref = `template:${metadata.namespace ?? 'default'}/${metadata.name}`;
  const problems: string[] = [];
  const parameters = (Array.isArray(spec.parameters) ? spec.parameters : spec.parameters ? [spec.parameters] : []) as JsonSchema[];
  const seen = new Set<string>();
  const steps = spec.steps.map((step, index): TemplateStep => {
    const id = step.id ?? `step-${index + 1}`;
    if (seen.has(id)) problems.push(`spec.steps[${index}].id: "${id}" is used by an earlier step`);
    seen.add(id);
    const problem = source.runnable === false ? undefined : actionProblem(step.action, actions);
    if (problem !== undefined) problems.push(`spec.steps[${index}].action: ${problem}`);
    return { id, name: step.name ?? step.action, action: step.action, input: step.input ?? {}, ...(step.if !== undefined ? { if: step.if } : {}) };
  });
  const checked = [
    ...stringsIn(spec.steps, 'spec.steps'),
    ...stringsIn(spec.output ?? {}, 'spec.output'),
    ...parameters.flatMap((page, i) => (typeof page.when === 'string' ? [{ path: `spec.parameters[${i}].when`, text: page.when }] : [])),
  ];
  for (const { path, text } of checked) {
    if (!text.includes('${{') && !text.includes('{%')) continue;
    const problem = expressionProblem(text);
    if (problem !== undefined) problems.push(`${path}: broken expression: ${problem}`);
  }
  for (const [i, page] of parameters.entries()) {
    const problem = schemaProblem(page);
    if (problem !== undefined) problems.push(`spec.parameters[${i}]: ${problem}`);
  }
  if (problems.length > 0) throw new InputError(`${ref} cannot be used: ${problems.join('; ')}`);
  return {
    ref,
    title: metadata.title ?? metadata.name,
    parameters,
    steps,
    output: (spec.output ?? {}) as TemplateOutput,
    ...(source.baseDir !== undefined ? { baseDir: source.baseDir } : {}),
    ...(source.baseUrl !== undefined ? { baseUrl: source.baseUrl } : {}),
  };
}

// ---- tasks --------------------------------------------------------------------------------------

/**
 * Task statuses (Backstage's):
 * - open: created, waiting for a worker
 * - processing: a worker runs its steps
 * - completed: every step ran or was skipped; output rendered
 * - failed: a step failed; later steps did not run
 * - cancelled: cancelled before or between steps
 */
export const taskStatuses = ['open', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof taskStatuses)[number];

export function isTaskFinished(status: TaskStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

export const stepStatuses = ['open', 'processing', 'completed', 'failed', 'skipped', 'cancelled'] as const;
export type StepStatus = (typeof stepStatuses)[number];

export interface StepState {
  id: string;
  name: string;
  action: string;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  /** What the step produced (kept for retries; not served, as outputs may carry what a later step needs privately). */
  output?: Record<string, unknown>;
}

/** What a task runs: Backstage's TaskSpec (v1beta3) with Plinth's template base folder. */
export interface TaskSpec {
  apiVersion: 'scaffolder.backstage.io/v1beta3';
  steps: TemplateStep[];
  output: TemplateOutput;
  parameters: Record<string, unknown>;
  user: { ref?: string; entity?: unknown };
  templateInfo: { entityRef: string; baseDir?: string; baseUrl?: string };
}

export interface Task {
  id: string;
  spec: TaskSpec;
  status: TaskStatus;
  createdBy: string;
  createdAt: string;
  lastHeartbeatAt: string | null;
  steps: StepState[];
  output: Record<string, unknown> | null;
  error: string | null;
  finishedAt: string | null;
}

export const taskEventTypes = ['log', 'completion', 'cancelled'] as const;
export type TaskEventType = (typeof taskEventTypes)[number];

/** Backstage's SerializedTaskEvent. */
export interface TaskEvent {
  id: number;
  taskId: string;
  type: TaskEventType;
  body: Record<string, unknown>;
  createdAt: string;
}

// ---- workspaces ---------------------------------------------------------------------------------

/**
 * How long a failed task's workspace stays on disk so that it can be retried from the failed step. A
 * day covers "fix the cause, press Retry"; past it the folder is removed and a retry is refused (start
 * a new task). Completed and cancelled tasks' workspaces go when their run ends.
 */
export const FAILED_WORKSPACE_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * What to do with a task's workspace folder now:
 * - keep: the task is open or processing (a first run or a retry is using it)
 * - keep-until: a failed task within its retention; look again then
 * - remove: no such task, a completed or cancelled task, or a failed one past its retention
 */
/** A retention for messages: "24 h", "90 min", "30 s". */
export function formatRetention(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}

export type WorkspaceDisposition = { kind: 'keep' } | { kind: 'keep-until'; until: Date } | { kind: 'remove' };

export function workspaceDisposition(task: Pick<Task, 'status' | 'finishedAt'> | undefined, now: Date, retentionMs: number): WorkspaceDisposition {
  if (task === undefined) return { kind: 'remove' };
  if (task.status === 'open' || task.status === 'processing') return { kind: 'keep' };
  if (task.status !== 'failed' || task.finishedAt === null) return { kind: 'remove' };
  const until = new Date(Date.parse(task.finishedAt) + retentionMs);
  return now.getTime() >= until.getTime() ? { kind: 'remove' } : { kind: 'keep-until', until };
}

// ---- API shapes ---------------------------------------------------------------------------------

const refPart = z.string().regex(/^[A-Za-z0-9._-]{1,253}$/, 'letters, digits, ".", "_" or "-"');
export const TemplateParams = z.strictObject({ namespace: refPart, kind: refPart, name: refPart });

const values = z.record(z.string(), z.unknown());
const secrets = z.record(z.string(), z.string().max(10_000)).refine((s) => Object.keys(s).length <= 50, 'at most 50 secrets');

export const CreateTaskInput = z.strictObject({
  templateRef: z.string().min(1).max(600),
  values,
  secrets: secrets.optional(),
});
export type CreateTaskInput = z.infer<typeof CreateTaskInput>;

/** Backstage's retry body: secrets for the steps still to run (those given at creation are not kept). */
export const RetryTaskInput = z.strictObject({ secrets: secrets.optional() });
export type RetryTaskInput = z.infer<typeof RetryTaskInput>;

/** Backstage's dry-run body (an inline template), or Plinth's `templateRef` to dry-run a catalog template with its skeleton. */
export const DryRunInput = z.strictObject({
  template: z.record(z.string(), z.unknown()).optional(),
  templateRef: z.string().min(1).max(600).optional(),
  values,
  secrets: secrets.optional(),
  directoryContents: z.array(z.strictObject({ path: z.string().min(1).max(1000), base64Content: z.string().max(20 * 1024 * 1024) })).max(2000).default([]),
}).refine((i) => (i.template === undefined) !== (i.templateRef === undefined), { message: 'give either template (inline) or templateRef (a catalog template)', path: ['template'] });
export type DryRunInput = z.infer<typeof DryRunInput>;

export const ListTasksQuery = z.strictObject({
  createdBy: z.string().max(300).optional(),
  status: z.enum(taskStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuery>;

/** Plinth's: which parameter pages the form shows for the values so far (their `when`, rendered in the sandbox). */
export const ShownStepsInput = z.strictObject({ values });

export const EventStreamQuery = z.strictObject({ after: z.coerce.number().int().min(0).optional() });

const stepState = z.object({ id: z.string(), name: z.string(), action: z.string(), status: z.enum(stepStatuses), startedAt: z.string().optional(), endedAt: z.string().optional() });

/** Backstage's SerializedTask, plus per-step state; secrets never leave the server. */
export const TaskView = z.object({
  id: z.string(),
  spec: z.unknown(),
  status: z.enum(taskStatuses),
  createdBy: z.string(),
  createdAt: z.string(),
  lastHeartbeatAt: z.string().nullable(),
  steps: z.array(stepState),
  output: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const TaskEventView = z.object({ id: z.number(), taskId: z.string(), type: z.enum(taskEventTypes), body: z.record(z.string(), z.unknown()), createdAt: z.string() });
