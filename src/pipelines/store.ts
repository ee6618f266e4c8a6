import { NotFoundError, type Db } from '../kernel/index.js';
import type { BuildArtifact, LogLine, RecordedTest, Run, RunStatus, RunTrigger, StageName, Step, StepStatus } from './model/index.js';

/** The pipelines layer's tables; only this file touches them. */
export interface PipelinesTables {
  pipelines_runs: {
    id: string;
    repository: string;
    owner_ref: string;
    ref: string;
    sha: string;
    is_default_branch: number;
    attempt: number;
    trigger: string;
    status: string;
    definition_version: string;
    job_id: string | null;
    created_by: string;
    created_at: string;
    started_at: string | null;
    finished_at: string | null;
    runner: string | null;
  };
  pipelines_steps: {
    run_id: string;
    name: string;
    position: number;
    stage: string;
    kind: string;
    command: string | null;
    status: string;
    message: string | null;
    exit_code: number | null;
    attempts: number;
    started_at: string | null;
    finished_at: string | null;
    duration_ms: number | null;
    /** JSON object, or null. */
    outputs: string | null;
  };
  pipelines_log_lines: { run_id: string; seq: number; time: string; step: string; stream: string; text: string };
  pipelines_test_results: { run_id: string; position: number; step: string; name: string; file: string | null; duration_ms: number | null; outcome: string; flaky: number };
  pipelines_cursors: { name: string; seq: number };
  pipelines_artifacts: { digest: string; name: string; size_bytes: number; repository: string; owner_ref: string; commit_sha: string; run_id: string; created_at: string };
}

type RunRow = PipelinesTables['pipelines_runs'];
type StepRow = PipelinesTables['pipelines_steps'];
const t = (db: Db) => db.tables<PipelinesTables>();

const toRun = (r: RunRow): Run => ({
  id: r.id,
  repository: r.repository,
  ownerRef: r.owner_ref,
  ref: r.ref,
  sha: r.sha,
  isDefaultBranch: r.is_default_branch === 1,
  attempt: r.attempt,
  trigger: r.trigger as RunTrigger,
  status: r.status as RunStatus,
  definitionVersion: r.definition_version,
  jobId: r.job_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  runner: r.runner,
});

const toStep = (r: StepRow): Step => ({
  name: r.name,
  stage: r.stage as StageName,
  kind: r.kind === 'platform' ? 'platform' : 'shell',
  command: r.command,
  status: r.status as StepStatus,
  message: r.message,
  exitCode: r.exit_code,
  attempts: r.attempts,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  durationMs: r.duration_ms,
  outputs: r.outputs === null ? null : parseOutputs(r.outputs),
});

