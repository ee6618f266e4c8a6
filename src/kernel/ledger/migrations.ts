import type { Migration } from '../store/index.js';

export const ledgerMigrations: Migration[] = [
  {
    name: '20261126_01_kernel_ledger',
    async up(db, ddl) {
      await ddl
        .addSerialPrimaryKey(db.schema.createTable('kernel_events'), 'seq')
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('subjects', ddl.json, (c) => c.notNull())
        .addColumn('payload', ddl.json, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('kernel_events_kind_seq').on('kernel_events').columns(['kind', 'seq']).execute();
      await db.schema.createIndex('kernel_events_time').on('kernel_events').column('time').execute();
      await db.schema
        .createTable('kernel_event_subjects')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('seq', ddl.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('kernel_event_subjects_pk', ['subject', 'seq'])
        .execute();
    },
  },
];
