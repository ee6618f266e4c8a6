import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { RUNNER_LABEL, runRunnerAgent, RunnerHttpError } from '../pipelines/index.js';
import type { Cli } from './context.js';
import { CliError } from './errors.js';
import { loginHint } from './context.js';

function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
    return n;
  };
}

function labelList(value: string): string[] {
  const labels = value.split(',').map((l) => l.trim()).filter((l) => l !== '');
  for (const l of labels) if (!RUNNER_LABEL.test(l)) throw new InvalidArgumentError(`"${l}" is not a label (lowercase letters, digits, . and -)`);
  return labels;
}

/** `plinth runner`: an external runner that takes pipeline runs from a server until Ctrl-C. */
export function registerRunnerCommand(program: Command, cli: Cli): void {
  program.command('runner').description('run pipelines for a Plinth server on this machine (an external runner); Ctrl-C hands running runs back')
    .option('--token <token>', 'API token of a platform admin (default: PLINTH_TOKEN, then the saved login)')
    .option('--concurrency <n>', 'runs at once', positiveInt(64), 1)
    .option('--labels <list>', 'labels besides the toolchains found here (node, npm, python3, go, cargo…), comma-separated; a run whose plinth.yaml asks for runner labels goes to a runner with all of them', labelList, [])
    .option('--name <name>', 'how the server names this runner (default: the host name)')
    .option('--work-dir <dir>', 'workspaces and caches (default: .plinth-runner)')
    .option('--lease-seconds <s>', 'how long a run stays claimed without a heartbeat (heartbeats come every third of it)', positiveInt(600), 30)
    .action(async (opts: { token?: string; concurrency: number; labels: string[]; name?: string; workDir?: string; leaseSeconds: number }, cmd: Command) => {
      const { target } = await cli.connect(cmd, { requireToken: opts.token === undefined });
      const token = opts.token ?? target.token;
      if (token === undefined) throw new CliError(`no token: pass --token, set PLINTH_TOKEN, or run ${loginHint(target.server)}`);
      const signal = cli.io.interruptSignal();
      signal.addEventListener('abort', () => cli.err('stopping: running runs go back to the queue'));
      try {
        await runRunnerAgent({
          server: target.server, token, name: opts.name ?? cli.io.hostname, labels: opts.labels, concurrency: opts.concurrency,
          workDir: resolve(opts.workDir ?? join(process.cwd(), '.plinth-runner')), leaseSeconds: opts.leaseSeconds, signal,
          say: (line) => cli.out(`${new Date().toISOString()} ${line}`),
        });
      } catch (err) {
        if (err instanceof RunnerHttpError && (err.status === 401 || err.status === 403)) throw new CliError(`the server refused this runner: ${err.message}; a runner needs a platform admin's token with the admin scope`);
        throw err;
      }
    });
}
