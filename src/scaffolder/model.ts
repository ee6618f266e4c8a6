import { Ajv, type ErrorObject } from 'ajv';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { InputError } from '../kernel/index.js';
import { expressionProblem, isTruthy, renderValue, stringsIn } from './expressions.js';

// ---- templates ----------------------------------------------------------------------------------

/** A JSON Schema object as templates write it (parameters pages); `ui:*` keys ride along. */
export type JsonSchema = Record<string, unknown>;

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
export function parseTemplate(entity: unknown, actions: ActionCatalogue, source: { baseDir?: string; /** false: only the form matters (parameter schema), not whether the steps can run here. */ runnable?: boolean } = {}): Template {
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
  };
}

// ---- parameters ---------------------------------------------------------------------------------

// ajv-formats is CommonJS whose callable is `module.exports.default`; require sidesteps NodeNext's
// default-import typing of it.
const addFormats = (createRequire(import.meta.url)('ajv-formats') as { default: (ajv: Ajv) => Ajv }).default;

/** ajv for template parameters: unknown keywords (`ui:*`, `when`) are hints for the form, not rules. */
function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false, validateFormats: true });
  addFormats(ajv);
  // rjsf's file widget value (Backstage's kitchen-sink template uses it).
  ajv.addFormat('data-url', /^data:[^,]*,/);
  return ajv;
}

let sharedAjv: Ajv | undefined;
const ajv = () => (sharedAjv ??= createAjv());

function schemaProblem(page: JsonSchema): string | undefined {
  try {
    ajv().compile(page);
    return undefined;
  } catch (err) {
    return `not a valid JSON Schema: ${(err as Error).message}`;
  }
}

export interface FieldProblem {
  /** Dotted path of the field in the values (`owner`, `advanced.replicas`). */
  field: string;
  message: string;
}

function fieldOf(error: ErrorObject): string {
  const base = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return base === '' ? missing : `${base}.${missing}`;
  }
  if (error.keyword === 'dependencies' || error.keyword === 'dependentRequired') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return base === '' ? missing : `${base}.${missing}`;
  }
  return base === '' ? '(values)' : base;
}

function messageOf(error: ErrorObject): string {
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'enum') return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return error.message ?? 'is invalid';
}

/**
 * Checks values against every parameter page whose `when` holds (Backstage scaffolder ≥ 4.3 shows a
 * page only then), returning one problem per field.
 */
export function validateValues(parameters: readonly JsonSchema[], values: Record<string, unknown>): FieldProblem[] {
  const problems = new Map<string, string>();
  for (const page of parameters) {
    if (page.when !== undefined && !isTruthy(renderValue(page.when, { parameters: values }))) continue;
    const validate = ajv().compile(page);
    if (validate(values)) continue;
    for (const error of validate.errors ?? []) {
      const field = fieldOf(error);
      if (!problems.has(field)) problems.set(field, messageOf(error));
    }
  }
  return [...problems].map(([field, message]) => ({ field, message }));
}

/** Throws one InputError naming every field that violates the schema, one message per field. */
export function assertValidValues(parameters: readonly JsonSchema[], values: Record<string, unknown>): void {
  const problems = validateValues(parameters, values);
  if (problems.length > 0) throw new InputError(`values do not match the template's parameters: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
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
  templateInfo: { entityRef: string; baseDir?: string };
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
