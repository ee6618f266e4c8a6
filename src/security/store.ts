import { ConflictError, type Db } from '../kernel/index.js';
import type { SigningKey, KeyStatus } from './signing/keys.js';
import { parseOsvRecords, severityOf, supportedEcosystem, type OsvAdvisory } from './advisories/osv.js';
import { canonicalName } from './deps/purl.js';
import type { AdvisorySummary, Ecosystem, Severity } from './model.js';
import type { AttestationKind } from './provenance/statements.js';

/** The security layer's tables; only this file touches them. */
export interface SecurityTables {
  security_advisories: {
    id: string;
    modified: string;
    published: string | null;
    withdrawn: string | null;
    summary: string;
    aliases: string;
    severity: string;
    score: number | null;
    cvss_vector: string | null;
    document: string;
    imported_at: string;
  };
  security_advisory_packages: { advisory_id: string; ecosystem: string; name: string };
  security_signing_keys: { key_id: string; algorithm: string; public_key_pem: string; status: string; encrypted: number; created_at: string; retired_at: string | null };
  /** Signed evidence about an artifact digest: `signature` (over the bytes), `provenance`, `sbom`. */
  security_attestations: { id: string; subject_digest: string; kind: string; key_id: string; bundle: string; run_id: string | null; created_at: string };
  security_sboms: { run_id: string; format: string; document: string; created_at: string };
}

type AdvisoryRow = SecurityTables['security_advisories'];
const t = (db: Db) => db.tables<SecurityTables>();

/** The (ecosystem, name) pairs an advisory affects, names canonical for the ecosystems we match. */
export function advisoryPackages(advisory: OsvAdvisory): { ecosystem: string; name: string }[] {
  const seen = new Map<string, { ecosystem: string; name: string }>();
  for (const a of advisory.affected ?? []) {
    if (a.package === undefined) continue;
    const eco = supportedEcosystem(a.package.ecosystem);
    const name = eco ? canonicalName(eco, a.package.name) : a.package.name;
    seen.set(`${a.package.ecosystem}\u0000${name}`, { ecosystem: a.package.ecosystem, name });
  }
  return [...seen.values()];
}

const toRow = (advisory: OsvAdvisory, importedAt: string): AdvisoryRow => {
  const { severity, score, vector } = severityOf(advisory);
  return {
    id: advisory.id,
    modified: advisory.modified,
    published: advisory.published ?? null,
    withdrawn: advisory.withdrawn ?? null,
    summary: advisory.summary ?? '',
    aliases: JSON.stringify(advisory.aliases ?? []),
    severity,
    score,
    cvss_vector: vector,
    document: JSON.stringify(advisory),
    imported_at: importedAt,
  };
};

/** Stored modification times of these ids, to decide imported / updated / skipped. */
export async function modifiedTimes(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await t(db).selectFrom('security_advisories').select(['id', 'modified']).where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.id, r.modified);
  }
  return out;
}

/** Inserts or replaces advisories (their package rows too); call inside a transaction. */
export async function upsertAdvisories(db: Db, advisories: readonly OsvAdvisory[], importedAt: string): Promise<void> {
  for (const advisory of advisories) {
    const row = toRow(advisory, importedAt);
    const { id: _id, ...rest } = row;
    await t(db).insertInto('security_advisories').values(row).onConflict((oc) => oc.column('id').doUpdateSet(rest)).execute();
    await t(db).deleteFrom('security_advisory_packages').where('advisory_id', '=', advisory.id).execute();
    const packages = advisoryPackages(advisory);
    if (packages.length > 0) await t(db).insertInto('security_advisory_packages').values(packages.map((p) => ({ advisory_id: advisory.id, ...p }))).execute();
  }
}

/** Full OSV records of the advisories affecting any of these packages (by canonical name). */
export async function advisoriesForPackages(db: Db, packages: readonly { ecosystem: Ecosystem; name: string }[]): Promise<OsvAdvisory[]> {
  const byEcosystem = new Map<Ecosystem, Set<string>>();
  for (const p of packages) byEcosystem.set(p.ecosystem, (byEcosystem.get(p.ecosystem) ?? new Set()).add(canonicalName(p.ecosystem, p.name)));
  const ids = new Set<string>();
  for (const [ecosystem, names] of byEcosystem) {
    const list = [...names];
    for (let i = 0; i < list.length; i += 500) {
      const rows = await t(db).selectFrom('security_advisory_packages').select('advisory_id').where('ecosystem', '=', ecosystem).where('name', 'in', list.slice(i, i + 500)).execute();
      for (const r of rows) ids.add(r.advisory_id);
    }
  }
  const all = [...ids];
  const out: OsvAdvisory[] = [];
  for (let i = 0; i < all.length; i += 500) {
    const rows = await t(db).selectFrom('security_advisories').select(['id', 'document']).where('id', 'in', all.slice(i, i + 500)).orderBy('id').execute();
    // Documents were validated on import; parsing again keeps the type honest if the schema grew since.
    for (const r of rows) out.push(...parseOsvRecords([JSON.parse(r.document) as unknown], `stored advisory ${r.id}`));
  }
  return out;
}

