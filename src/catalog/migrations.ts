import { sql } from 'kysely';
import type { Migration } from '../kernel/index.js';

export const catalogMigrations: Migration[] = [
  {
    name: '20261126_10_catalog_entities',
    async up(db, ddl) {
      await db.schema
        .createTable('catalog_locations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('entity_ref', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('refreshed_at', 'text')
        .addColumn('problems', 'text', (c) => c.notNull())
        .addUniqueConstraint('catalog_locations_type_target', ['type', 'target'])
        .execute();
      // An integer id keys the search and relation rows: their indexes stay small and inserts fast.
      await ddl
        .addSerialPrimaryKey(db.schema.createTable('catalog_entities'), 'id')
        .addColumn('uid', 'text', (c) => c.notNull().unique())
        .addColumn('entity_ref', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('owner_ref', 'text')
        .addColumn('root_location_id', 'text')
        .addColumn('location_ref', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('problems', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('orphan', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('catalog_entities_kind').on('catalog_entities').columns(['kind', 'entity_ref']).execute();
      await db.schema.createIndex('catalog_entities_root').on('catalog_entities').column('root_location_id').execute();
      await db.schema.createIndex('catalog_entities_updated').on('catalog_entities').columns(['updated_at', 'uid']).execute();
      await db.schema
        .createTable('catalog_relations')
        .addColumn('origin_id', ddl.bigint, (c) => c.notNull())
        .addColumn('source_ref', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('type_lc', 'text', (c) => c.notNull())
        .addColumn('target_ref', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('catalog_relations_origin').on('catalog_relations').column('origin_id').execute();
      await db.schema.createIndex('catalog_relations_source').on('catalog_relations').columns(['source_ref', 'type']).execute();
      await db.schema.createIndex('catalog_relations_target').on('catalog_relations').columns(['type_lc', 'target_ref']).execute();
      await db.schema
        .createTable('catalog_search')
        .addColumn('entity_id', ddl.bigint, (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text')
        .addColumn('original', 'text')
        .execute();
      await db.schema.createIndex('catalog_search_key_value').on('catalog_search').columns(['key', 'value', 'entity_id']).execute();
      await db.schema.createIndex('catalog_search_entity').on('catalog_search').columns(['entity_id', 'key']).execute();
    },
  },
  {
    name: '20261127_10_catalog_relations_source_type',
    async up(db) {
      // Relation filters probe (source_ref, type_lc[, target_ref]) per entity. With only (source_ref, type)
      // beside (type_lc, target_ref), SQLite's planner took the latter for the probe and scanned every
      // relation of the type for each entity (quadratic at 100k entities).
      await db.schema.dropIndex('catalog_relations_source').execute();
      await db.schema.createIndex('catalog_relations_source').on('catalog_relations').columns(['source_ref', 'type_lc', 'target_ref']).execute();
    },
  },
  {
    name: '20261128_10_catalog_search_keys',
    async up(db, ddl) {
      // Search rows name their key by a small integer (issue #3): keys such as
      // `metadata.annotations.backstage.io/managed-by-location` repeated in 2.3 M rows and in both
      // indexes made the (key, value, entity_id) index the largest single cost of ingesting 100,000
      // entities; with integer keys the index and the table shrink by a third.
      await ddl
        .addSerialPrimaryKey(db.schema.createTable('catalog_search_keys'), 'id')
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .execute();
      await db.schema
        .createTable('catalog_search_rows')
        .addColumn('entity_id', ddl.bigint, (c) => c.notNull())
        .addColumn('key_id', 'integer', (c) => c.notNull())
        .addColumn('value', 'text')
        .addColumn('original', 'text')
        .execute();
      await sql`insert into catalog_search_keys (key) select distinct key from catalog_search order by key`.execute(db);
      await sql`insert into catalog_search_rows (entity_id, key_id, value, original)
        select s.entity_id, k.id, s.value, s.original from catalog_search s join catalog_search_keys k on k.key = s.key`.execute(db);
      await db.schema.dropTable('catalog_search').execute();
      await db.schema.alterTable('catalog_search_rows').renameTo('catalog_search').execute();
      await db.schema.createIndex('catalog_search_key_value').on('catalog_search').columns(['key_id', 'value', 'entity_id']).execute();
      await db.schema.createIndex('catalog_search_entity').on('catalog_search').columns(['entity_id', 'key_id']).execute();
    },
  },
  {
    name: '20261129_10_catalog_relations_source_covering',
    async up(db) {
      // Every served entity reads its relations' (type, target_ref) by source_ref. With `type` in the
      // index the read never visits the table: a 50-entity page's SQL took a third less at 100,000
      // entities (issue #3, by-query).
      await db.schema.dropIndex('catalog_relations_source').ifExists().execute();
      await db.schema.createIndex('catalog_relations_source').on('catalog_relations').columns(['source_ref', 'type_lc', 'target_ref', 'type']).execute();
    },
  },
  {
    name: '20261130_10_catalog_search_key_value_statistics',
    async up(db, ddl) {
      // PostgreSQL took `key_id = <spec.type> and value = 'service'` as two independent filters and
      // estimated 1.3 k matching components where there are 36 k: expecting a long walk, it planned a
      // 50-entity page in parallel workers, whose start-up cost 30 ms against a 0.7 ms serial walk (issue #3).
      await ddl.createColumnStatistics(db, 'catalog_search_key_value_stats', 'catalog_search', ['key_id', 'value']);
    },
  },
];
