/** The service catalog layer: Backstage-compatible entities, locations, relations and API. */
export { createCatalog, catalogPermissions, type Catalog, type CatalogOptions, type EntityPage } from './service.js';
export { catalogRoutes } from './routes/index.js';
export { catalogMigrations } from './migrations.js';
export { fetchUrlText } from './reader.js';
export type { Entity, EntityRelation, EntityStatusItem, EntityMetadata } from './model/entity.js';
export { ANNOTATION_TECHDOCS_REF, ANNOTATION_SOURCE_LOCATION, ANNOTATION_LOCATION, ANNOTATION_ORPHAN } from './model/entity.js';
export type { CatalogLocation, LocationProblem, StoredEntity } from './model/types.js';
export { refKey, parseRef, type CompoundRef } from './model/refs.js';
export type { FilterNode } from './model/filters.js';
