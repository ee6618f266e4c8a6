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
];
