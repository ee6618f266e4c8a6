import { NotFoundError, type Db } from '../../kernel/index.js';
import { webhookPathOf, externalRepositoryName, type ExternalRepository, type Provider } from './model.js';

/** The external-repository tables of the pipelines layer; only this file touches them. */
export interface ExternalTables {
  pipelines_external_repositories: {
    id: string;
    name: string;
    owner_ref: string;
    clone_url: string;
    default_branch: string;
    provider: string;
    username: string | null;
    /** The clone token, sealed (crypto.ts); null when cloning needs none. */
    token_sealed: string | null;
    /** The webhook secret, sealed: GitHub's HMAC key needs it back in clear. */
    webhook_secret_sealed: string;
    created_by: string;
    created_at: string;
  };
  /** One row per push delivered (repository, ref, before, after): a redelivery finds it and changes nothing. */
  pipelines_external_deliveries: {
    repository_id: string;
    ref: string;
    before_sha: string;
    after_sha: string;
    delivery_id: string;
    run_id: string | null;
    received_at: string;
  };
}

export type ExternalRow = ExternalTables['pipelines_external_repositories'];
const t = (db: Db) => db.tables<ExternalTables>();

/** The repository as served, plus its sealed values (which stay inside the layer). */
export interface StoredExternalRepository extends ExternalRepository {
  tokenSealed: string | null;
  webhookSecretSealed: string;
}

const toRepository = (r: ExternalRow): StoredExternalRepository => ({
  id: r.id,
  name: r.name,
  repository: externalRepositoryName(r.name),
  ownerRef: r.owner_ref,
  cloneUrl: r.clone_url,
  defaultBranch: r.default_branch,
  provider: r.provider as Provider,
  username: r.username,
  hasToken: r.token_sealed !== null,
  webhookPath: webhookPathOf(r.provider as Provider, r.id),
  createdBy: r.created_by,
  createdAt: r.created_at,
  tokenSealed: r.token_sealed,
  webhookSecretSealed: r.webhook_secret_sealed,
});

/** Without the sealed values: what leaves the service. */
export const toView = ({ tokenSealed: _t, webhookSecretSealed: _w, ...view }: StoredExternalRepository): ExternalRepository => view;

/** Inserts the row; false when the name is taken (ON CONFLICT, so a PostgreSQL transaction stays usable). */
export async function insertRepository(db: Db, row: ExternalRow): Promise<boolean> {
  const result = await t(db).insertInto('pipelines_external_repositories').values(row).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function findById(db: Db, id: string): Promise<StoredExternalRepository | undefined> {
  const row = await t(db).selectFrom('pipelines_external_repositories').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRepository(row) : undefined;
}

export async function findByName(db: Db, name: string): Promise<StoredExternalRepository | undefined> {
  const row = await t(db).selectFrom('pipelines_external_repositories').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toRepository(row) : undefined;
}

export async function selectByName(db: Db, name: string): Promise<StoredExternalRepository> {
  const found = await findByName(db, name);
  if (!found) throw new NotFoundError(`no external repository ${name}; list them with GET /api/pipelines/external-repositories`);
  return found;
}

export async function selectRepositories(db: Db, query: { ownerRef?: string; limit: number }): Promise<StoredExternalRepository[]> {
  let q = t(db).selectFrom('pipelines_external_repositories').selectAll().orderBy('name').limit(query.limit);
  if (query.ownerRef !== undefined) q = q.where('owner_ref', '=', query.ownerRef);
  return (await q.execute()).map(toRepository);
}

export async function deleteRepository(db: Db, id: string): Promise<void> {
  await t(db).deleteFrom('pipelines_external_deliveries').where('repository_id', '=', id).execute();
  await t(db).deleteFrom('pipelines_external_repositories').where('id', '=', id).execute();
}

/** Records a delivery; false when the same push (repository, ref, before, after) was recorded before. */
export async function insertDelivery(db: Db, row: ExternalTables['pipelines_external_deliveries']): Promise<boolean> {
  const result = await t(db)
    .insertInto('pipelines_external_deliveries')
    .values(row)
    .onConflict((oc) => oc.columns(['repository_id', 'ref', 'before_sha', 'after_sha']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function setDeliveryRun(db: Db, key: { repositoryId: string; ref: string; before: string; after: string }, runId: string): Promise<void> {
  await t(db)
    .updateTable('pipelines_external_deliveries')
    .set({ run_id: runId })
    .where('repository_id', '=', key.repositoryId)
    .where('ref', '=', key.ref)
    .where('before_sha', '=', key.before)
    .where('after_sha', '=', key.after)
    .execute();
}

export async function findDeliveryRun(db: Db, key: { repositoryId: string; ref: string; before: string; after: string }): Promise<string | null> {
  const row = await t(db)
    .selectFrom('pipelines_external_deliveries')
    .select('run_id')
    .where('repository_id', '=', key.repositoryId)
    .where('ref', '=', key.ref)
    .where('before_sha', '=', key.before)
    .where('after_sha', '=', key.after)
    .executeTakeFirst();
  return row?.run_id ?? null;
}
