import type { Db } from '../kernel/index.js';
import type { BudgetScope, BudgetView, DecisionResult, EnforcementPoint, ExceptionMatch, ExceptionView, ViolationView } from './guardrails/model.js';

/** The policy layer's tables; only this file touches them. */
export interface PolicyTables {
  policy_policies: {
    name: string;
    kind: string;
    source: string;
    yaml: string;
    enabled: number;
    shipped_digest: string | null;
    updated_by: string;
    updated_at: string;
  };
  policy_exceptions: {
    id: string;
    policy: string;
    rules: string;
    match: string;
    reason: string;
    approved_by: string;
    created_at: string;
    expires_at: string;
  };
  policy_budgets: { scope: string; name: string; monthly_limit: number; currency: string; updated_by: string; updated_at: string };
  policy_reports: {
    subject: string;
    policy: string;
    rule: string;
    point: string;
    owner: string | null;
    status: string;
    message: string;
    failure_action: string;
    updated_at: string;
  };
}

export type PolicyRow = PolicyTables['policy_policies'];
type ExceptionRow = PolicyTables['policy_exceptions'];
const t = (db: Db) => db.tables<PolicyTables>();

export async function listPolicies(db: Db): Promise<PolicyRow[]> {
  return t(db).selectFrom('policy_policies').selectAll().orderBy('name').execute();
}

