import { readFile, stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { enforcementPoints, findKyvernoTestFiles, runKyvernoTestFile, type Decision, type EnforcementPoint, type ExceptionView, type PolicyView, type TestFileReport } from '../../policy/index.js';
import type { Cli } from '../context.js';
import { CliError } from '../errors.js';
import { readStdin } from '../prompt.js';
import { formatDecision, formatExceptions, formatPolicies, formatReports, parseDuration, totalsOf } from './model.js';

/** The test files a path names: the file itself, or every kyverno-test.yaml below a folder (hidden ones included). */
async function testFilesAt(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`${path}: no such file or directory`, 2);
  }
  if (info.isFile()) return [path];
  const files = await findKyvernoTestFiles(path);
  if (files.length === 0) throw new CliError(`${path}: no kyverno-test.yaml found (hidden .kyverno-test/ folders are searched too)`, 1);
  return files;
}

function parsePoint(value: string): EnforcementPoint {
  if (!(enforcementPoints as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${enforcementPoints.join(', ')}`);
  return value as EnforcementPoint;
}

/** `plinth policy list|check|exceptions` ask the server; `plinth policy test` runs Kyverno test files locally. */
export function registerPolicyCommands(program: Command, cli: Cli): void {
  const policy = program.command('policy').description('guardrails: Kyverno-compatible and CEL policies, exceptions, checks');

  policy
    .command('list')
    .description('every policy with its mode, enforcement points and current violations')
    .option('--json', 'print the policies as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const { items } = await client.json<{ items: PolicyView[] }>('GET', '/api/policy/policies');
      if (opts.json === true) return cli.printJson(items);
      cli.out(formatPolicies(items));
    });

  policy
    .command('check')
    .description('judge the objects of a YAML file (manifests, claims, deploy requests) against every policy at a point; records nothing; exits 1 when denied')
    .argument('<file>', 'a YAML file with one or more documents, or - for standard input')
    .option('--point <point>', `enforcement point: ${enforcementPoints.join(', ')}`, parsePoint, 'deploy' as EnforcementPoint)
    .option('--json', 'print the decisions as JSON')
    .action(async (file: string, opts: { point: EnforcementPoint; json?: boolean }, cmd: Command) => {
      let yaml: string;
      try {
        yaml = file === '-' ? await readStdin(cli.io.stdin) : await readFile(file, 'utf8');
      } catch {
        throw new CliError(`${file}: cannot read the file`, 2);
      }
      const { client } = await cli.connect(cmd);
      const { decisions } = await client.json<{ decisions: Decision[] }>('POST', '/api/policy/check', { body: { point: opts.point, yaml } });
      if (opts.json === true) cli.printJson(decisions);
      else for (const decision of decisions) for (const line of formatDecision(decision)) cli.out(line);
      if (decisions.some((d) => !d.allowed)) cli.exitCode = 1;
    });

  const exceptions = policy.command('exceptions').description('policy exceptions: list them (default), add one, remove one');
  exceptions
    .command('list', { isDefault: true })
    .description('exceptions in force')
    .option('--policy <name>', 'only this policy’s exceptions')
    .option('--all', 'include expired ones')
    .option('--json', 'print the exceptions as JSON')
    .action(async (opts: { policy?: string; all?: boolean; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const { items } = await client.json<{ items: ExceptionView[] }>('GET', '/api/policy/exceptions', { query: { policy: opts.policy, all: opts.all === true ? 'true' : undefined } });
      if (opts.json === true) return cli.printJson(items);
      cli.out(items.length === 0 ? 'No policy exceptions in force.' : formatExceptions(items));
    });
  exceptions
    .command('add')
    .description('grant an exception (platform admins): which policy and rules, for which objects, why, and until when')
    .argument('<policy>', 'the policy name')
    .requiredOption('--reason <text>', 'why the exception is needed (recorded with you as the approver)')
    .option('--rule <name...>', 'only these rules (default: every rule of the policy)')
    .option('--kind <kind...>', 'object kinds it covers (wildcards allowed)')
    .option('--name <name...>', 'object names it covers (wildcards allowed)')
    .option('--namespace <ns...>', 'namespaces it covers (wildcards allowed)')
    .option('--for <duration>', 'how long it lasts: 12h, 7d, 4w (at most 366d)', parseDuration, 7 * 86_400_000)
    .option('--json', 'print the exception as JSON')
    .action(async (policyName: string, opts: { reason: string; rule?: string[]; kind?: string[]; name?: string[]; namespace?: string[]; for: number; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const created = await client.json<ExceptionView>('POST', '/api/policy/exceptions', {
        body: {
          policy: policyName,
          rules: opts.rule,
          match: { kinds: opts.kind, names: opts.name, namespaces: opts.namespace },
          reason: opts.reason,
          expiresAt: new Date(Date.now() + opts.for).toISOString(),
        },
      });
      if (opts.json === true) return cli.printJson(created);
      cli.out(`Exception ${created.id} on ${created.policy} granted until ${created.expiresAt}.`);
    });
  exceptions
    .command('remove')
    .description('withdraw an exception')
    .argument('<id>', 'the exception id (pex-…)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      await client.json('DELETE', `/api/policy/exceptions/${encodeURIComponent(id)}`);
      cli.out(`Exception ${id} withdrawn.`);
    });

  policy
    .command('test')
    .description('run Kyverno test files (kyverno-test.yaml) against the built-in engine, locally; exits 1 when a result differs')
    .argument('<dir>', 'a folder to search for kyverno-test.yaml files, or one such file')
    .option('--json', 'print the reports as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const root = resolve(dir);
      const reports: TestFileReport[] = [];
      for (const file of await testFilesAt(root)) reports.push(await runKyvernoTestFile(file));
      const totals = totalsOf(reports);
      if (opts.json === true) cli.printJson({ ...totals, reports });
      else for (const line of formatReports(reports, (file) => relative(process.cwd(), file) || file)) cli.out(line);
      if (totals.failed > 0) cli.exitCode = 1;
    });
}
