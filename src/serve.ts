import { buildApp } from './app.js';
import type { Config } from './kernel/index.js';

/** Starts Plinth for `npm start` and `plinth up`: prints how to log in, stops gracefully on Ctrl-C. */
export async function serve(config: Config): Promise<void> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const app = await buildApp(config);
  const { admin } = await app.start();
  const address = await app.listen();
  const url = address.replace(/\/$/, '');
  // One write: the banner arrives whole (no log line lands inside it, a pipe reader sees it at once).
  const banner: string[] = [];
  const line = (text: string) => banner.push(text);
  line('');
  line(`  Plinth is running at ${url}`);
  line(`  Database: ${app.kernel.store.dialect.name === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL'}`);
  if (admin) {
    line('');
    line(`  First start: created the user "${admin.username}".`);
    if (admin.generated) {
      line(`  Password (shown once, now): ${admin.password}`);
      line('  Set PLINTH_ADMIN_PASSWORD before the first start to choose it instead.');
    } else line('  Password: the one in PLINTH_ADMIN_PASSWORD.');
    line(`  Log in at ${url}/login, or: npx plinth login --server ${url} --username ${admin.username}`);
  }
  line('');
  out(banner.join('\n'));

  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      out('Second signal: exiting now; running jobs resume on the next start.');
      process.exit(130);
    }
    out(`${signal}: shutting down (in-flight requests and jobs drain; Ctrl-C again to force)…`);
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
