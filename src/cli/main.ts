import { readFileSync, realpathSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAdvisoriesCommands } from './advisories.js';
import { registerAuthCommands } from './auth.js';
import { registerCatalogCommands } from './catalog/index.js';
import { registerCreateCommand } from './create.js';
import { registerDeployCommands } from './deploy.js';
import { registerEnvCommands } from './env.js';
import { registerRolloutCommands } from './rollout.js';
import { ApiError, UnreachableError } from './client.js';
import { createCli, loginHint, type Cli, type CliIo } from './context.js';
import { CliError } from './errors.js';
import { registerEventCommands } from './events.js';
import { registerFindingsCommands } from './findings.js';
import { registerPolicyCommands } from './policy/index.js';
import { registerRepoCommands } from './repo/index.js';
import { registerResourceCommands } from './resource.js';
import { registerSecretsCommands } from './secrets.js';
import { registerRunsCommands } from './runs/index.js';
import { registerRunnerCommand } from './runner.js';
import { registerSbomCommand } from './sbom.js';
import { registerScanCommands } from './scan/index.js';
import { registerStatusCommand } from './status.js';
import { registerTokenCommands } from './tokens.js';
import { registerUpCommand } from './up.js';
import { registerVerifyCommand } from './verify.js';

export type { CliIo } from './context.js';

/** Runs one `plinth` invocation and returns its exit code; never throws for expected failures. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const cli = createCli(io);
  const program = new Command('plinth')
    .description('Plinth, the Internal Developer Platform, from the command line')
    .version(readVersion(), '-V, --version')
    .option('--server <url>', 'Plinth server URL (default: PLINTH_URL, then the last login, then http://127.0.0.1:7007)')
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    });
  program.addHelpText(
    'after',
    '\nEnvironment: PLINTH_URL (server), PLINTH_TOKEN (API token, wins over the saved login),\n' +
      'PLINTH_CONFIG_DIR (where credentials.json is kept; default ~/.config/plinth).',
  );
  registerUpCommand(program, cli);
  registerAuthCommands(program, cli);
  registerTokenCommands(program, cli);
  registerStatusCommand(program, cli);
  registerEventCommands(program, cli);
  registerCatalogCommands(program, cli);
  registerPolicyCommands(program, cli);
  registerRepoCommands(program, cli);
  registerResourceCommands(program, cli);
  registerSecretsCommands(program, cli);
  registerRunsCommands(program, cli);
  registerRunnerCommand(program, cli);
  registerScanCommands(program, cli);
  registerFindingsCommands(program, cli);
  registerSbomCommand(program, cli);
  registerAdvisoriesCommands(program, cli);
  registerCreateCommand(program, cli);
  registerDeployCommands(program, cli);
  registerRolloutCommands(program, cli);
  registerEnvCommands(program, cli);
  registerVerifyCommand(program, cli);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return cli.exitCode;
  } catch (err) {
    return reportError(err, cli);
  }
}

/** One line on stderr for every expected failure; a stack trace only for a bug. */
function reportError(err: unknown, cli: Cli): number {
  // Commander has already printed its message (or the help); only the exit code is left.
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof CliError) {
    cli.err(`error: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof UnreachableError) {
    cli.err(`error: ${err.message}`);
    return 1;
  }
  if (err instanceof ApiError) {
    cli.err(`error: ${describeApiError(err, cli)}`);
    return 1;
  }
  const error = err instanceof Error ? err : new Error(String(err));
  // Thrown by the kernel's parseConfig for `plinth up` flags and PLINTH_* variables.
  if (error.name === 'InputError') {
    cli.err(`error: ${error.message}`);
    return 2;
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    cli.err(`error: ${error.message}: choose another port with --port`);
    return 1;
  }
  cli.err(`error: unexpected failure, please report it: ${error.stack ?? error.message}`);
  return 1;
}

function describeApiError(err: ApiError, cli: Cli): string {
  const server = cli.target?.server ?? 'the server';
  if (err.status === 401) {
    if (cli.target?.tokenSource === 'env') return `PLINTH_TOKEN was refused by ${server} (expired or revoked?): ${err.message}`;
    return `not logged in to ${server} (or the token expired): run ${loginHint(server)}`;
  }
  return `${err.message} (${err.name})`;
}

/** The package version, found from this file in both src/cli and dist/src/cli. */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'plinth' && pkg.version !== undefined) return pkg.version;
    } catch {
      // not here; look one directory up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** The process-backed io: real streams, env and signals. */
export function processIo(): CliIo {
  let interrupt: AbortController | undefined;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    homeDir: homedir(),
    hostname: hostname(),
    interruptSignal() {
      if (interrupt === undefined) {
        const controller = new AbortController();
        // The first Ctrl-C stops the command cleanly; a second one while it winds down ends the process.
        const onSignal = (): void => {
          if (controller.signal.aborted) process.exit(130);
          controller.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        interrupt = controller;
      }
      return interrupt.signal;
    },
  };
}

/** The `plinth` command: runs with the process's argv and sets its exit code. */
export async function main(): Promise<void> {
  // `plinth events tail | head` closes stdout early: that is the reader being done, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.exitCode = await run(process.argv.slice(2), processIo());
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

// `node src/cli/main.ts` (through tsx) or `node dist/src/cli/main.js`; bin/plinth.js calls main() itself.
if (isEntryPoint()) await main();
