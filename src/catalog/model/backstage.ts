import { createRequire } from 'node:module';

/**
 * @backstage/catalog-model, loaded through its CommonJS build: its ESM build imports `lodash/uniqBy`
 * without a file extension, which Node's ESM resolver refuses (tsx and vitest resolve it, `node dist/…`
 * does not). Loaded on first use: it compiles its JSON schemas as it loads (~0.3 s), which a server
 * start need not wait for.
 */
const require = createRequire(import.meta.url);
type CatalogModel = typeof import('@backstage/catalog-model');
type CatalogModelAlpha = typeof import('@backstage/catalog-model/alpha');
let model: CatalogModel | undefined;
let alpha: CatalogModelAlpha | undefined;
export const catalogModel = (): CatalogModel => (model ??= require('@backstage/catalog-model') as CatalogModel);
export const catalogModelAlpha = (): CatalogModelAlpha => (alpha ??= require('@backstage/catalog-model/alpha') as CatalogModelAlpha);
