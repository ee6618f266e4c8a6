import type { Migration } from '../kernel/index.js';

export const policyMigrations: Migration[] = [
  {
    name: '20261202_10_policy_guardrails',
    async up(db, ddl) {
      await db.schema
        .createTable('policy_policies')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('yaml', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        // Digest of the shipped file a built-in row follows; null once an admin edits it (or for custom policies).
        .addColumn('shipped_digest', 'text')
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('policy_exceptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('rules', ddl.json, (c) => c.notNull())
        .addColumn('match', ddl.json, (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('approved_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('policy_exceptions_policy').on('policy_exceptions').columns(['policy', 'expires_at']).execute();
      await db.schema
        .createTable('policy_budgets')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('monthly_limit', 'double precision', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_budgets_pk', ['scope', 'name'])
        .execute();
      // The latest verdict of each (subject, policy, rule): Kyverno's PolicyReport, as rows.
      await db.schema
        .createTable('policy_reports')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('point', 'text', (c) => c.notNull())
        .addColumn('owner', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('failure_action', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_reports_pk', ['subject', 'policy', 'rule'])
        .execute();
      await db.schema.createIndex('policy_reports_policy_status').on('policy_reports').columns(['policy', 'status']).execute();
      await db.schema.createIndex('policy_reports_owner').on('policy_reports').columns(['owner', 'status']).execute();
    },
  },
];
