/** Unified search: one index that catalog entities, docs pages and later layers' documents feed. */
export { createSearch, entityLocation, type Search, type SearchIndexer, type SearchPage } from './service.js';
export { searchRoutes } from './routes.js';
export type { SearchDocument, SearchResultItem } from './model.js';
