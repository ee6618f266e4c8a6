import type { Catalog } from '../../catalog/index.js';
import type { Git } from '../../git/index.js';
import { catalogActions } from './catalog.js';
import { debugLog, debugWait } from './debug.js';
import { fetchActions } from './fetch.js';
import { fsDelete, fsRename } from './fs.js';
import { publishActions } from './publish.js';
import { createActionRegistry, type ActionRegistry, type TemplateAction } from './registry.js';

export { createActionRegistry, createTemplateAction, actionSchemas, exampleOutput, type ActionRegistry, type ActionContext, type TemplateAction } from './registry.js';

/** The registry with every built-in action. */
export function createBuiltinRegistry(deps: { catalog: Pick<Catalog, 'addLocation' | 'getEntityByRef'>; git: Pick<Git, 'createRepository' | 'getRepository' | 'resolveRef' | 'readTree' | 'readFile'> }): ActionRegistry {
  const registry = createActionRegistry();
  const builtins: TemplateAction<never>[] = [
    ...fetchActions(deps.git),
    fsDelete,
    fsRename,
    debugLog,
    debugWait,
    ...catalogActions(deps.catalog),
    ...publishActions(deps.git),
  ] as unknown as TemplateAction<never>[];
  for (const action of builtins) registry.register(action);
  return registry;
}
