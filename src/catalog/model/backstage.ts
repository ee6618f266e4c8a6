import { createRequire } from 'node:module';

/**
 * @backstage/catalog-model, loaded through its CommonJS build: its ESM build imports `lodash/uniqBy`
 * without a file extension, which Node's ESM resolver refuses (tsx and vitest resolve it, `node dist/…`
 * does not).
 */
const require = createRequire(import.meta.url);
export const catalogModel = require('@backstage/catalog-model') as typeof import('@backstage/catalog-model');
export const catalogModelAlpha = require('@backstage/catalog-model/alpha') as typeof import('@backstage/catalog-model/alpha');
