import type { Migration } from '../kernel/index.js';

export const resourcesMigrations: Migration[] = [
  {
    name: '20261203_10_resources_secrets_modules_claims',
    async up(db, ddl) {
      await db.schema
        .createTable('resources_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner_ref', 'text', (c) => c.notNull())
        .addColumn('claim_id', 'text')
        .addColumn('current_version', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('resources_secrets_owner').on('resources_secrets').columns(['owner_ref']).execute();
      // Every version is kept (sealed): a rotation adds one; the key names are not secret, the values are.
      await db.schema
        .createTable('resources_secret_versions')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('keys', ddl.json, (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('wrapped_key', 'text', (c) => c.notNull())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('resources_secret_versions_pk', ['name', 'version'])
        .execute();
      await db.schema
        .createTable('resources_modules')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('yaml', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('resources_modules_pk', ['name', 'version'])
        .execute();
      await db.schema
        .createTable('resources_claims')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('module', 'text', (c) => c.notNull())
        .addColumn('module_version', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('preset', 'text', (c) => c.notNull())
        .addColumn('inputs', ddl.json, (c) => c.notNull())
        .addColumn('tags', ddl.json, (c) => c.notNull())
        .addColumn('owner_ref', 'text', (c) => c.notNull())
        .addColumn('owner_team', 'text', (c) => c.notNull())
        .addColumn('cost_center', 'text', (c) => c.notNull())
        .addColumn('monthly_cost', 'double precision', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('step', 'text')
        .addColumn('outputs', ddl.json, (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('drift', ddl.json)
        .addColumn('job_id', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('ready_at', 'text')
        .addColumn('provision_ms', 'integer')
        // The physical names derive from (environment, name): two live claims can never share a database.
        .addUniqueConstraint('resources_claims_environment_name', ['environment', 'name'])
        .execute();
      await db.schema.createIndex('resources_claims_owner_team').on('resources_claims').columns(['owner_team']).execute();
      await db.schema.createIndex('resources_claims_cost_center').on('resources_claims').columns(['cost_center']).execute();
      await db.schema
        .createTable('resources_backups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('claim_id', 'text', (c) => c.notNull())
        .addColumn('claim_name', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('module', 'text', (c) => c.notNull())
        .addColumn('owner_ref', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('bytes', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('removed_at', 'text')
        .execute();
      await db.schema.createIndex('resources_backups_expires').on('resources_backups').columns(['removed_at', 'expires_at']).execute();
    },
  },
  {
    // Backups taken on demand and on the module's schedule beside the final ones; backup, restore and
    // rotation requests as operations a client can follow.
    name: '20270101_10_resources_operations',
    async up(db) {
      await db.schema.alterTable('resources_backups').addColumn('kind', 'text', (c) => c.notNull().defaultTo('final')).execute();
      await db.schema.createIndex('resources_backups_claim').on('resources_backups').columns(['claim_id', 'kind', 'created_at']).execute();
      await db.schema
        .createTable('resources_operations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('claim_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('backup_id', 'text')
        .addColumn('detail', 'text')
        .addColumn('error', 'text')
        .addColumn('job_id', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('resources_operations_claim').on('resources_operations').columns(['claim_id', 'created_at']).execute();
    },
  },
  {
    // Master-key rotation (issue 8): which master key wraps each version is counted by key id, and each
    // re-wrap run keeps its resumable record (cursor and counts advance with every batch's transaction).
    name: '20270110_10_resources_secret_rewraps',
    async up(db, ddl) {
      await db.schema.createIndex('resources_secret_versions_key').on('resources_secret_versions').columns(['key_id']).execute();
      await db.schema
        .createTable('resources_secret_rewraps')
        .addColumn('job_id', 'text', (c) => c.primaryKey())
        .addColumn('to_key_id', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('batch_size', 'integer', (c) => c.notNull())
        .addColumn('batches', 'integer', (c) => c.notNull())
        .addColumn('cursor_name', 'text')
        .addColumn('cursor_version', 'integer')
        .addColumn('rewrapped', ddl.json, (c) => c.notNull())
        .addColumn('skipped', ddl.json, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('resources_secret_rewraps_created').on('resources_secret_rewraps').columns(['created_at']).execute();
    },
  },
  {
    // Budget decisions (issue 8): one row per team and cost-center whose generation every committed claim
    // advances, so a claim admitted against a spend that changed before it committed is decided again.
    name: '20270120_10_resources_spend_keys',
    async up(db) {
      await db.schema
        .createTable('resources_spend_keys')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .execute();
    },
  },
];
