import { ConflictError, NotFoundError, type Db, type Dialect } from '../../kernel/index.js';
import type { CatalogLocation, LocationProblem } from '../model/types.js';
import type { CatalogTables } from './tables.js';

type Row = CatalogTables['catalog_locations'];

const toLocation = (r: Row): CatalogLocation => ({
  id: r.id,
  type: r.type,
  target: r.target,
  entityRef: r.entity_ref,
  createdBy: r.created_by,
  createdAt: r.created_at,
  refreshedAt: r.refreshed_at,
  problems: JSON.parse(r.problems) as LocationProblem[],
});

const t = (db: Db) => db.tables<CatalogTables>();

export async function insertLocation(db: Db, dialect: Dialect, row: Row): Promise<CatalogLocation> {
  try {
    await t(db).insertInto('catalog_locations').values(row).execute();
  } catch (err) {
    if (dialect.isUniqueViolation(err)) throw new ConflictError(`location ${row.type}:${row.target} is already registered`, { cause: err });
    throw err;
  }
  return toLocation(row);
}

export async function selectLocation(db: Db, id: string): Promise<CatalogLocation> {
  const row = await t(db).selectFrom('catalog_locations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Found no location with ID ${id}`);
  return toLocation(row);
}

export async function selectLocationByTarget(db: Db, type: string, target: string): Promise<CatalogLocation | undefined> {
  const row = await t(db).selectFrom('catalog_locations').selectAll().where('type', '=', type as Row['type']).where('target', '=', target).executeTakeFirst();
  return row ? toLocation(row) : undefined;
}

export async function selectLocations(db: Db, options: { limit: number; afterId?: string }): Promise<CatalogLocation[]> {
  let q = t(db).selectFrom('catalog_locations').selectAll().orderBy('id');
  if (options.afterId) q = q.where('id', '>', options.afterId);
  return (await q.limit(options.limit).execute()).map(toLocation);
}

export async function countLocations(db: Db): Promise<number> {
  const r = await t(db).selectFrom('catalog_locations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function updateLocationStatus(db: Db, id: string, refreshedAt: string, problems: LocationProblem[]): Promise<void> {
  await t(db).updateTable('catalog_locations').set({ refreshed_at: refreshedAt, problems: JSON.stringify(problems) }).where('id', '=', id).execute();
}

export async function updateLocationTarget(db: Db, id: string, type: Row['type'], target: string, entityRef: string): Promise<void> {
  await t(db).updateTable('catalog_locations').set({ type, target, entity_ref: entityRef }).where('id', '=', id).execute();
}

export async function deleteLocation(db: Db, id: string): Promise<void> {
  await t(db).deleteFrom('catalog_locations').where('id', '=', id).execute();
}
