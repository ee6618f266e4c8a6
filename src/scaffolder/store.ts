import { NotFoundError, type Db } from '../kernel/index.js';
import type { StepState, Task, TaskEvent, TaskEventType, TaskSpec, TaskStatus } from './model.js';

/** The scaffolder's tables; only this file touches them. */
export interface ScaffolderTables {
  scaffolder_tasks: {
    id: string;
    template_ref: string;
    spec: string;
    status: string;
    created_by: string;
    created_at: string;
    updated_at: string;
    last_heartbeat_at: string | null;
    finished_at: string | null;
    job_id: string | null;
    steps: string;
    output: string | null;
    error: string | null;
    token_id: string | null;
    secrets: string | null;
  };
  scaffolder_task_events: {
    id: import('kysely').Generated<number>;
    task_id: string;
    type: string;
    body: string;
    created_at: string;
  };
}

type TaskRow = ScaffolderTables['scaffolder_tasks'];
const t = (db: Db) => db.tables<ScaffolderTables>();

function toTask(r: TaskRow): Task {
  return {
    id: r.id,
    spec: JSON.parse(r.spec) as TaskSpec,
    status: r.status as TaskStatus,
    createdBy: r.created_by,
    createdAt: r.created_at,
    lastHeartbeatAt: r.last_heartbeat_at,
    steps: JSON.parse(r.steps) as StepState[],
    output: r.output === null ? null : (JSON.parse(r.output) as Record<string, unknown>),
    error: r.error,
    finishedAt: r.finished_at,
  };
}

export interface NewTask {
  id: string;
  templateRef: string;
  spec: TaskSpec;
  createdBy: string;
  now: string;
  tokenId: string | null;
  secrets: Record<string, string>;
}

export async function insertTask(db: Db, task: NewTask): Promise<void> {
  const steps: StepState[] = task.spec.steps.map((s) => ({ id: s.id, name: s.name, action: s.action, status: 'open' }));
  await t(db)
    .insertInto('scaffolder_tasks')
    .values({
      id: task.id,
      template_ref: task.templateRef,
      spec: JSON.stringify(task.spec),
      status: 'open',
      created_by: task.createdBy,
      created_at: task.now,
      updated_at: task.now,
      last_heartbeat_at: null,
      finished_at: null,
      job_id: null,
      steps: JSON.stringify(steps),
      output: null,
      error: null,
      token_id: task.tokenId,
      secrets: JSON.stringify(task.secrets),
    })
    .execute();
}

export async function setJob(db: Db, id: string, jobId: string): Promise<void> {
  await t(db).updateTable('scaffolder_tasks').set({ job_id: jobId }).where('id', '=', id).execute();
}

export async function selectTask(db: Db, id: string): Promise<Task> {
  const row = await t(db).selectFrom('scaffolder_tasks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Task with id ${id} does not exist`);
  return toTask(row);
}

/** The run-time secrets of a task: its token and the secrets given at creation. */
export async function selectRunSecrets(db: Db, id: string): Promise<{ jobId: string | null; tokenId: string | null; secrets: Record<string, string> }> {
  const row = await t(db).selectFrom('scaffolder_tasks').select(['job_id', 'token_id', 'secrets']).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Task with id ${id} does not exist`);
  return { jobId: row.job_id, tokenId: row.token_id, secrets: row.secrets === null ? {} : (JSON.parse(row.secrets) as Record<string, string>) };
}

export async function selectTasks(db: Db, query: { createdBy?: string; status?: TaskStatus; limit: number; offset: number }): Promise<{ tasks: Task[]; total: number }> {
  let q = t(db).selectFrom('scaffolder_tasks');
  if (query.createdBy !== undefined) q = q.where('created_by', '=', query.createdBy);
  if (query.status !== undefined) q = q.where('status', '=', query.status);
  const rows = await q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).offset(query.offset).execute();
  const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { tasks: rows.map(toTask), total: Number(count.n) };
}

/** Moves a task to a status, only from the given ones; false when it was elsewhere (someone else won). */
export async function updateStatus(db: Db, id: string, from: readonly TaskStatus[], change: { status: TaskStatus; now: string; output?: unknown; error?: string; finished?: boolean }): Promise<boolean> {
  const result = await t(db)
    .updateTable('scaffolder_tasks')
    .set({
      status: change.status,
      updated_at: change.now,
      last_heartbeat_at: change.now,
      ...(change.output !== undefined ? { output: JSON.stringify(change.output) } : {}),
      ...(change.error !== undefined ? { error: change.error } : {}),
      // A finished task keeps no secrets.
      ...(change.finished ? { finished_at: change.now, secrets: null } : {}),
    })
    .where('id', '=', id)
    .where('status', 'in', [...from])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Puts a failed task back in the queue for a retry: only from failed; false when it was elsewhere. */
export async function resetForRetry(db: Db, id: string, change: { steps: readonly StepState[]; now: string; tokenId: string | null; secrets: Record<string, string> }): Promise<boolean> {
  const result = await t(db)
    .updateTable('scaffolder_tasks')
    .set({ status: 'open', steps: JSON.stringify(change.steps), updated_at: change.now, last_heartbeat_at: change.now, finished_at: null, output: null, error: null, token_id: change.tokenId, secrets: JSON.stringify(change.secrets) })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function updateSteps(db: Db, id: string, steps: readonly StepState[], now: string): Promise<void> {
  await t(db).updateTable('scaffolder_tasks').set({ steps: JSON.stringify(steps), updated_at: now, last_heartbeat_at: now }).where('id', '=', id).execute();
}

export async function insertEvent(db: Db, event: { taskId: string; type: TaskEventType; body: Record<string, unknown>; now: string }): Promise<void> {
  await t(db).insertInto('scaffolder_task_events').values({ task_id: event.taskId, type: event.type, body: JSON.stringify(event.body), created_at: event.now }).execute();
}

export async function selectEvents(db: Db, taskId: string, after: number | undefined): Promise<TaskEvent[]> {
  let q = t(db).selectFrom('scaffolder_task_events').selectAll().where('task_id', '=', taskId);
  if (after !== undefined) q = q.where('id', '>', after);
  const rows = await q.orderBy('id').limit(5000).execute();
  return rows.map((r) => ({ id: Number(r.id), taskId: r.task_id, type: r.type as TaskEventType, body: JSON.parse(r.body) as Record<string, unknown>, createdAt: r.created_at }));
}
