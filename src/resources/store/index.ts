import { ConflictError, NotFoundError, type Db, type Dialect } from '../../kernel/index.js';
import type { Claim, ClaimPhase } from '../model/claim.js';
import type { PresetName } from '../model/module.js';
import type { Sealed } from '../secrets/crypto.js';
import { t, type ResourcesTables } from './tables.js';

type ClaimRow = ResourcesTables['resources_claims'];

// ---- secrets ---------------------------------------------------------------------------------

export interface SecretRecord {
  name: string;
  ownerRef: string;
  claimId: string | null;
  version: number;
  keys: string[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export async function selectSecret(db: Db, name: string): Promise<(SecretRecord & { sealed: Sealed }) | undefined> {
  const row = await t(db)
    .selectFrom('resources_secrets as s')
    .innerJoin('resources_secret_versions as v', (j) => j.onRef('v.name', '=', 's.name').onRef('v.version', '=', 's.current_version'))
    .select(['s.name', 's.owner_ref', 's.claim_id', 's.current_version', 's.created_by', 's.created_at', 's.updated_at', 'v.keys', 'v.key_id', 'v.wrapped_key', 'v.ciphertext'])
    .where('s.name', '=', name)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    name: row.name,
    ownerRef: row.owner_ref,
    claimId: row.claim_id,
    version: row.current_version,
    keys: JSON.parse(row.keys) as string[],
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sealed: { keyId: row.key_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext },
  };
}

export async function listSecrets(db: Db, filter: { ownerRefs?: readonly string[] }): Promise<SecretRecord[]> {
  let query = t(db)
    .selectFrom('resources_secrets as s')
    .innerJoin('resources_secret_versions as v', (j) => j.onRef('v.name', '=', 's.name').onRef('v.version', '=', 's.current_version'))
    .select(['s.name', 's.owner_ref', 's.claim_id', 's.current_version', 's.created_by', 's.created_at', 's.updated_at', 'v.keys'])
    .orderBy('s.name')
    .limit(1000);
  if (filter.ownerRefs) query = filter.ownerRefs.length === 0 ? query.where('s.name', '=', '') : query.where('s.owner_ref', 'in', filter.ownerRefs);
  const rows = await query.execute();
  return rows.map((r) => ({ name: r.name, ownerRef: r.owner_ref, claimId: r.claim_id, version: r.current_version, keys: JSON.parse(r.keys) as string[], createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at }));
}

export async function insertSecret(db: Db, dialect: Dialect, secret: { name: string; ownerRef: string; claimId: string | null; keys: string[]; sealed: Sealed; actor: string; at: string }): Promise<void> {
  try {
    await t(db).insertInto('resources_secrets').values({ name: secret.name, owner_ref: secret.ownerRef, claim_id: secret.claimId, current_version: 1, created_by: secret.actor, created_at: secret.at, updated_at: secret.at }).execute();
  } catch (err) {
    if (dialect.isUniqueViolation(err)) throw new ConflictError(`a secret named ${secret.name} exists; add a version to it instead`, { cause: err });
    throw err;
  }
  await insertVersion(db, secret.name, 1, secret);
}

async function insertVersion(db: Db, name: string, version: number, v: { keys: string[]; sealed: Sealed; actor: string; at: string }) {
  await t(db)
    .insertInto('resources_secret_versions')
    .values({ name, version, keys: JSON.stringify(v.keys), key_id: v.sealed.keyId, wrapped_key: v.sealed.wrappedKey, ciphertext: v.sealed.ciphertext, created_by: v.actor, created_at: v.at })
    .execute();
}

/** Adds a version if the current one is still `expected` (a concurrent writer gets a ConflictError). */
export async function addSecretVersion(db: Db, name: string, expected: number, v: { keys: string[]; sealed: Sealed; actor: string; at: string }): Promise<number> {
  const updated = await t(db).updateTable('resources_secrets').set({ current_version: expected + 1, updated_at: v.at }).where('name', '=', name).where('current_version', '=', expected).executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) throw new ConflictError(`secret ${name} changed while writing; try again`);
  await insertVersion(db, name, expected + 1, v);
  return expected + 1;
}