export async function getPolicy(db: Db, name: string): Promise<PolicyRow | undefined> {
  return t(db).selectFrom('policy_policies').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertPolicy(db: Db, row: PolicyRow): Promise<void> {
  await t(db).insertInto('policy_policies').values(row).execute();
}

export async function updatePolicy(db: Db, name: string, changes: Partial<Omit<PolicyRow, 'name'>>): Promise<void> {
  await t(db).updateTable('policy_policies').set(changes).where('name', '=', name).execute();
}

export async function deletePolicy(db: Db, name: string): Promise<void> {
  await t(db).deleteFrom('policy_policies').where('name', '=', name).execute();
  await t(db).deleteFrom('policy_reports').where('policy', '=', name).execute();
}

const toException = (r: ExceptionRow, now: string): ExceptionView => ({
  id: r.id,
  policy: r.policy,
  rules: JSON.parse(r.rules) as string[],
  match: JSON.parse(r.match) as ExceptionMatch,
  reason: r.reason,
  approvedBy: r.approved_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  expired: r.expires_at <= now,
});

export async function insertException(db: Db, view: Omit<ExceptionView, 'expired'>): Promise<void> {
  await t(db)
    .insertInto('policy_exceptions')
    .values({
      id: view.id,
      policy: view.policy,
      rules: JSON.stringify(view.rules),
      match: JSON.stringify(view.match),
      reason: view.reason,
      approved_by: view.approvedBy,
      created_at: view.createdAt,
      expires_at: view.expiresAt,
    })
    .execute();
}

export async function listExceptions(db: Db, now: string, options: { policy?: string; includeExpired: boolean }): Promise<ExceptionView[]> {
  let query = t(db).selectFrom('policy_exceptions').selectAll().orderBy('created_at', 'desc').orderBy('id');
  if (options.policy !== undefined) query = query.where('policy', '=', options.policy);
  if (!options.includeExpired) query = query.where('expires_at', '>', now);
  return (await query.execute()).map((r) => toException(r, now));
}

export async function deleteException(db: Db, id: string): Promise<boolean> {
  const result = await t(db).deleteFrom('policy_exceptions').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

const toBudget = (r: PolicyTables['policy_budgets']): BudgetView => ({
  scope: r.scope as BudgetScope,
  name: r.name,
  monthlyLimit: Number(r.monthly_limit),
  currency: r.currency,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

export async function listBudgets(db: Db): Promise<BudgetView[]> {
  return (await t(db).selectFrom('policy_budgets').selectAll().orderBy('scope').orderBy('name').execute()).map(toBudget);
}

export async function getBudget(db: Db, scope: BudgetScope, name: string): Promise<BudgetView | undefined> {
  const row = await t(db).selectFrom('policy_budgets').selectAll().where('scope', '=', scope).where('name', '=', name).executeTakeFirst();
  return row ? toBudget(row) : undefined;
}

export async function putBudget(db: Db, budget: BudgetView): Promise<void> {
  const row = { scope: budget.scope, name: budget.name, monthly_limit: budget.monthlyLimit, currency: budget.currency, updated_by: budget.updatedBy, updated_at: budget.updatedAt };
  await t(db)
    .insertInto('policy_budgets')
    .values(row)
    .onConflict((oc) => oc.columns(['scope', 'name']).doUpdateSet({ monthly_limit: row.monthly_limit, currency: row.currency, updated_by: row.updated_by, updated_at: row.updated_at }))
    .execute();
}

export async function deleteBudget(db: Db, scope: BudgetScope, name: string): Promise<boolean> {
  const result = await t(db).deleteFrom('policy_budgets').where('scope', '=', scope).where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Replaces the subject's report rows for the policies judged at this point with the new verdicts. */
export async function writeReport(db: Db, input: { subject: string; point: EnforcementPoint; owner: string | null; results: readonly DecisionResult[]; at: string }): Promise<void> {
  const policies = [...new Set(input.results.map((r) => r.policy))];
  if (policies.length > 0) await t(db).deleteFrom('policy_reports').where('subject', '=', input.subject).where('policy', 'in', policies).execute();
  const rows = input.results.map((r) => ({
    subject: input.subject,
    policy: r.policy,
    rule: r.rule,
    point: input.point,
    owner: input.owner,
    status: r.status,
    message: r.message,
    failure_action: r.failureAction,
    updated_at: input.at,
  }));
  // Duplicates (one rule reported twice for one subject) keep the last verdict.
  const unique = new Map(rows.map((row) => [`${row.policy}\0${row.rule}`, row]));
  // An upsert, not a plain insert: two decisions on one subject at once (two runs of a repository reaching
  // their CI gate together) both delete nothing under READ COMMITTED, then the second insert would collide.
  if (unique.size > 0) {
    await t(db)
      .insertInto('policy_reports')
      .values([...unique.values()])
      .onConflict((oc) =>
        oc.columns(['subject', 'policy', 'rule']).doUpdateSet((eb) => ({
          point: eb.ref('excluded.point'),
          owner: eb.ref('excluded.owner'),
          status: eb.ref('excluded.status'),
          message: eb.ref('excluded.message'),
          failure_action: eb.ref('excluded.failure_action'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
}

/** A subject's report rows at one point. */
export async function listReport(db: Db, subject: string, point: EnforcementPoint): Promise<{ policy: string; rule: string; status: string }[]> {
  return t(db).selectFrom('policy_reports').select(['policy', 'rule', 'status']).where('subject', '=', subject).where('point', '=', point).execute();
}

/** Drops the point's report rows of every subject not in `keep`. */
export async function deleteReportsExcept(db: Db, point: EnforcementPoint, keep: readonly string[]): Promise<void> {
  let query = t(db).deleteFrom('policy_reports').where('point', '=', point);
  if (keep.length > 0) query = query.where('subject', 'not in', [...new Set(keep)]);
  await query.execute();
}

const violationStatuses = ['fail', 'error', 'warn'];

export async function violationCounts(db: Db): Promise<Map<string, number>> {
  const rows = await t(db)
    .selectFrom('policy_reports')
    .select(['policy', (eb) => eb.fn.countAll<number>().as('count')])
    .where('status', 'in', violationStatuses)
    .groupBy('policy')
    .execute();
  return new Map(rows.map((r) => [r.policy, Number(r.count)]));
}

export async function listViolations(db: Db, filter: { owner?: string; policy?: string; subject?: string; limit: number }): Promise<ViolationView[]> {
  let query = t(db).selectFrom('policy_reports').selectAll().where('status', 'in', violationStatuses);
  if (filter.owner !== undefined) query = query.where('owner', '=', filter.owner);
  if (filter.policy !== undefined) query = query.where('policy', '=', filter.policy);
  if (filter.subject !== undefined) query = query.where('subject', '=', filter.subject);
  const rows = await query.orderBy('updated_at', 'desc').orderBy('subject').orderBy('policy').orderBy('rule').limit(filter.limit).execute();
  return rows.map((r) => ({
    point: r.point as EnforcementPoint,
    subject: r.subject,
    owner: r.owner,
    policy: r.policy,
    rule: r.rule,
    status: r.status as ViolationView['status'],
    message: r.message,
    failureAction: r.failure_action as ViolationView['failureAction'],
    updatedAt: r.updated_at,
  }));
}