/** Advisory summaries by id order, optionally only those of one package; `after` is the last id of the previous page. */
export async function selectAdvisories(db: Db, query: { ecosystem?: Ecosystem; name?: string; after?: string; limit: number }): Promise<AdvisorySummary[]> {
  let q = t(db).selectFrom('security_advisories').selectAll().orderBy('id').limit(query.limit);
  if (query.ecosystem !== undefined && query.name !== undefined) {
    const { ecosystem, name } = query;
    q = q.where('id', 'in', t(db).selectFrom('security_advisory_packages').select('advisory_id').where('ecosystem', '=', ecosystem).where('name', '=', canonicalName(ecosystem, name)));
  }
  if (query.after !== undefined) q = q.where('id', '>', query.after);
  const rows = await q.execute();
  const packages = rows.length === 0 ? [] : await t(db).selectFrom('security_advisory_packages').selectAll().where('advisory_id', 'in', rows.map((r) => r.id)).execute();
  return rows.map((r) => ({
    id: r.id,
    aliases: JSON.parse(r.aliases) as string[],
    summary: r.summary,
    severity: r.severity as Severity,
    score: r.score,
    modified: r.modified,
    published: r.published,
    withdrawn: r.withdrawn,
    packages: packages.filter((p) => p.advisory_id === r.id).map((p) => ({ ecosystem: p.ecosystem, name: p.name })),
  }));
}

/** One stored OSV record, or undefined. */
export async function findAdvisory(db: Db, id: string): Promise<OsvAdvisory | undefined> {
  const row = await t(db).selectFrom('security_advisories').select('document').where('id', '=', id).executeTakeFirst();
  return row ? parseOsvRecords([JSON.parse(row.document) as unknown], `stored advisory ${id}`)[0] : undefined;
}

// ---- Signing keys, attestations, SBOMs ------------------------------------------------------------

type KeyRow = SecurityTables['security_signing_keys'];
const toKey = (r: KeyRow): SigningKey => ({ keyId: r.key_id, algorithm: 'ecdsa-p256-sha256', publicKeyPem: r.public_key_pem, status: r.status as KeyStatus, createdAt: r.created_at, retiredAt: r.retired_at });

/** Every key, newest first. */
export async function selectKeys(db: Db): Promise<SigningKey[]> {
  return (await t(db).selectFrom('security_signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('key_id').execute()).map(toKey);
}

export async function findActiveKey(db: Db): Promise<SigningKey | undefined> {
  const row = await t(db).selectFrom('security_signing_keys').selectAll().where('status', '=', 'active').orderBy('created_at', 'desc').executeTakeFirst();
  return row ? toKey(row) : undefined;
}

/** Inserts a new active key after retiring `retire` (the key seen active); ConflictError when another writer rotated first. */
export async function insertActiveKey(db: Db, key: { keyId: string; publicKeyPem: string; encrypted: boolean; createdAt: string }, retire: string | undefined): Promise<void> {
  if (retire !== undefined) {
    const result = await t(db).updateTable('security_signing_keys').set({ status: 'retired', retired_at: key.createdAt }).where('key_id', '=', retire).where('status', '=', 'active').executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new ConflictError(`signing key ${retire} is no longer the active key; someone rotated it just now`);
  } else if ((await findActiveKey(db)) !== undefined) throw new ConflictError('a signing key is already active');
  await t(db).insertInto('security_signing_keys').values({ key_id: key.keyId, algorithm: 'ecdsa-p256-sha256', public_key_pem: key.publicKeyPem, status: 'active', encrypted: key.encrypted ? 1 : 0, created_at: key.createdAt, retired_at: null }).execute();
}

export interface AttestationRecord {
  id: string;
  subjectDigest: string;
  kind: AttestationKind;
  keyId: string;
  /** The Sigstore bundle, JSON. */
  bundle: unknown;
  runId: string | null;
  createdAt: string;
}

export async function insertAttestation(db: Db, a: AttestationRecord): Promise<void> {
  await t(db).insertInto('security_attestations').values({ id: a.id, subject_digest: a.subjectDigest, kind: a.kind, key_id: a.keyId, bundle: JSON.stringify(a.bundle), run_id: a.runId, created_at: a.createdAt }).execute();
}

/** The newest attestation of each kind for a digest. */
export async function latestAttestations(db: Db, digest: string): Promise<AttestationRecord[]> {
  const rows = await t(db).selectFrom('security_attestations').selectAll().where('subject_digest', '=', digest).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  const seen = new Set<string>();
  const out: AttestationRecord[] = [];
  for (const r of rows) {
    if (seen.has(r.kind)) continue;
    seen.add(r.kind);
    out.push({ id: r.id, subjectDigest: r.subject_digest, kind: r.kind as AttestationRecord['kind'], keyId: r.key_id, bundle: JSON.parse(r.bundle) as unknown, runId: r.run_id, createdAt: r.created_at });
  }
  return out;
}

export async function upsertSbom(db: Db, runId: string, format: 'cyclonedx' | 'spdx', document: string, createdAt: string): Promise<void> {
  await t(db).insertInto('security_sboms').values({ run_id: runId, format, document, created_at: createdAt }).onConflict((oc) => oc.columns(['run_id', 'format']).doUpdateSet({ document, created_at: createdAt })).execute();
}

export async function findSbom(db: Db, runId: string, format: 'cyclonedx' | 'spdx'): Promise<string | undefined> {
  return (await t(db).selectFrom('security_sboms').select('document').where('run_id', '=', runId).where('format', '=', format).executeTakeFirst())?.document;
}
