import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, toIso, type Db, type Kernel } from '../kernel/index.js';
import { formatRetention, workspaceDisposition, type Task } from './model.js';
import * as q from './store.js';

export const CLEAN_WORKSPACE_JOB = 'scaffolder.clean-workspace';

/** Dry runs remove their folder when they end; one older than this was left by a crash. */
const STALE_DRY_RUN_MS = 60 * 60 * 1000;

export interface WorkspaceCleanup {
  /** Schedules the removal of a failed task's workspace at the end of its retention (idempotent per failure). */
  schedule(task: Pick<Task, 'id' | 'finishedAt'>, db?: Db): Promise<void>;
  /** The job: removes the workspace when its retention is over, or waits until then. */
  register(): void;
  /**
   * Removes what no task needs any more: workspaces of finished tasks past their retention, of tasks
   * that do not exist, and dry-run folders a crash left; schedules the failed ones still kept. Run at
   * start, so a crash or a replica that was down leaves nothing on disk for good.
   */
  sweep(): Promise<{ removed: string[] }>;
}

/**
 * Failed tasks' workspaces stay for a retry for `retentionMs` after the failure (a job at that time
 * removes them); everything else is removed when the run ends (runner) or by the sweep at start.
 */
export function createWorkspaceCleanup(kernel: Pick<Kernel, 'store' | 'jobs' | 'clock' | 'logger'>, options: { root: string; retentionMs: number; record(taskId: string, message: string): Promise<void> }): WorkspaceCleanup {
  const { store, jobs, clock } = kernel;
  const log = kernel.logger.child({ layer: 'scaffolder' });
  const workspaces = join(options.root, 'workspaces');
  const pathOf = (taskId: string) => join(workspaces, taskId);

  async function findTask(taskId: string): Promise<Task | undefined> {
    return q.selectTask(store, taskId).catch((err: unknown) => (err instanceof NotFoundError ? undefined : Promise.reject(err)));
  }

  async function schedule(task: Pick<Task, 'id' | 'finishedAt'>, db: Db = store) {
    if (task.finishedAt === null) return;
    const runAt = new Date(Date.parse(task.finishedAt) + options.retentionMs);
    // One job per failure: a retry that fails again finishes at another time and gets its own.
    await jobs.enqueue({ kind: CLEAN_WORKSPACE_JOB, payload: { taskId: task.id }, runAt, idempotencyKey: `${CLEAN_WORKSPACE_JOB}:${task.id}:${task.finishedAt}`, maxAttempts: 5 }, { db });
  }

  /** Removes a task's workspace when its disposition says so; returns when to look again, if kept for a while. */
  async function settle(taskId: string): Promise<{ removed: boolean; until?: Date }> {
    const task = await findTask(taskId);
    const decision = workspaceDisposition(task, clock.now(), options.retentionMs);
    if (decision.kind === 'keep') return { removed: false };
    if (decision.kind === 'keep-until') return { removed: false, until: decision.until };
    const path = pathOf(taskId);
    const existed = await stat(path).then(() => true, () => false);
    await rm(path, { recursive: true, force: true });
    if (existed && task?.status === 'failed') {
      await options.record(taskId, `Removed the workspace ${formatRetention(options.retentionMs)} after the failure; a retry is no longer possible, start a new task`);
    }
    return { removed: existed };
  }

  return {
    schedule,

    register() {
      jobs.register(CLEAN_WORKSPACE_JOB, async (job) => {
        const payload = job.payload as { taskId?: unknown } | null;
        if (typeof payload?.taskId !== 'string' || !/^[A-Za-z0-9-]{1,100}$/.test(payload.taskId)) return { kind: 'fail', reason: 'payload has no task id' };
        const { until } = await settle(payload.taskId);
        return until !== undefined ? { kind: 'wait', until } : { kind: 'done' };
      });
    },

    async sweep() {
      const removed: string[] = [];
      const folders = await readdir(workspaces).catch(() => [] as string[]);
      for (const taskId of folders) {
        try {
          const task = await findTask(taskId);
          const result = await settle(taskId);
          if (result.removed) removed.push(taskId);
          // A failed task kept for its retention: make sure its removal is scheduled (a crash may have lost it).
          if (result.until !== undefined && task !== undefined) await schedule(task);
        } catch (err) {
          log.warn({ err, taskId }, 'could not clean a task workspace');
        }
      }
      const dryRuns = join(options.root, 'dry-run');
      const cutoff = clock.now().getTime() - STALE_DRY_RUN_MS;
      for (const name of await readdir(dryRuns).catch(() => [] as string[])) {
        const info = await stat(join(dryRuns, name)).catch(() => undefined);
        if (info !== undefined && info.mtimeMs < cutoff) await rm(join(dryRuns, name), { recursive: true, force: true }).catch(() => undefined);
      }
      if (removed.length > 0) log.info({ removed: removed.length, at: toIso(clock.now()) }, 'removed task workspaces no task needs');
      return { removed };
    },
  };
}