/** Claim credentials whose claim is gone (a step that landed after its delete, or a crash between the two). */
export async function listOrphanClaimSecrets(db: Db): Promise<string[]> {
  const rows = await t(db)
    .selectFrom('resources_secrets as s')
    .leftJoin('resources_claims as c', 'c.id', 's.claim_id')
    .select('s.name')
    .where('s.claim_id', 'is not', null)
    .where('c.id', 'is', null)
    .orderBy('s.name')
    .limit(1000)
    .execute();
  return rows.map((r) => r.name);
}

export async function deleteSecret(db: Db, name: string): Promise<boolean> {
  await t(db).deleteFrom('resources_secret_versions').where('name', '=', name).execute();
  const result = await t(db).deleteFrom('resources_secrets').where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// ---- modules ---------------------------------------------------------------------------------

export interface ModuleRow {
  name: string;
  version: string;
  source: 'builtin' | 'custom';
  yaml: string;
  digest: string;
}

export async function listModuleRows(db: Db): Promise<ModuleRow[]> {
  const rows = await t(db).selectFrom('resources_modules').select(['name', 'version', 'source', 'yaml', 'digest']).orderBy('name').orderBy('version').execute();
  return rows.map((r) => ({ ...r, source: r.source === 'builtin' ? 'builtin' : 'custom' }));
}

export async function upsertModule(db: Db, row: ModuleRow & { actor: string; at: string }): Promise<void> {
  await t(db)
    .insertInto('resources_modules')
    .values({ name: row.name, version: row.version, source: row.source, yaml: row.yaml, digest: row.digest, created_by: row.actor, created_at: row.at })
    .onConflict((oc) => oc.columns(['name', 'version']).doUpdateSet({ yaml: row.yaml, digest: row.digest, source: row.source }))
    .execute();
}

// ---- claims ----------------------------------------------------------------------------------

const toClaim = (r: ClaimRow): Claim => ({
  id: r.id,
  name: r.name,
  environment: r.environment,
  module: r.module,
  version: r.module_version,
  provider: r.provider,
  preset: r.preset as PresetName,
  inputs: JSON.parse(r.inputs) as Record<string, unknown>,
  tags: JSON.parse(r.tags) as Record<string, string>,
  owner: r.owner_ref,
  cost: { monthly: r.monthly_cost, currency: r.currency },
  phase: r.phase as ClaimPhase,
  step: r.step,
  outputs: JSON.parse(r.outputs) as Record<string, string>,
  lastError: r.last_error,
  drift: r.drift === null ? null : (JSON.parse(r.drift) as Claim['drift']),
  jobId: r.job_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  readyAt: r.ready_at,
  provisionMs: r.provision_ms,
});

export async function insertClaim(db: Db, dialect: Dialect, claim: Claim): Promise<void> {
  try {
    await t(db)
      .insertInto('resources_claims')
      .values({
        id: claim.id,
        name: claim.name,
        environment: claim.environment,
        module: claim.module,
        module_version: claim.version,
        provider: claim.provider,
        preset: claim.preset,
        inputs: JSON.stringify(claim.inputs),
        tags: JSON.stringify(claim.tags),
        owner_ref: claim.owner,
        owner_team: claim.owner.slice(claim.owner.lastIndexOf('/') + 1),
        cost_center: (claim.tags['cost-center'] ?? '').toLowerCase(),
        monthly_cost: claim.cost.monthly,
        currency: claim.cost.currency,
        phase: claim.phase,
        step: claim.step,
        outputs: JSON.stringify(claim.outputs),
        last_error: claim.lastError,
        drift: null,
        job_id: claim.jobId,
        created_by: claim.createdBy,
        created_at: claim.createdAt,
        updated_at: claim.updatedAt,
        ready_at: null,
        provision_ms: null,
      })
      .execute();
  } catch (err) {
    if (dialect.isUniqueViolation(err)) throw new ConflictError(`a claim named ${claim.name} exists in environment ${claim.environment}; pick another name or delete it first`, { cause: err });
    throw err;
  }
}

export async function selectClaim(db: Db, id: string): Promise<Claim> {
  const row = await t(db).selectFrom('resources_claims').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`no resource claim ${id}`);
  return toClaim(row);
}

export async function findClaim(db: Db, id: string): Promise<Claim | undefined> {
  const row = await t(db).selectFrom('resources_claims').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toClaim(row) : undefined;
}

