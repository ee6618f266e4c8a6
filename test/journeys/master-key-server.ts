/**
 * The server of the master-key crash journey, as a real child process: `npm start`'s app, configured
 * from argv and PLINTH_* like src/main.ts, with a 2 s job lease so that a restart after kill -9 takes
 * the killed run over in seconds instead of the default 30. Prints `listening <url>` when ready.
 */
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/kernel/index.js';

const config = parseConfig(process.argv.slice(2), process.env);
const app = await buildApp({ ...config, jobs: { ...config.jobs, leaseMs: 2000 } });
await app.start();
process.stdout.write(`listening ${(await app.listen()).replace('localhost', '127.0.0.1')}\n`);
// Exit with the test that started us, even if it dies without killing us.
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
