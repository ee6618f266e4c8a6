import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Environment } from '../delivery/index.js';
import type { Cli } from './context.js';
import { formatTable } from './format.js';
import { parseLabel } from './rollout.js';

const strategies = ['direct', 'canary', 'blueGreen'] as const;

function describeStrategy(e: Environment): string {
  const s = e.strategy;
  if (s.kind === 'canary') return `canary ${s.steps.map((step) => `${step.weightPercent}%${step.approval ? ' (approval)' : ''}`).join(' → ')} → 100%, bake ${s.bakeMs / 1000}s`;
  if (s.kind === 'blueGreen') return `blue/green${s.approval ? ' with approval' : ''}`;
  return 'direct replace after readiness and smoke test';
}

/** `plinth env list|create|delete`. */
export function registerEnvCommands(program: Command, cli: Cli): void {
  const env = program.command('env').description('deployment environments and their rollout strategies');

  env.command('list').description('environments and how releases roll out in each').option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const { items } = await client.json<{ items: Environment[] }>('GET', '/api/delivery/environments');
      if (opts.json === true) return cli.printJson(items);
      cli.out(formatTable(['NAME', 'STRATEGY', 'DESCRIPTION'], items.map((e) => [e.name, describeStrategy(e), e.description])));
    });

  env.command('create').description('create an environment (platform admins)').argument('<name>', 'the environment name (a DNS label)', parseLabel)
    .option('--strategy <kind>', `rollout strategy: ${strategies.join(', ')}`, (v: string) => {
      if (!(strategies as readonly string[]).includes(v)) throw new InvalidArgumentError(`"${v}" is not one of ${strategies.join(', ')}`);
      return v;
    }, 'direct')
    .option('--description <text>', 'what the environment is for', '')
    .action(async (name: string, opts: { strategy: string; description: string }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const created = await client.json<Environment>('POST', '/api/delivery/environments', { body: { name, description: opts.description, strategy: { kind: opts.strategy } } });
      cli.out(`Created environment ${created.name}: ${describeStrategy(created)}`);
    });

  env.command('delete').description('delete an environment with nothing running in it (platform admins)').argument('<name>', 'the environment name', parseLabel)
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      await client.json('DELETE', `/api/delivery/environments/${name}`);
      cli.out(`Deleted environment ${name}`);
    });
}
