import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ANNOTATION_LOCATION, parseRef, refKey, type Catalog } from '../catalog/index.js';
import type { Git } from '../git/index.js';
import { authorize, ConflictError, InputError, newId, NotFoundError, toIso, userRef, type Kernel, type Permission, type Principal } from '../kernel/index.js';
import { actionSchemas, createBuiltinRegistry, type ActionRegistry } from './actions/index.js';
import { createWorkspaceCleanup } from './cleanup.js';
import {
  FAILED_WORKSPACE_RETENTION_MS,
  formatRetention,
  isTaskFinished,
  parseTemplate,
  workspaceDisposition,
  type CreateTaskInput,
  type DryRunInput,
  type ListTasksQuery,
  type StepState,
  type Task,
  type TaskEvent,
  type TaskSpec,
  type Template,
} from './model.js';
import { assertValidValues, isPageShown } from './parameters.js';
import { preflightSteps } from './preflight.js';
import { runSteps, type RunResult } from './runner.js';
import * as q from './store.js';
import { listFiles, writeInside } from './workspace.js';

export const scaffolderPermissions = {
  read: { name: 'read templates and tasks', verb: 'read' },
  createTask: { name: 'run a software template', verb: 'write' },
  dryRun: { name: 'dry-run a software template', verb: 'write' },
  cancelTask: { name: 'cancel a scaffolder task', verb: 'write' },
  retryTask: { name: 'retry a failed scaffolder task', verb: 'write' },
} satisfies Record<string, Permission>;

const RUN_TASK_JOB = 'scaffolder.run-task';
const EVENTS_CHANNEL = 'scaffolder_task_events';

export interface ParameterSchema {
  title: string;
  description?: string;
  steps: { title: string; description?: string; schema: Record<string, unknown> }[];
}

export interface DryRunResult {
  status: RunResult['status'];
  error?: { name: string; message: string };
  log: { body: Record<string, unknown> }[];
  directoryContents: { path: string; executable: boolean; base64Content: string }[];
  output: Record<string, unknown>;
  steps: Template['steps'];
}

/** Software templates: Backstage v1beta3 templates from the catalog, run as tasks on the job queue. */
export interface Scaffolder {
  /** Actions templates may use; later layers register theirs before the app starts. */
  readonly actions: ActionRegistry;
  getParameterSchema(principal: Principal, ref: { namespace: string; kind: string; name: string }): Promise<ParameterSchema>;
  /** Which parameter pages the form shows for the values so far (Backstage's `when` on a page), in page order. */
  shownSteps(principal: Principal, ref: { namespace: string; kind: string; name: string }, values: Record<string, unknown>): Promise<boolean[]>;
  listActions(principal: Principal): { id: string; description: string; schema: { input: unknown; output?: unknown }; supportsDryRun: boolean }[];
  /**
   * Why a Template entity cannot run here (unknown or unavailable actions, broken expressions, invalid
   * parameter schemas), or [] — for the catalog to refuse such a template when it is registered.
   */
  templateProblems(entity: unknown): string[];
  /** Loads and checks a catalog Template (actions available, expressions parse). */
  loadTemplate(principal: Principal, templateRef: string, options?: { runnable?: boolean }): Promise<Template>;
  createTask(principal: Principal, input: CreateTaskInput): Promise<{ id: string }>;
  listTasks(principal: Principal, query: ListTasksQuery): Promise<{ tasks: Task[]; totalTasks: number }>;
  getTask(principal: Principal, id: string): Promise<Task>;
  listEvents(principal: Principal, id: string, after?: number): Promise<TaskEvent[]>;
  /** Delivers the task's events after `after`, then new ones as they are recorded; returns the unsubscribe. */
  watchEvents(principal: Principal, id: string, after: number | undefined, listener: (event: TaskEvent) => void): Promise<() => void>;
  cancelTask(principal: Principal, id: string): Promise<Task>;
  /**
   * Runs a failed task again from its first failed step, in the workspace the failed run left, with the
   * outputs of the steps that succeeded (Backstage's POST /v2/tasks/:id/retry).
   */
  retryTask(principal: Principal, id: string, input?: { secrets?: Record<string, string> }): Promise<Task>;
  dryRun(principal: Principal, input: DryRunInput): Promise<DryRunResult>;
  /**
   * Removes task workspaces no task needs any more (finished tasks', failed ones past their retention,
   * folders without a task, stale dry runs); runs at start, returns the task ids whose folder went.
   */
  sweepWorkspaces(): Promise<{ removed: string[] }>;
  start(): void;
}

