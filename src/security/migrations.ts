import type { Migration } from '../kernel/index.js';

export const securityMigrations: Migration[] = [
  {
    name: '20261210_10_security_advisories',
    async up(db) {
      // One row per OSV record; the record itself is kept as given (`document`), what queries filter on has columns.
      await db.schema
        .createTable('security_advisories')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('modified', 'text', (c) => c.notNull())
        .addColumn('published', 'text')
        .addColumn('withdrawn', 'text')
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('aliases', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('score', 'real')
        .addColumn('cvss_vector', 'text')
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('imported_at', 'text', (c) => c.notNull())
        .execute();
      // The packages an advisory affects, by OSV ecosystem and canonical name: what an audit looks up.
      await db.schema
        .createTable('security_advisory_packages')
        .addColumn('advisory_id', 'text', (c) => c.notNull())
        .addColumn('ecosystem', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('security_advisory_packages_pk', ['advisory_id', 'ecosystem', 'name'])
        .execute();
      await db.schema.createIndex('security_advisory_packages_package').on('security_advisory_packages').columns(['ecosystem', 'name']).execute();
    },
  },
];
