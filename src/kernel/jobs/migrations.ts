import type { Migration } from '../store/index.js';

export const jobsMigrations: Migration[] = [
  {
    name: '20261126_02_kernel_jobs',
    async up(db, ddl) {
      await db.schema
        .createTable('kernel_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', ddl.json, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('run_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.unique())
        .addColumn('lease_token', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('worker_id', 'text')
        .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('output', ddl.json)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      // In the claim's order, so a claim reads the head of the queue instead of sorting all of it.
      await db.schema.createIndex('kernel_jobs_claim').on('kernel_jobs').columns(['state', 'priority desc', 'run_at']).execute();
      await db.schema.createIndex('kernel_jobs_lease').on('kernel_jobs').columns(['state', 'lease_expires_at']).execute();
      await db.schema.createIndex('kernel_jobs_lease_token').on('kernel_jobs').column('lease_token').execute();
      await db.schema.createIndex('kernel_jobs_kind').on('kernel_jobs').columns(['kind', 'created_at']).execute();
      await ddl
        .addSerialPrimaryKey(db.schema.createTable('kernel_job_progress'), 'seq')
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('data', ddl.json)
        .execute();
      await db.schema.createIndex('kernel_job_progress_job').on('kernel_job_progress').columns(['job_id', 'seq']).execute();
    },
  },
];