export interface ScaffolderOptions {
  /** How long a failed task's workspace stays for a retry; default FAILED_WORKSPACE_RETENTION_MS (24 h). */
  failedWorkspaceRetentionMs?: number;
}

export function createScaffolder(
  kernel: Kernel,
  deps: { catalog: Pick<Catalog, 'getEntityByRef' | 'addLocation'>; git: Pick<Git, 'createRepository' | 'getRepository' | 'resolveRef' | 'readTree' | 'readFile'> },
  options: ScaffolderOptions = {},
): Scaffolder {
  const { store, jobs, clock, auth, config } = kernel;
  const log = kernel.logger.child({ layer: 'scaffolder' });
  const actions = createBuiltinRegistry(deps);
  const root = join(config.dataDir, 'scaffolder');
  const now = () => toIso(clock.now());
  // Cancels requested in this process reach a running task at once; other replicas see the job's
  // cancel flag at their next heartbeat.
  const localCancels = new Map<string, AbortController>();
  const retentionMs = options.failedWorkspaceRetentionMs ?? FAILED_WORKSPACE_RETENTION_MS;
  const cleanup = createWorkspaceCleanup(kernel, { root, retentionMs, record: (taskId, message) => record(taskId, 'log', { message }) });

  function serverUrl(): string | undefined {
    const address = kernel.server.addresses().find((a) => typeof a !== 'string');
    if (address === undefined || typeof address === 'string') return undefined;
    const host = address.family === 'IPv6' ? (address.address === '::' ? '[::1]' : `[${address.address}]`) : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
    return `http://${host}:${address.port}`;
  }

  async function loadTemplate(principal: Principal, templateRef: string, options: { runnable?: boolean } = {}): Promise<Template> {
    authorize(principal, scaffolderPermissions.read);
    const key = refKey(parseRef(templateRef, { defaultKind: 'template', defaultNamespace: 'default' }));
    if (!key.startsWith('template:')) throw new InputError(`templateRef: "${templateRef}" is not a Template ref`);
    const entity = await deps.catalog.getEntityByRef(principal, key);
    if (!entity) throw new NotFoundError(`Template ${key} not found`);
    const location = entity.metadata.annotations?.[ANNOTATION_LOCATION];
    const baseDir = location?.startsWith('file:') ? dirname(location.slice('file:'.length)) : undefined;
    // A url location's folder (`…/contents/main/templates/svc/`): relative skeleton urls resolve against it.
    const baseUrl = location?.startsWith('url:') ? new URL('.', location.slice('url:'.length)).toString() : undefined;
    return parseTemplate(entity, actions, { baseDir, baseUrl, ...options });
  }

  async function record(taskId: string, type: TaskEvent['type'], body: Record<string, unknown>) {
    await store.transaction(async (tx) => {
      await q.insertEvent(tx, { taskId, type, body, now: now() });
      await tx.notify(EVENTS_CHANNEL, taskId);
    });
  }

  async function finish(task: Task, result: RunResult, from: Task['status'][]) {
    const output = result.status === 'completed' ? result.output : undefined;
    const error = result.status === 'failed' ? result.error : undefined;
    const at = now();
    const moved = await store.transaction(async (tx) => {
      const updated = await q.updateStatus(tx, task.id, from, { status: result.status, now: at, output, error: error?.message, finished: true });
      // The workspace a failure leaves (for a retry) is removed when its retention ends.
      if (updated && result.status === 'failed') await cleanup.schedule({ id: task.id, finishedAt: at }, tx);
      return updated;
    });
    if (!moved) return;
    await record(task.id, 'completion', { message: `Run completed with status: ${result.status}`, ...(output ? { output } : {}), ...(error ? { error } : {}) });
  }

  async function revokeTaskToken(taskId: string, principal: Principal) {
    const { tokenId } = await q.selectRunSecrets(store, taskId);
    if (tokenId === null || principal.kind !== 'user') return;
    await auth.revokeToken(principal, tokenId).catch((err: unknown) => log.warn({ err, taskId }, 'could not revoke the task token'));
  }

  async function runTask(taskId: string, signal: AbortSignal) {
    const task = await q.selectTask(store, taskId);
    if (task.status !== 'open') {
      // A worker died mid-task: steps are not idempotent (repositories, registrations), so the task fails
      // and says so instead of running its steps a second time.
      if (task.status === 'processing') await finish(task, { status: 'failed', error: { name: 'Error', message: 'the worker running this task stopped; start a new task' } }, ['processing']);
      return;
    }
    if (!(await q.updateStatus(store, taskId, ['open'], { status: 'processing', now: now() }))) return;
    const { secrets, tokenId } = await q.selectRunSecrets(store, taskId);
    const { token, ...templateSecrets } = secrets;
    const principal: Principal = token !== undefined && tokenId !== null ? await auth.authenticateToken(token) : { kind: 'system', name: 'scaffolder' };
    const abort = new AbortController();
    localCancels.set(taskId, abort);
    const onJobAbort = () => abort.abort();
    signal.addEventListener('abort', onJobAbort, { once: true });
    const workspacePath = join(root, 'workspaces', taskId);
    const steps: StepState[] = task.steps.map((s) => ({ ...s }));
    // A retry resumes in the workspace the failed run left; a first run starts from an empty one.
    const resuming = steps.some((s) => s.status === 'completed' || s.status === 'skipped');
    let result: RunResult | undefined;
    try {
      if (!resuming) await rm(workspacePath, { recursive: true, force: true });
      await mkdir(workspacePath, { recursive: true });
      result = await runSteps(
        { spec: task.spec, workspacePath, actions, dryRun: false, principal, secrets: templateSecrets, ...(token !== undefined ? { userToken: token } : {}), serverUrl, signal: abort.signal, clock, ...(resuming ? { resumeFrom: task.steps } : {}) },
        {
          log: (body) => record(taskId, 'log', body),
          step: async (state, index) => {
            steps[index] = state;
            await q.updateSteps(store, taskId, steps, now());
          },
        },
      );
    } catch (err) {
      log.error({ err, taskId }, 'task run failed');
      result = { status: 'failed', error: { name: 'Error', message: 'internal error while running the task' } };
    } finally {
      signal.removeEventListener('abort', onJobAbort);
      localCancels.delete(taskId);
      // A failed task keeps its workspace for a retry; retryTask refuses once it is gone.
      if (result?.status !== 'failed') await rm(workspacePath, { recursive: true, force: true }).catch(() => undefined);
    }
    await finish(task, result, ['processing']);
    await revokeTaskToken(taskId, principal);
    return result;
  }

  return {
    actions,

    async getParameterSchema(principal, ref) {
      if (ref.kind.toLowerCase() !== 'template') throw new InputError(`kind: "${ref.kind}" is not template`);
      // The form is served even when a step cannot run here: the refusal comes with the task, naming the action.
      const template = await loadTemplate(principal, `template:${ref.namespace}/${ref.name}`, { runnable: false });
      return {
        title: template.title,
        steps: template.parameters.map((schema) => ({
          title: typeof schema.title === 'string' ? schema.title : 'Fill in template parameters',
          ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
          schema,
        })),
      };
    },

    async shownSteps(principal, ref, values) {
      if (ref.kind.toLowerCase() !== 'template') throw new InputError(`kind: "${ref.kind}" is not template`);
      const template = await loadTemplate(principal, `template:${ref.namespace}/${ref.name}`, { runnable: false });
      return template.parameters.map((page, index) => isPageShown(page, index, values));
    },

    listActions(principal) {
      authorize(principal, scaffolderPermissions.read);
      return actions.list().map((a) => ({ id: a.id, description: a.description, schema: actionSchemas(a), supportsDryRun: a.supportsDryRun }));
    },

    loadTemplate,

    templateProblems(entity) {
      try {
        parseTemplate(entity, actions);
        return [];
      } catch (err) {
        if (err instanceof InputError) return [err.message];
        throw err;
      }
    },

    async createTask(principal, input) {
      authorize(principal, scaffolderPermissions.createTask);
      const template = await loadTemplate(principal, input.templateRef);
      assertValidValues(template.parameters, input.values);
      const id = newId();
      const userEntityRef = principal.kind === 'user' ? userRef(principal.username) : undefined;
      const userEntity = userEntityRef ? await deps.catalog.getEntityByRef(principal, userEntityRef) : undefined;
      const user = { ...(userEntityRef ? { ref: userEntityRef } : {}), ...(userEntity ? { entity: userEntity } : {}) };
      await preflightSteps(template.steps, actions, { parameters: input.values, user, secrets: input.secrets ?? {} }, principal);
      const spec: TaskSpec = {
        apiVersion: 'scaffolder.backstage.io/v1beta3',
        steps: template.steps,
        output: template.output,
        parameters: input.values,
        user,
        templateInfo: { entityRef: template.ref, ...(template.baseDir !== undefined ? { baseDir: template.baseDir } : {}), ...(template.baseUrl !== undefined ? { baseUrl: template.baseUrl } : {}) },
      };
      // The task acts as its creator through a token that lives as long as the task (revoked at the end).
      const created =
        principal.kind === 'user'
          ? await auth.createToken(principal, { name: `scaffolder task ${id}`, scopes: principal.scopes.filter((s) => s !== 'admin'), expiresInDays: 1 })
          : undefined;
      await store.transaction(async (tx) => {
        await q.insertTask(tx, {
          id,
          templateRef: template.ref,
          spec,
          createdBy: userEntityRef ?? `system:${principal.kind === 'system' ? principal.name : 'unknown'}`,
          now: now(),
          tokenId: created?.token.id ?? null,
          secrets: { ...input.secrets, ...(created ? { token: created.secret } : {}) },
        });
        const { job } = await jobs.enqueue({ kind: RUN_TASK_JOB, payload: { taskId: id }, idempotencyKey: `${RUN_TASK_JOB}:${id}`, maxAttempts: 1 }, { db: tx });
        await q.setJob(tx, id, job.id);
      });
      return { id };
    },

    async listTasks(principal, query) {
      authorize(principal, scaffolderPermissions.read);
      const { tasks, total } = await q.selectTasks(store, query);
      return { tasks, totalTasks: total };
    },

    async getTask(principal, id) {
      authorize(principal, scaffolderPermissions.read);
      return q.selectTask(store, id);
    },

    async listEvents(principal, id, after) {
      authorize(principal, scaffolderPermissions.read);
      await q.selectTask(store, id);
      return q.selectEvents(store, id, after);
    },

    async watchEvents(principal, id, after, listener) {
      authorize(principal, scaffolderPermissions.read);
      await q.selectTask(store, id);
      let last = after ?? 0;
      let reading = Promise.resolve();
      let stopped = false;
      const drain = () => {
        reading = reading.then(async () => {
          if (stopped) return;
          for (const event of await q.selectEvents(store, id, last)) {
            last = event.id;
            listener(event);
          }
        }).catch((err: unknown) => log.warn({ err, taskId: id }, 'could not read task events'));
      };
      const unlisten = store.listen(EVENTS_CHANNEL, (taskId) => {
        if (taskId === id) drain();
      });
      await store.listening();
      drain();
      return () => {
        stopped = true;
        unlisten();
      };
    },

    async cancelTask(principal, id) {
      const task = await q.selectTask(store, id);
      authorize(principal, scaffolderPermissions.cancelTask, { type: 'scaffolder-task', id, ownerRef: task.createdBy.startsWith('user:') ? task.createdBy : undefined });
      if (isTaskFinished(task.status)) return task;
      const { jobId } = await q.selectRunSecrets(store, id);
      if (task.status === 'open' && (await q.updateStatus(store, id, ['open'], { status: 'cancelled', now: now(), finished: true }))) {
        await record(id, 'cancelled', { message: 'Task was cancelled before it started' });
        await record(id, 'completion', { message: 'Run completed with status: cancelled' });
        await revokeTaskToken(id, principal);
      } else {
        await record(id, 'cancelled', { message: 'Cancellation requested' });
        localCancels.get(id)?.abort();
      }
      if (jobId !== null) await jobs.cancel(jobId).catch(() => undefined);
      return q.selectTask(store, id);
    },

    async retryTask(principal, id, input = {}) {
      const task = await q.selectTask(store, id);
      authorize(principal, scaffolderPermissions.retryTask, { type: 'scaffolder-task', id, ownerRef: task.createdBy.startsWith('user:') ? task.createdBy : undefined });
      if (task.status !== 'failed') throw new ConflictError(`task ${id} is ${task.status}; only a failed task can be retried`);
      const workspacePath = join(root, 'workspaces', id);
      // Past its retention the workspace is (about to be) removed: a retry then would race the removal.
      if (workspaceDisposition(task, clock.now(), retentionMs).kind === 'remove') {
        throw new ConflictError(`task ${id} failed more than ${formatRetention(retentionMs)} ago and its workspace was removed; start a new task`);
      }
      if (!existsSync(workspacePath)) throw new ConflictError(`the workspace of task ${id} is gone (it ran on another replica or was cleaned up); start a new task`);
      const failedAt = task.steps.findIndex((s) => s.status !== 'completed' && s.status !== 'skipped');
      const steps: StepState[] = task.steps.map((s, i) => (i < failedAt || failedAt < 0 ? s : { id: s.id, name: s.name, action: s.action, status: 'open' }));
      const created =
        principal.kind === 'user'
          ? await auth.createToken(principal, { name: `scaffolder task ${id} (retry)`, scopes: principal.scopes.filter((s) => s !== 'admin'), expiresInDays: 1 })
          : undefined;
      const moved = await store.transaction(async (tx) => {
        const reset = await q.resetForRetry(tx, id, { steps, now: now(), tokenId: created?.token.id ?? null, secrets: { ...input.secrets, ...(created ? { token: created.secret } : {}) } });
        if (!reset) return false;
        const { job } = await jobs.enqueue({ kind: RUN_TASK_JOB, payload: { taskId: id }, idempotencyKey: `${RUN_TASK_JOB}:${id}:retry:${newId()}`, maxAttempts: 1 }, { db: tx });
        await q.setJob(tx, id, job.id);
        await q.insertEvent(tx, { taskId: id, type: 'log', body: { message: `Retrying from step ${steps[failedAt]?.id ?? '(none)'}`, ...(failedAt >= 0 ? { stepId: steps[failedAt]!.id } : {}) }, now: now() });
        await tx.notify(EVENTS_CHANNEL, id);
        return true;
      });
      if (!moved) {
        if (created && principal.kind === 'user') await auth.revokeToken(principal, created.token.id).catch(() => undefined);
        throw new ConflictError(`task ${id} is no longer failed (retried concurrently)`);
      }
      return q.selectTask(store, id);
    },

    async dryRun(principal, input) {
      authorize(principal, scaffolderPermissions.dryRun);
      const runDir = join(root, 'dry-run', newId());
      const baseDir = join(runDir, 'template');
      const workspacePath = join(runDir, 'workspace');
      try {
        await mkdir(baseDir, { recursive: true });
        await mkdir(workspacePath, { recursive: true });
        for (const [i, file] of input.directoryContents.entries()) {
          await writeInside(baseDir, file.path, Buffer.from(file.base64Content, 'base64'), `directoryContents[${i}].path`);
        }
        const template = input.templateRef !== undefined ? await loadTemplate(principal, input.templateRef) : parseTemplate(input.template, actions, { baseDir });
        assertValidValues(template.parameters, input.values);
        const logLines: { body: Record<string, unknown> }[] = [];
        const userEntityRef = principal.kind === 'user' ? userRef(principal.username) : undefined;
        const result = await runSteps(
          {
            spec: { apiVersion: 'scaffolder.backstage.io/v1beta3', steps: template.steps, output: template.output, parameters: input.values, user: userEntityRef ? { ref: userEntityRef } : {}, templateInfo: input.templateRef !== undefined ? { entityRef: template.ref, ...(template.baseDir !== undefined ? { baseDir: template.baseDir } : {}), ...(template.baseUrl !== undefined ? { baseUrl: template.baseUrl } : {}) } : { entityRef: template.ref, baseDir } },
            workspacePath,
            actions,
            dryRun: true,
            principal,
            secrets: input.secrets ?? {},
            serverUrl,
            signal: new AbortController().signal,
            clock,
          },
          { log: async (body) => void logLines.push({ body }), step: async () => undefined },
        );
        const files = await listFiles(workspacePath);
        return {
          status: result.status,
          ...(result.status === 'failed' ? { error: result.error } : {}),
          log: logLines,
          directoryContents: files.map((f) => ({ path: f.path, executable: f.executable, base64Content: f.content.toString('base64') })),
          output: result.status === 'completed' ? result.output : {},
          steps: template.steps,
        };
      } finally {
        await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
      }
    },

    sweepWorkspaces: () => cleanup.sweep(),

    start() {
      cleanup.register();
      void cleanup.sweep().catch((err: unknown) => log.warn({ err }, 'could not sweep task workspaces'));
      jobs.register(RUN_TASK_JOB, async (job, ctx) => {
        const payload = job.payload as { taskId?: unknown } | null;
        if (typeof payload?.taskId !== 'string') return { kind: 'fail', reason: 'payload has no taskId' };
        const result = await runTask(payload.taskId, ctx.signal);
        return result?.status === 'failed' ? { kind: 'fail', reason: result.error.message } : { kind: 'done' };
      });
    },
  };
}
