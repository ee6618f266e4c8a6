import type { Command } from 'commander';
import type { Cli } from './context.js';

interface UpOptions {
  port?: string;
  gatewayPort?: string;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  config?: string;
  demo: boolean;
  builtinTemplates: boolean;
  embeddedRunner: boolean;
}

/** The `plinth up` flags back as the argv that the kernel's parseConfig reads. */
export function upArgv(opts: UpOptions): string[] {
  const argv: string[] = [];
  if (opts.port !== undefined) argv.push('--port', opts.port);
  if (opts.gatewayPort !== undefined) argv.push('--gateway-port', opts.gatewayPort);
  if (opts.host !== undefined) argv.push('--host', opts.host);
  if (opts.dataDir !== undefined) argv.push('--data-dir', opts.dataDir);
  if (opts.databaseUrl !== undefined) argv.push('--database-url', opts.databaseUrl);
  if (opts.config !== undefined) argv.push('--config', opts.config);
  if (!opts.demo) argv.push('--no-demo');
  if (!opts.builtinTemplates) argv.push('--no-builtin-templates');
  if (!opts.embeddedRunner) argv.push('--no-embedded-runner');
  return argv;
}

/** `plinth up`: starts the server in this process, as `npm start` does. */
export function registerUpCommand(program: Command, cli: Cli): void {
  program
    .command('up')
    .description('start the Plinth server (same as npm start; Ctrl-C stops it)')
    .option('--port <n>', 'API and portal port (default 7007, or PLINTH_PORT)')
    .option('--gateway-port <n>', 'gateway port for deployed services (default 7080, or PLINTH_GATEWAY_PORT)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1, or PLINTH_HOST)')
    .option('--data-dir <dir>', 'data directory (default .plinth, or PLINTH_DATA_DIR)')
    .option('--database-url <url>', 'postgres:// URL (default: embedded SQLite, or PLINTH_DATABASE_URL)')
    .option('--config <file>', 'settings file (default ./plinth.config.yaml when present, or PLINTH_CONFIG); flags and PLINTH_* variables win over it')
    .option('--no-demo', 'do not load the demo organisation on first start')
    .option('--no-builtin-templates', 'do not register the golden-path templates (node-service, static-site, library)')
    .option('--no-embedded-runner', 'run no pipelines in the server: external runners (plinth runner) take them all (or PLINTH_EMBEDDED_RUNNER=false)')
    .action(async (opts: UpOptions) => {
      // Loaded lazily: only `up` needs the server; the other commands stay quick to start.
      const { parseConfig } = await import('../kernel/index.js');
      const { serve } = await import('../serve.js');
      await serve(parseConfig(upArgv(opts), cli.io.env));
    });
}
