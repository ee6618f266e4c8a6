import type { Db } from '../kernel/index.js';
import { parseOsvRecords, severityOf, supportedEcosystem, type OsvAdvisory } from './advisories/osv.js';
import { canonicalName } from './deps/purl.js';
import type { AdvisorySummary, Ecosystem, Severity } from './model.js';

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
