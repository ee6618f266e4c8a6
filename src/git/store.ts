import { NotFoundError, type Db } from '../kernel/index.js';
import type { Repository } from './model/index.js';

/** The git layer's tables; only this file touches them. */
export interface GitTables {
  git_repositories: {
    id: string;
    owner: string;
    name: string;
    owner_ref: string;
    default_branch: string;
    created_by: string;
    created_at: string;
  };
}

type RepositoryRow = GitTables['git_repositories'];

const t = (db: Db) => db.tables<GitTables>();

const toRepository = (r: RepositoryRow): Repository & { id: string } => ({
  id: r.id,
  owner: r.owner,
  name: r.name,
  fullName: `${r.owner}/${r.name}`,
  ownerRef: r.owner_ref,
  defaultBranch: r.default_branch,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export type StoredRepository = ReturnType<typeof toRepository>;

/**
 * Inserts the row; returns undefined when (owner, name) already exists, so creation stays idempotent
 * under races. ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a failed
 * statement would abort the caller's transaction.
 */
export async function insertRepository(db: Db, row: RepositoryRow): Promise<StoredRepository | undefined> {
  const result = await t(db).insertInto('git_repositories').values(row).onConflict((oc) => oc.columns(['owner', 'name']).doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0 ? toRepository(row) : undefined;
}

export async function findRepository(db: Db, owner: string, name: string): Promise<StoredRepository | undefined> {
  const row = await t(db).selectFrom('git_repositories').selectAll().where('owner', '=', owner).where('name', '=', name).executeTakeFirst();
  return row ? toRepository(row) : undefined;
}

export async function selectRepository(db: Db, owner: string, name: string): Promise<StoredRepository> {
  const found = await findRepository(db, owner, name);
  if (!found) throw new NotFoundError(`no repository ${owner}/${name}`);
  return found;
}

/** One page ordered by (owner, name), after the `owner/name` cursor. */
export async function selectRepositories(db: Db, query: { owner?: string; after?: { owner: string; name: string }; limit: number }): Promise<StoredRepository[]> {
  let q = t(db).selectFrom('git_repositories').selectAll().orderBy('owner').orderBy('name');
  if (query.owner !== undefined) q = q.where('owner', '=', query.owner);
  const after = query.after;
  if (after !== undefined) {
    q = q.where((eb) => eb(eb.refTuple('owner', 'name'), '>', eb.tuple(after.owner, after.name)));
  }
  return (await q.limit(query.limit).execute()).map(toRepository);
}

/** Deletes the row; false when it was already gone. */
export async function deleteRepository(db: Db, id: string): Promise<boolean> {
  const result = await t(db).deleteFrom('git_repositories').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
