import type { Migration } from '../kernel/index.js';

export const runtimeMigrations: Migration[] = [
  {
    name: '20261210_10_runtime_releases',
    async up(db) {
      // A release's spec and artifact never change once inserted; only its phase moves.
      await db.schema
        .createTable('runtime_releases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('artifact_digest', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('message', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('runtime_releases_service_env').on('runtime_releases').columns(['service', 'environment', 'created_at']).execute();
      await db.schema.createIndex('runtime_releases_phase').on('runtime_releases').columns(['phase']).execute();
      // The traffic split per service and environment, restored into the gateway after a restart.
      await db.schema
        .createTable('runtime_traffic')
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('stable_release_id', 'text', (c) => c.notNull())
        .addColumn('canary_release_id', 'text')
        .addColumn('canary_weight_percent', 'integer', (c) => c.notNull())
        .addColumn('sticky', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('runtime_traffic_pk', ['service', 'environment'])
        .execute();
      // Processes this server spawned, so that after a crash it can kill the ones left behind.
      await db.schema
        .createTable('runtime_processes')
        .addColumn('release_id', 'text', (c) => c.notNull())
        .addColumn('replica', 'integer', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('runtime_processes_pk', ['release_id', 'replica'])
        .execute();
    },
  },
];
