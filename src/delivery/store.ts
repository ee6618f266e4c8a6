import { ConflictError, NotFoundError, type Db } from '../kernel/index.js';
import { AnalysisRecord, isTerminalRollout, MAX_ANALYSES_PER_ROLLOUT, PreviewOf, RolloutStrategy, thinnedAnalyses, type Environment, type Rollout, type RolloutPhase, type RolloutStatus, type WebhookView } from './model/index.js';

/** The delivery layer's tables; only this file touches them. */
export interface DeliveryTables {
  delivery_environments: { name: string; description: string; strategy: string; variables: string; builtin: number; preview: string | null; created_by: string; created_at: string; updated_at: string };
  delivery_rollouts: {
    id: string; service: string; environment: string; version: string; phase: string; active: number;
    spec: string; status: string; command: string | null; job_id: string | null; revision: number;
    created_by: string; created_at: string; updated_at: string;
  };
  delivery_webhooks: { id: string; service: string; url: string; created_by: string; created_at: string };
  delivery_rollout_analyses: {
    rollout_id: string; seq: number; at: string; step_index: number; weight_percent: number; verdict: string; summary: string;
    canary_requests: number; canary_error_rate_percent: number | null; canary_p99_ms: number | null;
    stable_requests: number | null; stable_error_rate_percent: number | null; stable_p99_ms: number | null; checks: string;
  };
}

type RolloutRow = DeliveryTables['delivery_rollouts'];
interface RolloutSpecColumn { artifactDigest: string; commit: string | null; strategy: unknown; releaseId: string; previousReleaseId: string | null; ownerRef: string | null }

const t = (db: Db) => db.tables<DeliveryTables>();

