import type { ExpressionBuilder } from 'kysely';
import type { Db } from '../../kernel/index.js';
import {
  severityRank,
  type DependencyFindingRef,
  type FindingSeverity,
  type FindingStatus,
  type KnownFinding,
  type ScanFinding,
  type Scanner,
  type Sighting,
  type TrackedFinding,
} from './model.js';

/** The tracked-findings tables of the security layer; only this file touches them. */
export interface FindingsTables {
  security_findings: {
    id: string;
    repository: string;
    fingerprint: string;
    scanner: string;
    owner: string;
    rule: string;
    severity: string;
    severity_rank: number;
    title: string;
    file: string;
    line: number | null;
    package: string | null;
    status: string;
    present_on: string;
    first_seen_at: string;
    last_seen_at: string;
    fixed_at: string | null;
    due_at: string | null;
    accepted_by: string | null;
    accepted_reason: string | null;
    accepted_until: string | null;
    accepted_at: string | null;
  };
  security_finding_sightings: { finding_id: string; run_id: string; branch: string; sha: string; severity: string; seen_at: string };
}

type Row = FindingsTables['security_findings'];
const t = (db: Db) => db.tables<FindingsTables>();

/** The stored status as served: an acceptance past its date is open again. */
const servedStatus = (r: Row, now: string): FindingStatus => (r.status === 'accepted' && (r.accepted_until === null || r.accepted_until <= now) ? 'open' : (r.status as FindingStatus));

function toFinding(r: Row, now: string): TrackedFinding {
  const status = servedStatus(r, now);
  return {
    id: r.id,
    repository: r.repository,
    owner: r.owner,
    scanner: r.scanner as Scanner,
    fingerprint: r.fingerprint,
    rule: r.rule,
    severity: r.severity as FindingSeverity,
    title: r.title,
    file: r.file,
    line: r.line,
    package: r.package === null ? null : (JSON.parse(r.package) as ScanFinding['package']),
    status,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    fixedAt: r.fixed_at,
    dueAt: r.due_at,
    overdue: status === 'open' && r.due_at !== null && r.due_at <= now,
    acceptance: status === 'accepted' && r.accepted_by !== null ? { by: r.accepted_by, reason: r.accepted_reason ?? '', until: r.accepted_until ?? '', at: r.accepted_at ?? '' } : null,
    branches: JSON.parse(r.present_on) as string[],
  };
}

/** Every finding of a repository, as the gate's plan needs them. */
export async function knownFindings(db: Db, repository: string): Promise<KnownFinding[]> {
  const rows = await t(db).selectFrom('security_findings').select(['id', 'fingerprint', 'scanner', 'severity', 'status', 'accepted_until', 'due_at', 'present_on']).where('repository', '=', repository).execute();
  return rows.map((r) => ({
    id: r.id,
    fingerprint: r.fingerprint,
    scanner: r.scanner as Scanner,
    severity: r.severity as FindingSeverity,
    status: r.status as FindingStatus,
    acceptedUntil: r.accepted_until,
    dueAt: r.due_at,
    presentOn: JSON.parse(r.present_on) as string[],
  }));
}

/** The repository's dependency-audit findings not fixed, for matching an artifact's bundled-package advisories against. */
export async function dependencyFindingRefs(db: Db, repository: string): Promise<DependencyFindingRef[]> {
  const rows = await t(db)
    .selectFrom('security_findings')
    .select(['id', 'rule', 'package', 'status', 'accepted_until', 'present_on'])
    .where('repository', '=', repository)
    .where('scanner', '=', 'dependency')
    .where('status', '!=', 'fixed')
    .execute();
  return rows.flatMap((r) => {
    const pkg = r.package === null ? null : (JSON.parse(r.package) as ScanFinding['package']);
    if (pkg === null) return [];
    return [{ id: r.id, rule: r.rule, purl: pkg.purl, status: r.status as FindingStatus, acceptedUntil: r.accepted_until, presentOn: JSON.parse(r.present_on) as string[] }];
  });
}

