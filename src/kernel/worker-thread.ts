import { Worker } from 'node:worker_threads';

/**
 * Starts the worker module `entry`, given as the compiled `.js` beside its caller
 * (`new URL('./x-worker.js', import.meta.url)`). Running from TypeScript sources (vitest), that file
 * does not exist: the `.ts` beside it is loaded through tsx's loader (a dev dependency), registered in
 * the worker first.
 */
export function startWorkerThread(entry: URL): Worker {
  if (!entry.pathname.endsWith('.js')) throw new Error(`worker entry ${entry.href} must name the compiled .js module`);
  if (!import.meta.url.endsWith('.ts')) return new Worker(entry);
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = entry.href.replace(/\.js$/, '.ts');
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`, { eval: true });
}