const toEnvironment = (r: DeliveryTables['delivery_environments']): Environment => ({
  name: r.name, description: r.description, strategy: RolloutStrategy.parse(JSON.parse(r.strategy)), variables: JSON.parse(r.variables) as Record<string, string>, builtin: r.builtin === 1,
  preview: r.preview === null ? null : PreviewOf.parse(JSON.parse(r.preview)), createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** A rollout plus the revision its row had when read (the controller's fencing value). */
export interface StoredRollout { rollout: Rollout; revision: number }

function toRollout(r: RolloutRow): StoredRollout {
  const spec = JSON.parse(r.spec) as RolloutSpecColumn;
  return {
    revision: r.revision,
    rollout: {
      id: r.id, service: r.service, environment: r.environment, version: r.version, artifactDigest: spec.artifactDigest, commit: spec.commit,
      // Stored strategies were validated on the way in; parsing again applies defaults added since.
      strategy: RolloutStrategy.parse(spec.strategy), releaseId: spec.releaseId, previousReleaseId: spec.previousReleaseId, ownerRef: spec.ownerRef,
      status: JSON.parse(r.status) as RolloutStatus, pendingCommand: r.command === null ? null : (JSON.parse(r.command) as Rollout['pendingCommand']),
      jobId: r.job_id, createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at,
    },
  };
}

export async function listEnvironments(db: Db): Promise<Environment[]> {
  return (await t(db).selectFrom('delivery_environments').selectAll().orderBy('created_at').orderBy('name').execute()).map(toEnvironment);
}

export async function findEnvironment(db: Db, name: string): Promise<Environment | undefined> {
  const row = await t(db).selectFrom('delivery_environments').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toEnvironment(row) : undefined;
}

/** Inserts unless the name exists; false when it did. */
export async function insertEnvironment(db: Db, env: Environment): Promise<boolean> {
  const result = await t(db)
    .insertInto('delivery_environments')
    .values({ name: env.name, description: env.description, strategy: JSON.stringify(env.strategy), variables: JSON.stringify(env.variables), builtin: env.builtin ? 1 : 0, preview: env.preview === null ? null : JSON.stringify(env.preview), created_by: env.createdBy, created_at: env.createdAt, updated_at: env.updatedAt })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function updateEnvironment(db: Db, env: Environment): Promise<void> {
  await t(db)
    .updateTable('delivery_environments')
    .set({ description: env.description, strategy: JSON.stringify(env.strategy), variables: JSON.stringify(env.variables), preview: env.preview === null ? null : JSON.stringify(env.preview), updated_at: env.updatedAt })
    .where('name', '=', env.name)
    .execute();
}

export async function deleteEnvironment(db: Db, name: string): Promise<void> {
  await t(db).deleteFrom('delivery_environments').where('name', '=', name).execute();
}

export async function insertRollout(db: Db, r: Rollout): Promise<void> {
  const spec: RolloutSpecColumn = { artifactDigest: r.artifactDigest, commit: r.commit, strategy: r.strategy, releaseId: r.releaseId, previousReleaseId: r.previousReleaseId, ownerRef: r.ownerRef };
  await t(db)
    .insertInto('delivery_rollouts')
    .values({
      id: r.id, service: r.service, environment: r.environment, version: r.version, phase: r.status.phase, active: isTerminalRollout(r.status.phase) ? 0 : 1,
      spec: JSON.stringify(spec), status: JSON.stringify(r.status), command: null, job_id: r.jobId, revision: 0, created_by: r.createdBy, created_at: r.createdAt, updated_at: r.updatedAt,
    })
    .execute();
}

export async function setRolloutJob(db: Db, id: string, jobId: string): Promise<void> {
  await t(db).updateTable('delivery_rollouts').set({ job_id: jobId }).where('id', '=', id).execute();
}

export async function getRollout(db: Db, id: string): Promise<StoredRollout> {
  const row = await t(db).selectFrom('delivery_rollouts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`rollout ${id} does not exist`);
  return toRollout(row);
}

export async function activeRollout(db: Db, service: string, environment: string): Promise<StoredRollout | undefined> {
  const row = await t(db).selectFrom('delivery_rollouts').selectAll().where('active', '=', 1).where('service', '=', service).where('environment', '=', environment).executeTakeFirst();
  return row ? toRollout(row) : undefined;
}

export async function listRollouts(db: Db, filter: { service?: string; environment?: string; phase?: RolloutPhase; active?: boolean }, limit: number): Promise<Rollout[]> {
  let q = t(db).selectFrom('delivery_rollouts').selectAll();
  if (filter.service !== undefined) q = q.where('service', '=', filter.service);
  if (filter.environment !== undefined) q = q.where('environment', '=', filter.environment);
  if (filter.phase !== undefined) q = q.where('phase', '=', filter.phase);
  if (filter.active !== undefined) q = q.where('active', '=', filter.active ? 1 : 0);
  return (await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()).map((r) => toRollout(r).rollout);
}

/** Writes a new status fenced by the revision the writer read; another writer in between → ConflictError. */
export async function updateRolloutStatus(db: Db, id: string, revision: number, status: RolloutStatus, now: string): Promise<number> {
  const result = await t(db)
    .updateTable('delivery_rollouts')
    .set({ status: JSON.stringify(status), phase: status.phase, active: isTerminalRollout(status.phase) ? 0 : 1, revision: revision + 1, updated_at: now })
    .where('id', '=', id)
    .where('revision', '=', revision)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new ConflictError(`rollout ${id} changed while it was being reconciled`);
  return revision + 1;
}

/** Records a user's command for the controller; refused when another is still pending. */
export async function setCommand(db: Db, id: string, command: NonNullable<Rollout['pendingCommand']>): Promise<boolean> {
  const result = await t(db).updateTable('delivery_rollouts').set({ command: JSON.stringify(command) }).where('id', '=', id).where('active', '=', 1).where('command', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Clears the command the controller handled (only that one: a newer one stays). */
export async function clearCommand(db: Db, id: string, handled: NonNullable<Rollout['pendingCommand']>): Promise<void> {
  await t(db).updateTable('delivery_rollouts').set({ command: null }).where('id', '=', id).where('command', '=', JSON.stringify(handled)).execute();
}

const toWebhook = (r: DeliveryTables['delivery_webhooks']): WebhookView => ({ id: r.id, service: r.service, url: r.url, createdBy: r.created_by, createdAt: r.created_at });

export async function listWebhooks(db: Db, service: string): Promise<WebhookView[]> {
  return (await t(db).selectFrom('delivery_webhooks').selectAll().where('service', '=', service).orderBy('created_at').execute()).map(toWebhook);
}

export async function insertWebhook(db: Db, w: WebhookView): Promise<void> {
  await t(db).insertInto('delivery_webhooks').values({ id: w.id, service: w.service, url: w.url, created_by: w.createdBy, created_at: w.createdAt }).execute();
}

export async function deleteWebhook(db: Db, service: string, id: string): Promise<void> {
  const result = await t(db).deleteFrom('delivery_webhooks').where('id', '=', id).where('service', '=', service).executeTakeFirst();
  if (Number(result.numDeletedRows) !== 1) throw new NotFoundError(`webhook ${id} of service ${service} does not exist`);
}

type AnalysisRow = DeliveryTables['delivery_rollout_analyses'];
// PostgreSQL's double precision and integer come back as numbers; `Number` also covers a driver that returns strings.
const num = (v: number | null) => (v === null ? null : Number(v));

/** Rows are parsed on the way out: the columns are ours, but a row must still be what the API promises. */
const toAnalysisRecord = (r: AnalysisRow): AnalysisRecord => AnalysisRecord.parse({
  seq: Number(r.seq), at: r.at, stepIndex: Number(r.step_index), weightPercent: Number(r.weight_percent), verdict: r.verdict, summary: r.summary,
  canary: { requests: Number(r.canary_requests), errorRatePercent: num(r.canary_error_rate_percent), p99Ms: num(r.canary_p99_ms) },
  stable: r.stable_requests === null ? null : { requests: Number(r.stable_requests), errorRatePercent: num(r.stable_error_rate_percent), p99Ms: num(r.stable_p99_ms) },
  checks: JSON.parse(r.checks) as unknown,
});

/**
 * Appends an analysis to a rollout's history (inside the transaction that writes the status it led to,
 * after the revision-fenced update, so writers are serialized) and thins the history past `max`.
 */
export async function insertAnalysis(db: Db, rolloutId: string, a: Omit<AnalysisRecord, 'seq'>, max = MAX_ANALYSES_PER_ROLLOUT): Promise<number> {
  const last = await t(db).selectFrom('delivery_rollout_analyses').select((eb) => eb.fn.max('seq').as('seq')).where('rollout_id', '=', rolloutId).executeTakeFirst();
  const seq = Number(last?.seq ?? 0) + 1;
  await t(db)
    .insertInto('delivery_rollout_analyses')
    .values({
      rollout_id: rolloutId, seq, at: a.at, step_index: a.stepIndex, weight_percent: a.weightPercent, verdict: a.verdict, summary: a.summary,
      canary_requests: a.canary.requests, canary_error_rate_percent: a.canary.errorRatePercent, canary_p99_ms: a.canary.p99Ms,
      stable_requests: a.stable?.requests ?? null, stable_error_rate_percent: a.stable?.errorRatePercent ?? null, stable_p99_ms: a.stable?.p99Ms ?? null,
      checks: JSON.stringify(a.checks),
    })
    .execute();
  const count = await t(db).selectFrom('delivery_rollout_analyses').select((eb) => eb.fn.countAll().as('n')).where('rollout_id', '=', rolloutId).executeTakeFirst();
  if (Number(count?.n ?? 0) > max) {
    const rows = await t(db).selectFrom('delivery_rollout_analyses').select(['seq', 'step_index', 'verdict']).where('rollout_id', '=', rolloutId).orderBy('seq').execute();
    const doomed = thinnedAnalyses(rows.map((r) => ({ seq: Number(r.seq), stepIndex: Number(r.step_index), verdict: r.verdict })), max);
    if (doomed.length > 0) await t(db).deleteFrom('delivery_rollout_analyses').where('rollout_id', '=', rolloutId).where('seq', 'in', doomed).execute();
  }
  return seq;
}

/** A rollout's analyses, oldest first; `after` reads only those with a greater seq. */
export async function listAnalyses(db: Db, rolloutId: string, after: number | undefined, limit: number): Promise<AnalysisRecord[]> {
  let q = t(db).selectFrom('delivery_rollout_analyses').selectAll().where('rollout_id', '=', rolloutId);
  if (after !== undefined) q = q.where('seq', '>', after);
  return (await q.orderBy('seq').limit(limit).execute()).map(toAnalysisRecord);
}
