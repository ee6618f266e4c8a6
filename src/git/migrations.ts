import type { Migration } from '../kernel/index.js';

export const gitMigrations: Migration[] = [
  {
    name: '20261127_10_git_repositories',
    async up(db) {
      // The bare repository itself lives on disk at <dataDir>/repos/<owner>/<name>.git; this row is what
      // makes it exist for Plinth (a folder without a row is never served).
      await db.schema
        .createTable('git_repositories')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('owner_ref', 'text', (c) => c.notNull())
        .addColumn('default_branch', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('git_repositories_owner_name', ['owner', 'name'])
        .execute();
    },
  },
];