export async function listClaims(
  db: Db,
  filter: { environment?: string; name?: string; provider?: string; ownerRefs?: readonly string[]; after?: { environment: string; name: string }; limit: number },
): Promise<Claim[]> {
  let query = t(db).selectFrom('resources_claims').selectAll().orderBy('environment').orderBy('name').limit(filter.limit);
  if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
  if (filter.name !== undefined) query = query.where('name', '=', filter.name);
  if (filter.provider !== undefined) query = query.where('provider', '=', filter.provider);
  const after = filter.after;
  if (after) query = query.where((eb) => eb(eb.refTuple('environment', 'name'), '>', eb.tuple(after.environment, after.name)));
  if (filter.ownerRefs !== undefined) query = filter.ownerRefs.length === 0 ? query.where('id', '=', '') : query.where('owner_ref', 'in', filter.ownerRefs);
  return (await query.execute()).map(toClaim);
}

export async function countTeamClaims(db: Db, ownerTeam: string, module: string): Promise<number> {
  const row = await t(db).selectFrom('resources_claims').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_team', '=', ownerTeam).where('module', '=', module).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Monthly cost committed by a team or cost-center (every live claim, deleting ones included until they are gone). */
export async function sumMonthly(db: Db, scope: 'team' | 'cost-center', name: string): Promise<number> {
  const row = await t(db)
    .selectFrom('resources_claims')
    .select((eb) => eb.fn.sum<number | string | null>('monthly_cost').as('total'))
    .where(scope === 'team' ? 'owner_team' : 'cost_center', '=', name)
    .executeTakeFirstOrThrow();
  return Number(row.total ?? 0);
}

export async function updateClaim(db: Db, id: string, patch: Partial<{ phase: ClaimPhase; step: string | null; outputs: Record<string, string>; lastError: string | null; drift: Claim['drift']; jobId: string | null; readyAt: string; provisionMs: number }>, at: string, expectedPhase?: ClaimPhase): Promise<boolean> {
  let query = t(db)
    .updateTable('resources_claims')
    .set({
      updated_at: at,
      ...(patch.phase !== undefined ? { phase: patch.phase } : {}),
      ...(patch.step !== undefined ? { step: patch.step } : {}),
      ...(patch.outputs !== undefined ? { outputs: JSON.stringify(patch.outputs) } : {}),
      ...(patch.lastError !== undefined ? { last_error: patch.lastError } : {}),
      ...(patch.drift !== undefined ? { drift: patch.drift === null ? null : JSON.stringify(patch.drift) } : {}),
      ...(patch.jobId !== undefined ? { job_id: patch.jobId } : {}),
      ...(patch.readyAt !== undefined ? { ready_at: patch.readyAt } : {}),
      ...(patch.provisionMs !== undefined ? { provision_ms: patch.provisionMs } : {}),
    })
    .where('id', '=', id);
  if (expectedPhase !== undefined) query = query.where('phase', '=', expectedPhase);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Puts an upgraded spec on a ready claim and sends it back to provisioning from its first step; false when it is not ready. */
export async function upgradeClaim(db: Db, id: string, spec: { version: string; preset: string; inputs: Record<string, unknown>; monthly: number; currency: string }, at: string): Promise<boolean> {
  const result = await t(db)
    .updateTable('resources_claims')
    .set({ module_version: spec.version, preset: spec.preset, inputs: JSON.stringify(spec.inputs), monthly_cost: spec.monthly, currency: spec.currency, phase: 'provisioning', step: null, last_error: null, updated_at: at })
    .where('id', '=', id)
    .where('phase', '=', 'ready')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteClaimRow(db: Db, id: string): Promise<void> {
  await t(db).deleteFrom('resources_operations').where('claim_id', '=', id).execute();
  await t(db).deleteFrom('resources_claims').where('id', '=', id).execute();
}

export { insertBackup, listBackups, findBackup, backupTaken, markBackupRemoved, type BackupKind, type BackupRecord } from './backups.js';
export { readSpendGenerations, advanceSpendGenerations } from './spend-keys.js';
export { insertOperation, updateOperation, selectOperation, listOperations } from './operations.js';
export { countVersionsByKey, selectVersionsAfter, replaceWrappedKey, insertRewrap, selectRewrap, latestRewrap, advanceRewrap, finishRewrap, type WrappedVersion } from './secret-keys.js';
