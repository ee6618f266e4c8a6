/** A worker for the pool's own test: echoes, fails, or waits until aborted, as the request says. */
import { serveWorkerRequests } from '../worker-pool.js';

export type PoolTestRequest = { echo: string } | { fail: string } | { waitForAbort: true } | { exit: number };

serveWorkerRequests(async (request: PoolTestRequest, signal) => {
  if ('echo' in request) return request.echo.toUpperCase();
  if ('fail' in request) throw new Error(request.fail);
  if ('exit' in request) process.exit(request.exit);
  return new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
});
