import type { Migration } from '../kernel/index.js';

export const deliveryMigrations: Migration[] = [
  {
    name: '20261220_10_delivery_rollouts',
    async up(db, ddl) {
      await db.schema
        .createTable('delivery_environments')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('strategy', ddl.json, (c) => c.notNull())
        .addColumn('builtin', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // spec (what was asked: strategy, releases) apart from status (what is: phase, step, analysis);
      // `revision` fences the controller's writes, `command` is the one column users write.
      await db.schema
        .createTable('delivery_rollouts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('spec', ddl.json, (c) => c.notNull())
        .addColumn('status', ddl.json, (c) => c.notNull())
        .addColumn('command', ddl.json)
        .addColumn('job_id', 'text')
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('delivery_rollouts_service').on('delivery_rollouts').columns(['service', 'environment', 'created_at']).execute();
      await db.schema.createIndex('delivery_rollouts_active').on('delivery_rollouts').columns(['active', 'service', 'environment']).execute();
      await db.schema
        .createTable('delivery_webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('delivery_webhooks_service').on('delivery_webhooks').columns(['service']).execute();
    },
  },
  {
    // Preview environments: one per repository branch, created by its pipeline, gone with the branch or at expiry.
    name: '20261226_10_delivery_preview_environments',
    async up(db) {
      await db.schema.alterTable('delivery_environments').addColumn('preview', 'text').execute();
    },
  },
  {
    // Every canary analysis of a rollout (issue #6: charts of the whole rollout, not just what a page saw);
    // written with the status it produced, thinned past MAX_ANALYSES_PER_ROLLOUT per rollout.
    name: '20270102_10_delivery_rollout_analyses',
    async up(db, ddl) {
      await db.schema
        .createTable('delivery_rollout_analyses')
        .addColumn('rollout_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('step_index', 'integer', (c) => c.notNull())
        .addColumn('weight_percent', 'integer', (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('canary_requests', 'integer', (c) => c.notNull())
        .addColumn('canary_error_rate_percent', 'double precision')
        .addColumn('canary_p99_ms', 'double precision')
        .addColumn('stable_requests', 'integer')
        .addColumn('stable_error_rate_percent', 'double precision')
        .addColumn('stable_p99_ms', 'double precision')
        .addColumn('checks', ddl.json, (c) => c.notNull())
        .addPrimaryKeyConstraint('delivery_rollout_analyses_pk', ['rollout_id', 'seq'])
        .execute();
    },
  },
  {
    // Per-environment configuration: variables that Score's `environment` resource type reads.
    name: '20270127_10_delivery_environment_variables',
    async up(db) {
      await db.schema.alterTable('delivery_environments').addColumn('variables', 'text', (c) => c.notNull().defaultTo('{}')).execute();
    },
  },
];
