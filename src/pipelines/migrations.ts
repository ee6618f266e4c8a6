import type { Migration } from '../kernel/index.js';

export const pipelinesMigrations: Migration[] = [
  {
    name: '20261201_10_pipelines_runs',
    async up(db, ddl) {
      await db.schema
        .createTable('pipelines_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('owner_ref', 'text', (c) => c.notNull())
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('is_default_branch', 'integer', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('definition_version', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        // One run per commit per attempt: a push event delivered twice (replay, two replicas) creates one run.
        .addUniqueConstraint('pipelines_runs_repository_sha_attempt', ['repository', 'sha', 'attempt'])
        .execute();
      await db.schema.createIndex('pipelines_runs_repository_created').on('pipelines_runs').columns(['repository', 'created_at', 'id']).execute();
      await db.schema
        .createTable('pipelines_steps')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('command', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('message', 'text')
        .addColumn('exit_code', 'integer')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('duration_ms', 'integer')
        .addPrimaryKeyConstraint('pipelines_steps_pk', ['run_id', 'name'])
        .execute();
      await db.schema
        .createTable('pipelines_log_lines')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('seq', ddl.bigint, (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pipelines_log_lines_pk', ['run_id', 'seq'])
        .execute();
      await db.schema
        .createTable('pipelines_test_results')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('file', 'text')
        .addColumn('duration_ms', 'integer')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('flaky', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('pipelines_test_results_pk', ['run_id', 'position'])
        .execute();
      // Where the push follower stopped in the ledger, so a restart resumes instead of replaying or missing pushes.
      await db.schema
        .createTable('pipelines_cursors')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('seq', ddl.bigint, (c) => c.notNull())
        .execute();
    },
  },
  {
    name: '20261220_10_pipelines_step_outputs_artifacts',
    async up(db, ddl) {
      // What a platform step hands to later ones (build-artifact's digest for sign), kept with the step.
      await db.schema.alterTable('pipelines_steps').addColumn('outputs', ddl.json).execute();
      // Build artifacts by content digest; the bytes live under <data-dir>/artifacts/sha256/<hex>.
      await db.schema
        .createTable('pipelines_artifacts')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('size_bytes', ddl.bigint, (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('owner_ref', 'text', (c) => c.notNull())
        .addColumn('commit_sha', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pipelines_artifacts_repository').on('pipelines_artifacts').columns(['repository', 'created_at']).execute();
    },
  },
  {
    name: '20261231_10_pipelines_external_repositories',
    async up(db) {
      // Repositories hosted elsewhere whose push webhooks start runs (src/pipelines/external/).
      await db.schema
        .createTable('pipelines_external_repositories')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('owner_ref', 'text', (c) => c.notNull())
        .addColumn('clone_url', 'text', (c) => c.notNull())
        .addColumn('default_branch', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('username', 'text')
        .addColumn('token_sealed', 'text')
        .addColumn('webhook_secret_sealed', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pipelines_external_repositories_owner').on('pipelines_external_repositories').columns(['owner_ref', 'name']).execute();
      // One row per push received, so a redelivered webhook is recognised and changes nothing.
      await db.schema
        .createTable('pipelines_external_deliveries')
        .addColumn('repository_id', 'text', (c) => c.notNull())
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('before_sha', 'text', (c) => c.notNull())
        .addColumn('after_sha', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text')
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pipelines_external_deliveries_pk', ['repository_id', 'ref', 'before_sha', 'after_sha'])
        .execute();
    },
  },
  {
    // Which runner ran a run: the kernel job's worker id says it only while the job is leased.
    name: '20270121_10_pipelines_run_runner',
    async up(db) {
      await db.schema.alterTable('pipelines_runs').addColumn('runner', 'text').execute();
    },
  },
];
