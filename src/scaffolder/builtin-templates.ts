import { join } from 'node:path';
import type { Catalog } from '../catalog/index.js';

/** The Location in `templates/` that lists the golden paths shipped with Plinth. */
export const BUILTIN_TEMPLATES_LOCATION = 'catalog-info.yaml';

/**
 * Registers the golden-path templates (node-service, static-site, library) in the catalog, or refreshes
 * them when already registered: safe on every start, so an upgrade's changed templates show up.
 */
export async function registerBuiltinTemplates(catalog: Pick<Catalog, 'addLocation'>, templatesDir: string): Promise<void> {
  await catalog.addLocation(
    { kind: 'system', name: 'bootstrap' },
    { type: 'file', target: join(templatesDir, BUILTIN_TEMPLATES_LOCATION) },
    { dryRun: false, onConflict: 'refresh' },
  );
}
