/**
 * Test support, a standalone claim worker for crash tests:
 * `node --import tsx src/resources/testing/apply-worker.ts --data-dir D [--database-url U]`.
 * It runs the resources layer's jobs against an already migrated database with a 1 s lease, so a
 * test can SIGKILL it mid-apply and another worker reclaims the job a second later.
 */
import { join } from 'node:path';
import { createKernel, createLogger, parseConfig } from '../../kernel/index.js';
import { createResources } from '../index.js';

const config = parseConfig(process.argv.slice(2), { PLINTH_LOG_LEVEL: 'silent' });
const kernel = await createKernel({ ...config, jobs: { ...config.jobs, workerEnabled: false } }, { logger: createLogger({ level: 'silent', pretty: false }), version: 'test', webDir: join(config.dataDir, 'none') });
const resources = createResources(kernel, {});
await resources.start();
kernel.jobs.startWorker({ concurrency: 2, leaseMs: 1000, pollMs: 50 });
// Exit with the test that started us, even if it dies without killing us.
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.stdout.write('ready\n');
