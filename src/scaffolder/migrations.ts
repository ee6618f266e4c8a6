import type { Migration } from '../kernel/index.js';

export const scaffolderMigrations: Migration[] = [
  {
    name: '20261128_10_scaffolder_tasks',
    async up(db, ddl) {
      // One row per task: what was asked (spec) apart from what is (status, steps, output); the job id
      // links it to the kernel job that runs it.
      await db.schema
        .createTable('scaffolder_tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('template_ref', 'text', (c) => c.notNull())
        .addColumn('spec', ddl.json, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('last_heartbeat_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('job_id', 'text')
        .addColumn('steps', ddl.json, (c) => c.notNull())
        .addColumn('output', ddl.json)
        .addColumn('error', 'text')
        // The short-lived API token the task acts with: its id (to revoke) and secret (cleared when the task ends).
        .addColumn('token_id', 'text')
        .addColumn('secrets', ddl.json)
        .execute();
      await db.schema.createIndex('scaffolder_tasks_created').on('scaffolder_tasks').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('scaffolder_tasks_created_by').on('scaffolder_tasks').columns(['created_by', 'created_at']).execute();
      await ddl
        .addSerialPrimaryKey(db.schema.createTable('scaffolder_task_events'), 'id')
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('body', ddl.json, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('scaffolder_task_events_task').on('scaffolder_task_events').columns(['task_id', 'id']).execute();
    },
  },
];
