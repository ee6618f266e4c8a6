import { NotFoundError, type Db } from '../kernel/index.js';
import { TrafficSplit, WorkloadSpec, type Release, type ReleasePhase } from './model/index.js';

/** The runtime layer's tables; only this file touches them. */
export interface RuntimeTables {
  runtime_releases: { id: string; service: string; environment: string; version: string; artifact_digest: string; spec: string; phase: string; message: string | null; created_by: string; created_at: string; updated_at: string };
  runtime_traffic: { service: string; environment: string; stable_release_id: string; canary_release_id: string | null; canary_weight_percent: number; sticky: number; updated_at: string };
  runtime_processes: { release_id: string; replica: number; pid: number; port: number; started_at: string };
}

const t = (db: Db) => db.tables<RuntimeTables>();

const toRelease = (r: RuntimeTables['runtime_releases']): Release => ({
  id: r.id,
  service: r.service,
  environment: r.environment,
  version: r.version,
  // Stored specs were validated on the way in; parsing again also applies defaults added since.
  spec: WorkloadSpec.parse(JSON.parse(r.spec)),
  phase: r.phase as ReleasePhase,
  message: r.message,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertRelease(db: Db, release: Release): Promise<void> {
  await t(db)
    .insertInto('runtime_releases')
    .values({
      id: release.id, service: release.service, environment: release.environment, version: release.version, artifact_digest: release.spec.artifact.digest,
      spec: JSON.stringify(release.spec), phase: release.phase, message: release.message, created_by: release.createdBy, created_at: release.createdAt, updated_at: release.updatedAt,
    })
    .execute();
}

export async function updateReleasePhase(db: Db, id: string, phase: ReleasePhase, message: string | null, now: string): Promise<void> {
  await t(db).updateTable('runtime_releases').set({ phase, message, updated_at: now }).where('id', '=', id).execute();
}

export async function getRelease(db: Db, id: string): Promise<Release> {
  const row = await t(db).selectFrom('runtime_releases').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`release ${id} does not exist`);
  return toRelease(row);
}

export async function listReleases(db: Db, filter: { service?: string; environment?: string; phases?: readonly ReleasePhase[] }, limit = 100): Promise<Release[]> {
  let q = t(db).selectFrom('runtime_releases').selectAll();
  if (filter.service !== undefined) q = q.where('service', '=', filter.service);
  if (filter.environment !== undefined) q = q.where('environment', '=', filter.environment);
  if (filter.phases !== undefined) q = q.where('phase', 'in', [...filter.phases]);
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toRelease);
}

export async function upsertTraffic(db: Db, service: string, environment: string, split: TrafficSplit, now: string): Promise<void> {
  const values = { stable_release_id: split.stable, canary_release_id: split.canary ?? null, canary_weight_percent: split.canaryWeightPercent, sticky: split.sticky ? 1 : 0, updated_at: now };
  await t(db)
    .insertInto('runtime_traffic')
    .values({ service, environment, ...values })
    .onConflict((oc) => oc.columns(['service', 'environment']).doUpdateSet(values))
    .execute();
}

export async function deleteTraffic(db: Db, service: string, environment: string): Promise<void> {
  await t(db).deleteFrom('runtime_traffic').where('service', '=', service).where('environment', '=', environment).execute();
}

export async function listTraffic(db: Db): Promise<{ service: string; environment: string; split: TrafficSplit }[]> {
  const rows = await t(db).selectFrom('runtime_traffic').selectAll().execute();
  return rows.map((r) => ({
    service: r.service,
    environment: r.environment,
    split: { stable: r.stable_release_id, canary: r.canary_release_id ?? undefined, canaryWeightPercent: r.canary_weight_percent, sticky: r.sticky === 1 },
  }));
}

export async function recordProcess(db: Db, p: { releaseId: string; replica: number; pid: number; port: number; startedAt: string }): Promise<void> {
  const values = { pid: p.pid, port: p.port, started_at: p.startedAt };
  await t(db)
    .insertInto('runtime_processes')
    .values({ release_id: p.releaseId, replica: p.replica, ...values })
    .onConflict((oc) => oc.columns(['release_id', 'replica']).doUpdateSet(values))
    .execute();
}

export async function listProcesses(db: Db): Promise<{ releaseId: string; pid: number }[]> {
  const rows = await t(db).selectFrom('runtime_processes').select(['release_id', 'pid']).execute();
  return rows.map((r) => ({ releaseId: r.release_id, pid: r.pid }));
}

export async function deleteProcesses(db: Db, releaseId?: string): Promise<void> {
  let q = t(db).deleteFrom('runtime_processes');
  if (releaseId !== undefined) q = q.where('release_id', '=', releaseId);
  await q.execute();
}
