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
  {
    name: '20261220_20_security_signing',
    async up(db, ddl) {
      // Public halves and status of the platform's signing keys; private halves stay in <data-dir>/keys/signing/.
      await db.schema
        .createTable('security_signing_keys')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('public_key_pem', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('encrypted', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'text')
        .execute();
      await db.schema.createIndex('security_signing_keys_status').on('security_signing_keys').columns(['status', 'created_at']).execute();
      // Signed evidence (Sigstore bundles) about artifact digests.
      await db.schema
        .createTable('security_attestations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_digest', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('bundle', ddl.json, (c) => c.notNull())
        .addColumn('run_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('security_attestations_subject').on('security_attestations').columns(['subject_digest', 'kind', 'created_at']).execute();
      // The SBOMs a run's security stage made, by format.
      await db.schema
        .createTable('security_sboms')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('security_sboms_pk', ['run_id', 'format'])
        .execute();
    },
  },
  {
    name: '20261230_30_security_findings',
    async up(db) {
      // Tracked findings: one row per (repository, fingerprint), deduplicated across runs (issue #9).
      // `present_on` (JSON) lists the branches whose latest complete scan has the finding; nothing filters on it.
      await db.schema
        .createTable('security_findings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('scanner', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('severity_rank', 'integer', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('line', 'integer')
        .addColumn('package', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('present_on', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('fixed_at', 'text')
        .addColumn('due_at', 'text')
        .addColumn('accepted_by', 'text')
        .addColumn('accepted_reason', 'text')
        .addColumn('accepted_until', 'text')
        .addColumn('accepted_at', 'text')
        .addUniqueConstraint('security_findings_repository_fingerprint', ['repository', 'fingerprint'])
        .execute();
      await db.schema.createIndex('security_findings_owner').on('security_findings').columns(['owner', 'status']).execute();
      await db.schema.createIndex('security_findings_status_due').on('security_findings').columns(['status', 'due_at']).execute();
      await db.schema.createIndex('security_findings_last_seen').on('security_findings').columns(['last_seen_at', 'id']).execute();
      // The runs in which each finding was seen (its history).
      await db.schema
        .createTable('security_finding_sightings')
        .addColumn('finding_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('seen_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('security_finding_sightings_pk', ['finding_id', 'run_id'])
        .execute();
    },
  },
];
