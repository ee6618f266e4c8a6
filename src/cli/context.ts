import type { Command } from 'commander';
import { createClient, type Client } from './client.js';
import { credentialsPath, defaultServer, readCredentials, resolveTarget, type Target } from './credentials.js';
import { CliError } from './errors.js';

/** Everything the CLI touches outside itself, so tests can run it in-process. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  homeDir: string;
  hostname: string;
  /**
   * Ctrl-C (and SIGTERM) as an AbortSignal, for commands that stop cleanly instead of dying
   * (`events tail`). Commands that do not ask keep Node's default: Ctrl-C ends the process.
   */
  interruptSignal(): AbortSignal;
}

/** What every command gets: output helpers and the resolved server and client. */
export interface Cli {
  readonly io: CliIo;
  readonly credentialsPath: string;
  /** The target of the running command, once resolved; used to word errors. */
  target: Target | undefined;
  /** Set by a command that finished but must report failure (e.g. an unhealthy server). */
  exitCode: number;
  out(line: string): void;
  err(line: string): void;
  printJson(value: unknown): void;
  /** Resolves --server and the token; unless `requireToken` is false, fails early when there is no token. */
  connect(cmd: Command, options?: { requireToken?: boolean }): Promise<{ target: Target; client: Client }>;
}

/** "plinth login", with --server when the server is not the default one. */
export function loginHint(server: string): string {
  return server === defaultServer ? 'plinth login' : `plinth login --server ${server}`;
}

export function createCli(io: CliIo): Cli {
  const cli: Cli = {
    io,
    credentialsPath: credentialsPath(io.env, io.homeDir),
    target: undefined,
    exitCode: 0,
    out: (line) => void io.stdout.write(`${line}\n`),
    err: (line) => void io.stderr.write(`${line}\n`),
    printJson: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    async connect(cmd, options = {}) {
      const file = await readCredentials(cli.credentialsPath);
      const serverFlag = (cmd.optsWithGlobals() as { server?: string }).server;
      const target = resolveTarget(serverFlag, io.env, file);
      cli.target = target;
      if (options.requireToken !== false && target.token === undefined) {
        throw new CliError(`not logged in to ${target.server}: run ${loginHint(target.server)}`);
      }
      return { target, client: createClient({ server: target.server, token: target.token }) };
    },
  };
  return cli;
}