const detailColumns = (f: ScanFinding) => ({
  scanner: f.scanner,
  rule: f.rule,
  severity: f.severity,
  severity_rank: severityRank(f.severity),
  title: f.title,
  file: f.file,
  line: f.line,
  package: f.package === null ? null : JSON.stringify(f.package),
});

/** Inserts a new open finding; returns the id stored for (repository, fingerprint) — another writer's, if it won the race. */
export async function insertFinding(db: Db, input: { id: string; repository: string; owner: string; finding: ScanFinding; branch: string; dueAt: string | null; at: string }): Promise<string> {
  const { id, repository, owner, finding, branch, dueAt, at } = input;
  await t(db)
    .insertInto('security_findings')
    .values({
      id, repository, fingerprint: finding.fingerprint, owner, ...detailColumns(finding), status: 'open', present_on: JSON.stringify([branch]),
      first_seen_at: at, last_seen_at: at, fixed_at: null, due_at: dueAt, accepted_by: null, accepted_reason: null, accepted_until: null, accepted_at: null,
    })
    .onConflict((oc) => oc.columns(['repository', 'fingerprint']).doNothing())
    .execute();
  const row = await t(db).selectFrom('security_findings').select('id').where('repository', '=', repository).where('fingerprint', '=', finding.fingerprint).executeTakeFirstOrThrow();
  return row.id;
}

/** A known finding seen again on `branch`: its details follow the latest scan; a reopened one loses its fixed date. */
export async function markSeen(db: Db, input: { id: string; owner: string; finding: ScanFinding; branch: string; status: FindingStatus; dueAt: string | null; at: string }): Promise<void> {
  const row = await t(db).selectFrom('security_findings').select('present_on').where('id', '=', input.id).executeTakeFirstOrThrow();
  const presentOn = [...new Set([...(JSON.parse(row.present_on) as string[]), input.branch])].sort();
  await t(db)
    .updateTable('security_findings')
    .set({
      ...detailColumns(input.finding), owner: input.owner, status: input.status, present_on: JSON.stringify(presentOn), last_seen_at: input.at, due_at: input.dueAt,
      ...(input.status === 'open' ? { fixed_at: null, accepted_by: null, accepted_reason: null, accepted_until: null, accepted_at: null } : {}),
    })
    .where('id', '=', input.id)
    .execute();
}

/** A finding a complete scan of `branch` no longer reports; `fixed` when no other branch has it. */
export async function markAbsent(db: Db, input: { id: string; branch: string; fixed: boolean; at: string }): Promise<void> {
  const row = await t(db).selectFrom('security_findings').select('present_on').where('id', '=', input.id).executeTakeFirstOrThrow();
  const presentOn = (JSON.parse(row.present_on) as string[]).filter((b) => b !== input.branch);
  await t(db)
    .updateTable('security_findings')
    .set({ present_on: JSON.stringify(presentOn), ...(input.fixed ? { status: 'fixed', fixed_at: input.at } : {}) })
    .where('id', '=', input.id)
    .execute();
}

export async function insertSighting(db: Db, findingId: string, s: Sighting): Promise<void> {
  await t(db)
    .insertInto('security_finding_sightings')
    .values({ finding_id: findingId, run_id: s.runId, branch: s.branch, sha: s.sha, severity: s.severity, seen_at: s.seenAt })
    .onConflict((oc) => oc.columns(['finding_id', 'run_id']).doNothing())
    .execute();
}

export interface FindingFilter {
  repository?: string;
  owner?: string;
  severity?: FindingSeverity;
  status?: FindingStatus;
  overdue?: boolean;
  limit: number;
  after?: { severity: FindingSeverity; lastSeenAt: string; id: string };
}

