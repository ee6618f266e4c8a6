import type { Db } from '../../kernel/index.js';
import { t } from './tables.js';

/**
 * The generation of each spend key (`team:<name>`, `cost-center:<name>`): 0 for a key never claimed
 * against. Read before a budget decision, compared when its claim commits.
 */
export async function readSpendGenerations(db: Db, keys: readonly string[]): Promise<Map<string, number>> {
  const seen = new Map(keys.map((k) => [k, 0]));
  if (keys.length === 0) return seen;
  for (const row of await t(db).selectFrom('resources_spend_keys').select(['key', 'generation']).where('key', 'in', keys).execute()) seen.set(row.key, row.generation);
  return seen;
}

/**
 * Advances every key from the generation seen; false (and nothing written that the caller's transaction
 * keeps) when any moved meanwhile: another claim against the same budget committed first.
 */
export async function advanceSpendGenerations(db: Db, seen: ReadonlyMap<string, number>): Promise<boolean> {
  for (const [key, generation] of seen) {
    if (generation === 0) {
      // First claim against the key: the insert is the conditional write (a concurrent first one violates the key).
      const inserted = await t(db).insertInto('resources_spend_keys').values({ key, generation: 1 }).onConflict((oc) => oc.column('key').doNothing()).executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
      continue;
    }
    const updated = await t(db).updateTable('resources_spend_keys').set({ generation: generation + 1 }).where('key', '=', key).where('generation', '=', generation).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
  }
  return true;
}
