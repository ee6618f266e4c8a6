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

/** `KEY=VALUE`: the value may hold '=' and be empty. */
function parseAssignment(pair: string): [string, string] {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE; got "${pair}"`);
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}

/** `plinth env list|create|delete|vars|set|unset`. */
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

  env.command('vars').description('an environment\'s variables (what a Score `environment` resource reads)').argument('<name>', 'the environment name', parseLabel).option('--json', 'print them as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const { variables } = await client.json<Environment>('GET', `/api/delivery/environments/${name}`);
      if (opts.json === true) return cli.printJson(variables);
      for (const [key, value] of Object.entries(variables).sort(([a], [b]) => (a < b ? -1 : 1))) cli.out(`${key}=${value}`);
    });

  /** Read, change, write back: the API replaces the variables as a whole. */
  const changeVariables = async (cmd: Command, name: string, change: (variables: Record<string, string>) => void) => {
    const { client } = await cli.connect(cmd);
    const { variables } = await client.json<Environment>('GET', `/api/delivery/environments/${name}`);
    const next = { ...variables };
    change(next);
    await client.json<Environment>('PATCH', `/api/delivery/environments/${name}`, { body: { variables: next } });
    return next;
  };

  env.command('set').description('set variables of an environment (platform admins); running workloads see them at their next deploy').argument('<name>', 'the environment name', parseLabel).argument('<KEY=VALUE...>', 'variables to set')
    .action(async (name: string, pairs: string[], _opts: unknown, cmd: Command) => {
      const assignments = pairs.map(parseAssignment);
      const next = await changeVariables(cmd, name, (variables) => {
        for (const [key, value] of assignments) variables[key] = value;
      });
      cli.out(`Set ${assignments.map(([key]) => key).join(', ')} in ${name} (${Object.keys(next).length} variables)`);
    });

  env.command('unset').description('remove variables from an environment (platform admins)').argument('<name>', 'the environment name', parseLabel).argument('<KEY...>', 'variables to remove')
    .action(async (name: string, keys: string[], _opts: unknown, cmd: Command) => {
      const next = await changeVariables(cmd, name, (variables) => {
        for (const key of keys) delete variables[key];
      });
      cli.out(`Removed ${keys.join(', ')} from ${name} (${Object.keys(next).length} variables)`);
    });

  env.command('delete').description('delete an environment with nothing running in it (platform admins)').argument('<name>', 'the environment name', parseLabel)
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      await client.json('DELETE', `/api/delivery/environments/${name}`);
      cli.out(`Deleted environment ${name}`);
    });
}
