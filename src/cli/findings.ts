import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { FindingDetail, TrackedFinding } from '../security/index.js';
import { findingSeverities, findingStatuses } from '../security/index.js';
import type { Cli } from './context.js';
import { formatTable } from './format.js';

const findingsPath = '/api/security/findings';

const oneOf = (values: readonly string[], what: string) => (value: string): string => {
  if (!values.includes(value)) throw new InvalidArgumentError(`"${value}" is not a ${what}; use one of ${values.join(', ')}`);
  return value;
};
function parseFindingId(value: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(value)) throw new InvalidArgumentError(`"${value}" is not a finding id (a UUID, as plinth findings list prints it)`);
  return value;
}

const where = (f: TrackedFinding) => (f.package !== null ? `${f.package.name}@${f.package.version}` : `${f.file}${f.line !== null ? `:${f.line}` : ''}`);
const day = (iso: string | null) => (iso === null ? '-' : iso.slice(0, 10));
const row = (f: TrackedFinding) => [f.id, f.severity, f.status + (f.overdue ? ' (overdue)' : ''), f.rule, f.repository, where(f), day(f.dueAt), day(f.lastSeenAt)];

/** `plinth findings list|show`: the security stage's tracked findings. */
export function registerFindingsCommands(program: Command, cli: Cli): void {
  const findings = program.command('findings').description('tracked security findings: what the pipeline’s scans found, by service, severity and status');

  findings.command('list').description('list findings, most severe first, then last seen first')
    .option('--service <owner/name>', 'only this repository’s findings')
    .option('--owner <team>', 'only this team’s findings (team-a or group:default/team-a)')
    .option('--severity <severity>', `only this severity (${findingSeverities.join(', ')})`, oneOf(findingSeverities, 'severity'))
    .option('--status <status>', `only this status (${findingStatuses.join(', ')})`, oneOf(findingStatuses, 'status'))
    .option('--overdue', 'only open findings past their due date')
    .option('--limit <n>', 'at most this many (1-500)', '100')
    .option('--json', 'print the findings as JSON')
    .action(async (opts: { service?: string; owner?: string; severity?: string; status?: string; overdue?: boolean; limit: string; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const page = await client.json<{ items: TrackedFinding[] }>('GET', findingsPath, {
        query: { service: opts.service?.replace(/\.git$/, ''), owner: opts.owner, severity: opts.severity, status: opts.status, overdue: opts.overdue === true ? 'true' : undefined, limit: opts.limit },
      });
      if (opts.json === true) return cli.printJson(page.items);
      if (page.items.length === 0) return cli.out('No findings match.');
      cli.out(formatTable(['ID', 'SEVERITY', 'STATUS', 'RULE', 'SERVICE', 'WHERE', 'DUE', 'LAST SEEN'], page.items.map(row)));
    });

  findings.command('show').description('one finding: where it is, its fix, due date, acceptance and the runs that saw it').argument('<id>', 'the finding id', parseFindingId)
    .option('--json', 'print the finding as JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const f = await client.json<FindingDetail>('GET', `${findingsPath}/${id}`);
      if (opts.json === true) return cli.printJson(f);
      cli.out(`${f.severity} ${f.rule} (${f.scanner}): ${f.status}${f.overdue ? ', overdue' : ''}`);
      cli.out(`  ${f.title}`);
      cli.out(`  service ${f.repository}, owner ${f.owner}`);
      cli.out(`  at ${f.file}${f.line !== null ? `:${f.line}` : ''}${f.package !== null ? `, ${f.package.name}@${f.package.version} (${f.package.fixVersion !== null ? `fixed in ${f.package.fixVersion}` : 'no fix known'})` : ''}`);
      cli.out(`  first seen ${f.firstSeenAt}, last seen ${f.lastSeenAt}${f.dueAt !== null ? `, due ${f.dueAt}` : ''}${f.fixedAt !== null ? `, fixed ${f.fixedAt}` : ''}`);
      if (f.acceptance !== null) cli.out(`  accepted by ${f.acceptance.by} until ${f.acceptance.until}: ${f.acceptance.reason}`);
      cli.out(`  seen in ${f.history.length} run(s)${f.branches.length > 0 ? `; present on ${f.branches.join(', ')}` : ''}`);
      for (const h of f.history) cli.out(`    ${h.seenAt} ${h.runId} ${h.branch} ${h.sha.slice(0, 10)} ${h.severity}`);
    });
}
