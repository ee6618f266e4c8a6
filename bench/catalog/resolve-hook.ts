/**
 * Module-resolution hook for the server child process, used only when plain Node cannot start
 * `dist/src/main.js`: @backstage/catalog-model's ESM build of `/alpha` imports `lodash/uniqBy` without
 * the `.js` that Node's ESM resolver needs (bundlers and vitest add it). This retries such bare
 * `lodash/<name>` imports with `.js`; nothing else is touched. Registered by register-resolve-hook.ts.
 */
import type { ResolveHook } from 'node:module';

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && /^lodash\/[\w.-]+$/.test(specifier)) return nextResolve(`${specifier}.js`, context);
    throw err;
  }
};
