import type { Generated } from 'kysely';

/** The catalog's tables; only files in this folder touch them. */
export interface CatalogTables {
  catalog_locations: {
    id: string;
    type: 'file' | 'url';
    target: string;
    entity_ref: string;
    created_by: string;
    created_at: string;
    refreshed_at: string | null;
    problems: string;
  };
  catalog_entities: {
    id: Generated<number>;
    uid: string;
    entity_ref: string;
    kind: string;
    namespace: string;
    name: string;
    owner_ref: string | null;
    root_location_id: string | null;
    location_ref: string;
    body: string;
    problems: string;
    content_hash: string;
    orphan: number;
    created_at: string;
    updated_at: string;
  };
  catalog_relations: { origin_id: number; source_ref: string; type: string; type_lc: string; target_ref: string };
  /** One row per (entity, key, value) of an entity's search projection (model/search-rows.ts). */
  catalog_search: { entity_id: number; key_id: number; value: string | null; original: string | null };
  /** The dictionary of search keys (lowercased dot paths); ids are never reused or changed. */
  catalog_search_keys: { id: Generated<number>; key: string };
}