/** Outputs as stored; a row that is not a JSON object (written by hand, a bug) reads as none. */
function parseOutputs(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Inserts a run; undefined when (repository, sha, attempt) exists already. */
export async function insertRun(db: Db, run: Run): Promise<Run | undefined> {
  const row: RunRow = {
    id: run.id, repository: run.repository, owner_ref: run.ownerRef, ref: run.ref, sha: run.sha, is_default_branch: run.isDefaultBranch ? 1 : 0,
    attempt: run.attempt, trigger: run.trigger, status: run.status, definition_version: run.definitionVersion, job_id: run.jobId,
    created_by: run.createdBy, created_at: run.createdAt, started_at: run.startedAt, finished_at: run.finishedAt, runner: run.runner ?? null,
  };
  const result = await t(db).insertInto('pipelines_runs').values(row).onConflict((oc) => oc.columns(['repository', 'sha', 'attempt']).doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0 ? run : undefined;
}

export async function setRunJob(db: Db, id: string, jobId: string): Promise<void> {
  await t(db).updateTable('pipelines_runs').set({ job_id: jobId }).where('id', '=', id).execute();
}

export async function findRun(db: Db, id: string): Promise<Run | undefined> {
  const row = await t(db).selectFrom('pipelines_runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRun(row) : undefined;
}

export async function selectRun(db: Db, id: string): Promise<Run> {
  const run = await findRun(db, id);
  if (!run) throw new NotFoundError(`no pipeline run ${id}`);
  return run;
}

export async function maxAttempt(db: Db, repository: string, sha: string): Promise<number> {
  const row = await t(db).selectFrom('pipelines_runs').select((eb) => eb.fn.max('attempt').as('max')).where('repository', '=', repository).where('sha', '=', sha).executeTakeFirst();
  return Number(row?.max ?? 0);
}

/** Newest first; the cursor is the id of the last run of the previous page. */
export async function selectRuns(db: Db, query: { repository?: string; status?: RunStatus; limit: number; after?: Run }): Promise<Run[]> {
  let q = t(db).selectFrom('pipelines_runs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
  if (query.repository !== undefined) q = q.where('repository', '=', query.repository);
  if (query.status !== undefined) q = q.where('status', '=', query.status);
  const after = query.after;
  if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)));
  return (await q.limit(query.limit).execute()).map(toRun);
}

/** Moves a run between phases only from the phase expected; false when another writer moved it first. */
export async function transitionRun(db: Db, id: string, from: readonly RunStatus[], change: { status: RunStatus; startedAt?: string; finishedAt?: string | null; runner?: string }): Promise<boolean> {
  const result = await t(db)
    .updateTable('pipelines_runs')
    .set({ status: change.status, ...(change.startedAt !== undefined ? { started_at: change.startedAt } : {}), ...(change.finishedAt !== undefined ? { finished_at: change.finishedAt } : {}), ...(change.runner !== undefined ? { runner: change.runner } : {}) })
    .where('id', '=', id)
    .where('status', 'in', [...from])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Replaces the run's steps (a resumed run starts its plan afresh; its logs stay). */
export async function replaceSteps(db: Db, runId: string, steps: readonly Step[]): Promise<void> {
  await t(db).deleteFrom('pipelines_steps').where('run_id', '=', runId).execute();
  if (steps.length === 0) return;
  await t(db)
    .insertInto('pipelines_steps')
    .values(steps.map((s, position) => ({
      run_id: runId, name: s.name, position, stage: s.stage, kind: s.kind, command: s.command, status: s.status, message: s.message,
      exit_code: s.exitCode, attempts: s.attempts, started_at: s.startedAt, finished_at: s.finishedAt, duration_ms: s.durationMs,
      outputs: s.outputs === null ? null : JSON.stringify(s.outputs),
    })))
    .execute();
}

export async function updateStep(db: Db, runId: string, step: Step): Promise<void> {
  await t(db)
    .updateTable('pipelines_steps')
    .set({ status: step.status, message: step.message, exit_code: step.exitCode, attempts: step.attempts, started_at: step.startedAt, finished_at: step.finishedAt, duration_ms: step.durationMs, command: step.command, outputs: step.outputs === null ? null : JSON.stringify(step.outputs) })
    .where('run_id', '=', runId)
    .where('name', '=', step.name)
    .execute();
}

export async function selectSteps(db: Db, runId: string): Promise<Step[]> {
  return (await t(db).selectFrom('pipelines_steps').selectAll().where('run_id', '=', runId).orderBy('position').execute()).map(toStep);
}

export async function insertLogLines(db: Db, runId: string, lines: readonly LogLine[]): Promise<void> {
  // Chunks keep each statement under SQLite's bound-parameter limit.
  for (let i = 0; i < lines.length; i += 100) {
    await t(db)
      .insertInto('pipelines_log_lines')
      .values(lines.slice(i, i + 100).map((l) => ({ run_id: runId, seq: l.seq, time: l.time, step: l.step, stream: l.stream, text: l.text })))
      .execute();
  }
}

export async function lastLogSeq(db: Db, runId: string): Promise<number> {
  const row = await t(db).selectFrom('pipelines_log_lines').select((eb) => eb.fn.max('seq').as('max')).where('run_id', '=', runId).executeTakeFirst();
  return Number(row?.max ?? 0);
}

export async function selectLogLines(db: Db, runId: string, query: { afterSeq?: number; step?: string; limit: number }): Promise<LogLine[]> {
  let q = t(db).selectFrom('pipelines_log_lines').selectAll().where('run_id', '=', runId).orderBy('seq').limit(query.limit);
  if (query.afterSeq !== undefined) q = q.where('seq', '>', query.afterSeq);
  if (query.step !== undefined) q = q.where('step', '=', query.step);
  const rows = await q.execute();
  return rows.map((r) => ({ seq: Number(r.seq), time: r.time, step: r.step, stream: r.stream as LogLine['stream'], text: r.text }));
}

export async function replaceTestResults(db: Db, runId: string, step: string, tests: readonly RecordedTest[]): Promise<void> {
  await t(db).deleteFrom('pipelines_test_results').where('run_id', '=', runId).where('step', '=', step).execute();
  const start = Number((await t(db).selectFrom('pipelines_test_results').select((eb) => eb.fn.max('position').as('max')).where('run_id', '=', runId).executeTakeFirst())?.max ?? -1) + 1;
  for (let i = 0; i < tests.length; i += 100) {
    await t(db)
      .insertInto('pipelines_test_results')
      .values(tests.slice(i, i + 100).map((r, j) => ({ run_id: runId, position: start + i + j, step: r.step, name: r.name, file: r.file, duration_ms: r.durationMs, outcome: r.outcome, flaky: r.flaky ? 1 : 0 })))
      .execute();
  }
}

export async function selectTestResults(db: Db, runId: string): Promise<RecordedTest[]> {
  const rows = await t(db).selectFrom('pipelines_test_results').selectAll().where('run_id', '=', runId).orderBy('position').execute();
  return rows.map((r) => ({ step: r.step, name: r.name, file: r.file, durationMs: r.duration_ms, outcome: r.outcome as RecordedTest['outcome'], flaky: r.flaky === 1 }));
}

export async function readCursor(db: Db, name: string): Promise<number> {
  const row = await t(db).selectFrom('pipelines_cursors').select('seq').where('name', '=', name).executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/** Moves the cursor forward only (two replicas following the same pushes never move it back). */
export async function advanceCursor(db: Db, name: string, seq: number): Promise<void> {
  await t(db).insertInto('pipelines_cursors').values({ name, seq }).onConflict((oc) => oc.column('name').doUpdateSet({ seq }).where('pipelines_cursors.seq', '<', seq)).execute();
}

type ArtifactRow = PipelinesTables['pipelines_artifacts'];
const toArtifact = (r: ArtifactRow): BuildArtifact => ({
  digest: r.digest, name: r.name, sizeBytes: Number(r.size_bytes), repository: r.repository, ownerRef: r.owner_ref, commit: r.commit_sha, runId: r.run_id, createdAt: r.created_at,
});

/** Records an artifact; a digest seen before keeps its first row (same bytes, same artifact). Returns the stored row. */
export async function insertArtifact(db: Db, artifact: BuildArtifact): Promise<BuildArtifact> {
  await t(db)
    .insertInto('pipelines_artifacts')
    .values({ digest: artifact.digest, name: artifact.name, size_bytes: artifact.sizeBytes, repository: artifact.repository, owner_ref: artifact.ownerRef, commit_sha: artifact.commit, run_id: artifact.runId, created_at: artifact.createdAt })
    .onConflict((oc) => oc.column('digest').doNothing())
    .execute();
  return selectArtifact(db, artifact.digest);
}

export async function findArtifact(db: Db, digest: string): Promise<BuildArtifact | undefined> {
  const row = await t(db).selectFrom('pipelines_artifacts').selectAll().where('digest', '=', digest).executeTakeFirst();
  return row ? toArtifact(row) : undefined;
}

export async function selectArtifact(db: Db, digest: string): Promise<BuildArtifact> {
  const artifact = await findArtifact(db, digest);
  if (!artifact) throw new NotFoundError(`no artifact ${digest}; artifacts are built by the package stage of a pipeline run`);
  return artifact;
}