/** Findings most severe first, then last seen first; status and overdue are judged at `now` (an expired acceptance is open). */
export async function selectFindings(db: Db, filter: FindingFilter, now: string): Promise<TrackedFinding[]> {
  let q = t(db).selectFrom('security_findings').selectAll().orderBy('severity_rank', 'desc').orderBy('last_seen_at', 'desc').orderBy('id', 'desc').limit(filter.limit);
  if (filter.repository !== undefined) q = q.where('repository', '=', filter.repository);
  if (filter.owner !== undefined) q = q.where('owner', '=', filter.owner);
  if (filter.severity !== undefined) q = q.where('severity', '=', filter.severity);
  const isOpen = (eb: ExpressionBuilder<FindingsTables, 'security_findings'>) => eb.or([eb('status', '=', 'open'), eb.and([eb('status', '=', 'accepted'), eb.or([eb('accepted_until', 'is', null), eb('accepted_until', '<=', now)])])]);
  if (filter.status === 'open') q = q.where(isOpen);
  else if (filter.status === 'accepted') q = q.where('status', '=', 'accepted').where('accepted_until', '>', now);
  else if (filter.status === 'fixed') q = q.where('status', '=', 'fixed');
  if (filter.overdue === true) q = q.where(isOpen).where('due_at', 'is not', null).where('due_at', '<=', now);
  else if (filter.overdue === false) q = q.where((eb) => eb.not(eb.and([isOpen(eb), eb('due_at', 'is not', null), eb('due_at', '<=', now)])));
  const after = filter.after;
  if (after) {
    const rank = severityRank(after.severity);
    q = q.where((eb) =>
      eb.or([
        eb('severity_rank', '<', rank),
        eb.and([eb('severity_rank', '=', rank), eb('last_seen_at', '<', after.lastSeenAt)]),
        eb.and([eb('severity_rank', '=', rank), eb('last_seen_at', '=', after.lastSeenAt), eb('id', '<', after.id)]),
      ]),
    );
  }
  return (await q.execute()).map((r) => toFinding(r, now));
}

export async function findFinding(db: Db, id: string, now: string): Promise<TrackedFinding | undefined> {
  const row = await t(db).selectFrom('security_findings').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toFinding(row, now) : undefined;
}

/** Newest first, at most `limit`. */
export async function selectSightings(db: Db, findingId: string, limit: number): Promise<Sighting[]> {
  const rows = await t(db).selectFrom('security_finding_sightings').selectAll().where('finding_id', '=', findingId).orderBy('seen_at', 'desc').orderBy('run_id').limit(limit).execute();
  return rows.map((r) => ({ runId: r.run_id, branch: r.branch, sha: r.sha, severity: r.severity as FindingSeverity, seenAt: r.seen_at }));
}

export async function acceptFinding(db: Db, id: string, acceptance: { by: string; reason: string; until: string; at: string }): Promise<void> {
  await t(db)
    .updateTable('security_findings')
    .set({ status: 'accepted', accepted_by: acceptance.by, accepted_reason: acceptance.reason, accepted_until: acceptance.until, accepted_at: acceptance.at })
    .where('id', '=', id)
    .where('status', '!=', 'fixed')
    .execute();
}

/** Counts for the organisation overview, per owning team: open by severity, accepted, overdue, recently fixed. */
export async function overviewRows(db: Db, now: string, fixedSince: string): Promise<{ owner: string; severity: FindingSeverity; open: number; accepted: number; overdue: number; fixed: number }[]> {
  const rows = await t(db)
    .selectFrom('security_findings')
    .select(['owner', 'severity', 'status', 'accepted_until', 'due_at', 'fixed_at'])
    .where((eb) => eb.or([eb('status', '!=', 'fixed'), eb('fixed_at', '>=', fixedSince)]))
    .execute();
  const byKey = new Map<string, { owner: string; severity: FindingSeverity; open: number; accepted: number; overdue: number; fixed: number }>();
  for (const r of rows) {
    const key = `${r.owner}\0${r.severity}`;
    const entry = byKey.get(key) ?? { owner: r.owner, severity: r.severity as FindingSeverity, open: 0, accepted: 0, overdue: 0, fixed: 0 };
    byKey.set(key, entry);
    if (r.status === 'fixed') entry.fixed++;
    else if (r.status === 'accepted' && r.accepted_until !== null && r.accepted_until > now) entry.accepted++;
    else {
      entry.open++;
      if (r.due_at !== null && r.due_at <= now) entry.overdue++;
    }
  }
  return [...byKey.values()];
}
