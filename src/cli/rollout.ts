import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { RolloutView } from '../delivery/index.js';
import type { Client } from './client.js';
import type { Cli } from './context.js';
import { CliError } from './errors.js';
import { formatFields, formatTable } from './format.js';

export const rolloutsPath = '/api/delivery/rollouts';
const terminal = new Set(['succeeded', 'rolled-back', 'failed']);

export function parseLabel(value: string): string {
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 63) throw new InvalidArgumentError(`"${value}" is not a service or environment name (a DNS label)`);
  return value;
}

/** One line per rollout state: phase, step, weight and why. */
export function describeRollout(r: RolloutView): string {
  const step = r.stepIndex >= 0 ? ` step ${r.stepIndex + 1}/${r.stepCount}` : '';
  return `${r.service} ${r.version} in ${r.environment}: ${r.phase}${step}, canary weight ${r.weightPercent}%${r.message ? ` — ${r.message}` : ''}`;
}

export async function latestRollout(client: Client, service: string, environment: string): Promise<RolloutView> {
  const { items } = await client.json<{ items: RolloutView[] }>('GET', rolloutsPath, { query: { service, environment, limit: '1' } });
  if (!items[0]) throw new CliError(`service ${service} has no rollout in ${environment}; deploy it with plinth deploy`);
  return items[0];
}

/** Prints each change of a rollout until it finishes; fails (exit 1) unless it succeeded. */
export async function waitForRollout(cli: Cli, client: Client, id: string, pollMs = 500): Promise<RolloutView> {
  let last = '';
  for (;;) {
    const r = await client.json<RolloutView>('GET', `${rolloutsPath}/${id}`);
    const line = describeRollout(r);
    if (line !== last) cli.out(line);
    last = line;
    if (terminal.has(r.phase)) {
      if (r.phase !== 'succeeded') cli.exitCode = 1;
      return r;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** `plinth rollout status|history|promote|abort|pause|resume|approve|undo SERVICE --env E`. */
export function registerRolloutCommands(program: Command, cli: Cli): void {
  const rollout = program.command('rollout').description('progressive delivery: see and steer a service’s rollout in an environment');
  const envOption = ['--env <environment>', 'the environment', parseLabel, 'production'] as const;

  rollout.command('status').description('the latest rollout: phase, step, weight, last analysis').argument('<service>', 'the service', parseLabel)
    .option(...envOption).option('--json', 'print the rollout as JSON')
    .action(async (service: string, opts: { env: string; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const r = await latestRollout(client, service, opts.env);
      if (opts.json === true) return cli.printJson(r);
      const analysis = r.lastAnalysis as { verdict: string; summary: string } | null;
      cli.out(formatFields([
        ['rollout', r.id], ['service', r.service], ['environment', r.environment], ['version', r.version], ['phase', r.phase],
        ['step', r.stepIndex >= 0 ? `${r.stepIndex + 1} of ${r.stepCount}` : '-'], ['canary weight', `${r.weightPercent}%`],
        ['message', r.message ?? '-'], ['analysis', analysis ? `${analysis.verdict}: ${analysis.summary}` : '-'],
        ['approvals', r.approvals.map((a) => `step ${a.step + 1} by ${a.by}`).join(', ') || '-'], ['started', `${r.createdAt} by ${r.createdBy}`],
      ]));
    });

  rollout.command('history').description('a service’s rollouts, newest first').argument('<service>', 'the service', parseLabel)
    .option('--env <environment>', 'only this environment', parseLabel).option('--json', 'print the rollouts as JSON')
    .action(async (service: string, opts: { env?: string; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const { items } = await client.json<{ items: RolloutView[] }>('GET', rolloutsPath, { query: { service, environment: opts.env } });
      if (opts.json === true) return cli.printJson(items);
      if (items.length === 0) return cli.out(`No rollouts of ${service} yet.`);
      cli.out(formatTable(['ROLLOUT', 'ENV', 'VERSION', 'PHASE', 'STARTED', 'MESSAGE'], items.map((r) => [r.id, r.environment, r.version, r.phase, r.createdAt, r.message ?? ''])));
    });

  const commands = [
    ['promote', 'skip the remaining steps: all traffic to the new release'],
    ['abort', 'roll back: all traffic to the stable release, the new one stopped'],
    ['pause', 'hold the rollout at its current weight'],
    ['resume', 'continue a paused rollout'],
    ['approve', 'approve the next step of a rollout waiting at a manual gate'],
  ] as const;
  for (const [command, description] of commands) {
    rollout.command(command).description(description).argument('<service>', 'the service', parseLabel).option(...envOption)
      .option('--wait', 'wait until the rollout finishes')
      .action(async (service: string, opts: { env: string; wait?: boolean }, cmd: Command) => {
        const { client } = await cli.connect(cmd);
        const current = await latestRollout(client, service, opts.env);
        const r = await client.json<RolloutView>('POST', `${rolloutsPath}/${current.id}/${command}`);
        cli.out(`${command}: ${describeRollout(r)}`);
        if (opts.wait === true) await waitForRollout(cli, client, r.id);
      });
  }

  rollout.command('undo').description('abort the rollout in progress, or go back to the release that was stable before the last promotion')
    .argument('<service>', 'the service', parseLabel).option(...envOption).option('--wait', 'wait until it finishes')
    .action(async (service: string, opts: { env: string; wait?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const r = await client.json<RolloutView>('POST', `/api/delivery/services/${service}/environments/${opts.env}/undo`, { timeoutMs: 600_000 });
      cli.out(`undo: ${describeRollout(r)}`);
      if (opts.wait === true) await waitForRollout(cli, client, r.id);
    });
}
