/** `plinth resource …`: the resource menu, plans, claims, and deprovisioning from the command line. */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { BackupRecord, ClaimView, ModuleView, Operation, OrphanReport, PlanView } from '../resources/index.js';
import type { Cli } from './context.js';
import { CliError } from './errors.js';
import { formatFields, formatTable } from './format.js';

interface ClaimFlags {
  name: string;
  env: string;
  preset?: string;
  version?: string;
  owner?: string;
  costCenter?: string;
  set: Record<string, unknown>;
  json?: boolean;
  wait?: boolean;
}

/** `--set key=value`, repeatable: the value is read as JSON when it parses (numbers, lists), else as text. */
export function parseSet(pair: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value; got "${pair}"`);
  const raw = pair.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Plain text, e.g. --set region=eu-west.
  }
  return { ...previous, [pair.slice(0, eq)]: value };
}

const body = (module: string, opts: ClaimFlags) => ({
  module,
  name: opts.name,
  environment: opts.env,
  ...(opts.version !== undefined ? { version: opts.version } : {}),
  ...(opts.preset !== undefined ? { preset: opts.preset } : {}),
  inputs: opts.set,
  tags: { ...(opts.owner !== undefined ? { owner: opts.owner } : {}), ...(opts.costCenter !== undefined ? { 'cost-center': opts.costCenter } : {}) },
});

export function formatPlan(plan: PlanView): string[] {
  return [
    `${plan.module}@${plan.version} (${plan.preset}) as ${plan.environment}/${plan.name}, owner ${plan.tags.owner ?? '-'}`,
    'will create:',
    ...plan.creates.map((c) => `  + ${c}`),
    `outputs: ${plan.outputs.join(', ')}`,
    `cost: ${plan.cost.monthly} ${plan.cost.currency}/month`,
    ...plan.warnings.map((w) => `warning: ${w}`),
    plan.decision.allowed ? 'guardrails: allowed' : 'guardrails: REFUSED',
    ...plan.decision.denials.map((d) => `  - ${d.policy}/${d.rule}: ${d.message}`),
  ];
}

function formatClaim(claim: ClaimView): string {
  return formatFields([
    ['id', claim.id],
    ['claim', `${claim.environment}/${claim.name}`],
    ['module', `${claim.module}@${claim.version} (${claim.preset})`],
    ['owner', claim.owner],
    ['phase', claim.phase + (claim.step ? ` (last step: ${claim.step})` : '')],
    ['cost', `${claim.cost.monthly} ${claim.cost.currency}/month`],
    ...Object.entries(claim.outputs).map(([k, v]) => [`  ${k}`, v] as const),
    ...(claim.drift ? [['drift', claim.drift.problems.join('; ')] as const] : []),
    ...(claim.lastError ? [['error', claim.lastError] as const] : []),
  ]);
}

function claimOptions(command: Command): Command {
  return command
    .argument('<module>', 'a module from `plinth resource modules`, e.g. postgres')
    .requiredOption('--name <name>', 'the claim name, e.g. orders-db')
    .requiredOption('--env <environment>', 'the environment, e.g. staging')
    .addOption(new Option('--preset <preset>', 'size preset').choices(['small', 'medium', 'large']))
    .option('--version <range>', 'module version or range (default: the newest)')
    .option('--owner <group>', 'owning team, e.g. group:default/team-a')
    .option('--cost-center <code>', 'cost-center tag, e.g. cc-42')
    .option('--set <key=value>', 'a module input (repeatable); JSON values allowed', parseSet, {})
    .option('--json', 'print JSON');
}

export function registerResourceCommands(program: Command, cli: Cli): void {
  const resource = program.command('resource').description('self-service infrastructure: modules, plans, claims');

  resource
    .command('modules')
    .description('the resource menu: modules, presets and monthly prices')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const { items } = await client.json<{ items: ModuleView[] }>('GET', '/api/resources/modules');
      if (opts.json === true) return cli.printJson(items);
      const price = (m: ModuleView) => (['small', 'medium', 'large'] as const).map((p) => `${p} ${m.cost.monthly[p]}`).join(' / ');
      cli.out(formatTable(['MODULE', 'VERSION', 'PROVIDER', `MONTHLY`, 'NOTE'], items.map((m) => [m.name, m.version, m.provider, `${price(m)} ${m.cost.currency}`, m.deprecation ? `deprecated → ${m.deprecation.successor}` : ''])));
    });

  claimOptions(resource.command('plan').description('show what a claim would create, cost and whether the guardrails allow it; creates nothing')).action(
    async (module: string, opts: ClaimFlags, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const plan = await client.json<PlanView>('POST', '/api/resources/plans', { body: body(module, opts) });
      if (opts.json === true) cli.printJson(plan);
      else for (const line of formatPlan(plan)) cli.out(line);
      if (!plan.decision.allowed) cli.exitCode = 1;
    },
  );

  claimOptions(resource.command('claim').description('claim a resource: plan, admit, provision (with --wait, until ready)'))
    .option('--wait', 'wait until the claim is ready or failed')
    .action(async (module: string, opts: ClaimFlags, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      let { claim } = await client.json<{ claim: ClaimView; plan: PlanView }>('POST', '/api/resources/claims', { body: body(module, opts) });
      const deadline = Date.now() + 5 * 60_000;
      while (opts.wait === true && claim.phase === 'provisioning' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        claim = await client.json<ClaimView>('GET', `/api/resources/claims/${claim.id}`);
      }
      if (opts.json === true) cli.printJson(claim);
      else cli.out(formatClaim(claim));
      if (claim.phase === 'failed') cli.exitCode = 1;
    });

  resource
    .command('list')
    .description('resource claims with their phase and cost')
    .option('--env <environment>', 'only this environment')
    .option('--owner <group>', 'only this team’s')
    .option('--provider <provider>', 'only claims of modules of this provider (postgres, redis, route, …)')
    .option('--json', 'print JSON')
    .action(async (opts: { env?: string; owner?: string; provider?: string; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const items: ClaimView[] = [];
      for (let after: string | undefined; ; ) {
        const page = await client.json<{ items: ClaimView[]; next?: string }>('GET', '/api/resources/claims', { query: { environment: opts.env, owner: opts.owner, provider: opts.provider, after, limit: '500' } });
        items.push(...page.items);
        if (page.next === undefined) break;
        after = page.next;
      }
      if (opts.json === true) return cli.printJson(items);
      cli.out(formatTable(['ENV', 'NAME', 'MODULE', 'PHASE', 'OWNER', 'MONTHLY', 'DRIFT'], items.map((c) => [c.environment, c.name, `${c.module}@${c.version}`, c.phase, c.owner, `${c.cost.monthly} ${c.cost.currency}`, c.drift ? 'yes' : ''])));
    });

  const byName = async (cmd: Command, name: string, env: string) => {
    const { client } = await cli.connect(cmd);
    const { items } = await client.json<{ items: ClaimView[] }>('GET', '/api/resources/claims', { query: { environment: env, name } });
    if (!items[0]) throw new CliError(`no claim ${name} in environment ${env}`);
    return { client, claim: items[0] };
  };

  resource
    .command('show')
    .description('a claim with its outputs (credentials as secret refs), drift and last error')
    .argument('<name>', 'the claim name')
    .requiredOption('--env <environment>', 'its environment')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { env: string; json?: boolean }, cmd: Command) => {
      const { claim } = await byName(cmd, name, opts.env);
      if (opts.json === true) return cli.printJson(claim);
      cli.out(formatClaim(claim));
    });

  /** Posts an operation and, unless --no-wait, follows it until it succeeds or fails. */
  const operate = async (cmd: Command, name: string, opts: { env: string; json?: boolean; wait: boolean }, verb: 'rotate' | 'backup' | 'restore', body?: Record<string, unknown>) => {
    const { client, claim } = await byName(cmd, name, opts.env);
    let op = await client.json<Operation>('POST', `/api/resources/claims/${claim.id}/${verb}`, body === undefined ? {} : { body });
    const deadline = Date.now() + 30 * 60_000;
    while (opts.wait && op.phase === 'queued' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      op = await client.json<Operation>('GET', `/api/resources/claims/${claim.id}/operations/${op.id}`);
    }
    if (opts.json === true) cli.printJson(op);
    else cli.out(`${verb} ${claim.environment}/${claim.name}: ${op.phase}${op.backupId ? ` (backup ${op.backupId})` : ''}${op.detail ? `: ${op.detail}` : ''}${op.error ? `: ${op.error}` : ''}`);
    if (op.phase === 'failed') cli.exitCode = 1;
  };
  const operationCommand = (verb: 'rotate' | 'backup' | 'restore', description: string) =>
    resource
      .command(verb)
      .description(description)
      .argument('<name>', 'the claim name')
      .requiredOption('--env <environment>', 'its environment')
      .option('--no-wait', 'return once the operation is queued')
      .option('--json', 'print JSON');

  operationCommand('rotate', 'new credentials: set on the server and stored as a new secret version; the old ones are revoked after the grace period')
    .option('--grace <seconds>', 'seconds the old credentials keep working (default: the server’s, 1 h)', (v) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a number of seconds');
      return Number(v);
    })
    .action(async (name: string, opts: { env: string; json?: boolean; wait: boolean; grace?: number }, cmd: Command) => operate(cmd, name, opts, 'rotate', opts.grace === undefined ? {} : { graceSeconds: opts.grace }));

  operationCommand('backup', 'take a backup now (pg_dump; RabbitMQ definitions), kept for the module’s retention period')
    .action(async (name: string, opts: { env: string; json?: boolean; wait: boolean }, cmd: Command) => operate(cmd, name, opts, 'backup'));

  operationCommand('restore', 'load a backup into the claim (the newest when --backup is not given); all or nothing')
    .option('--backup <id>', 'a backup id from `plinth resource backups`')
    .action(async (name: string, opts: { env: string; json?: boolean; wait: boolean; backup?: string }, cmd: Command) => operate(cmd, name, opts, 'restore', opts.backup === undefined ? {} : { backupId: opts.backup }));

  resource
    .command('backups')
    .description('backups kept of a claim (this one’s and earlier claims’ of the same name), newest first')
    .argument('<name>', 'the claim name')
    .requiredOption('--env <environment>', 'its environment')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { env: string; json?: boolean }, cmd: Command) => {
      const { client, claim } = await byName(cmd, name, opts.env);
      const { items } = await client.json<{ items: BackupRecord[] }>('GET', `/api/resources/claims/${claim.id}/backups`);
      if (opts.json === true) return cli.printJson(items);
      cli.out(formatTable(['ID', 'KIND', 'TAKEN', 'BYTES', 'KEPT UNTIL'], items.map((b) => [b.id, b.kind, b.createdAt, String(b.bytes), b.expiresAt])));
    });

  resource
    .command('upgrade')
    .description('move a ready claim to another module version, preset or inputs: planned and admitted first (with --dry-run, only the plan)')
    .argument('<name>', 'the claim name')
    .requiredOption('--env <environment>', 'its environment')
    .option('--version <range>', 'module version or range (default: the newest)')
    .addOption(new Option('--preset <preset>', 'size preset').choices(['small', 'medium', 'large']))
    .option('--set <key=value>', 'a module input (repeatable); JSON values allowed; replaces the inputs you set before', parseSet)
    .option('--dry-run', 'print the plan; change nothing')
    .option('--wait', 'wait until the upgrade is applied or failed')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { env: string; version?: string; preset?: string; set?: Record<string, unknown>; dryRun?: boolean; wait?: boolean; json?: boolean }, cmd: Command) => {
      const { client, claim } = await byName(cmd, name, opts.env);
      const request = { ...(opts.version !== undefined ? { version: opts.version } : {}), ...(opts.preset !== undefined ? { preset: opts.preset } : {}), ...(opts.set !== undefined ? { inputs: opts.set } : {}), dryRun: opts.dryRun === true };
      const answer = await client.json<{ plan: PlanView; claim?: ClaimView }>('POST', `/api/resources/claims/${claim.id}/upgrade`, { body: request });
      if (opts.dryRun === true || !answer.claim) {
        if (opts.json === true) cli.printJson(answer.plan);
        else for (const line of formatPlan(answer.plan)) cli.out(line);
        if (!answer.plan.decision.allowed) cli.exitCode = 1;
        return;
      }
      let upgraded = answer.claim;
      const deadline = Date.now() + 5 * 60_000;
      while (opts.wait === true && upgraded.phase === 'provisioning' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        upgraded = await client.json<ClaimView>('GET', `/api/resources/claims/${claim.id}`);
      }
      if (opts.json === true) cli.printJson(upgraded);
      else cli.out(formatClaim(upgraded));
      if (upgraded.phase === 'failed') cli.exitCode = 1;
    });

  resource
    .command('orphans')
    .description('objects on the provider servers named like a claim’s that no claim holds (platform admins); exits 1 when there are any')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const report = await client.json<OrphanReport>('GET', '/api/resources/orphans');
      if (opts.json === true) cli.printJson(report);
      else {
        if (report.items.length === 0) cli.out('no orphans');
        else cli.out(formatTable(['PROVIDER', 'KIND', 'NAME'], report.items.map((o) => [o.provider, o.kind, o.name])));
        for (const u of report.unreachable) cli.err(`${u.provider}: not listed (${u.reason})`);
      }
      if (report.items.length > 0) cli.exitCode = 1;
    });

  resource
    .command('delete')
    .description('deprovision a claim: a final backup is kept for the module’s retention period')
    .argument('<name>', 'the claim name')
    .requiredOption('--env <environment>', 'its environment')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { env: string; json?: boolean }, cmd: Command) => {
      const { client, claim } = await byName(cmd, name, opts.env);
      const deleting = await client.json<ClaimView>('DELETE', `/api/resources/claims/${claim.id}`);
      if (opts.json === true) return cli.printJson(deleting);
      cli.out(`deleting ${deleting.environment}/${deleting.name}: a final backup is taken, then it is removed`);
    });
}
