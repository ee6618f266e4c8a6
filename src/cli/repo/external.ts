import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CreatedExternalRepository, ExternalRepository } from '../../pipelines/index.js';
import type { Cli } from '../context.js';
import { UsageError } from '../errors.js';
import { formatTable, formatTime } from '../format.js';
import { readPasswordFromStdin } from '../prompt.js';

const basePath = '/api/pipelines/external-repositories';

const parseName = (value: string): string => {
  if (!/^[a-z0-9][a-z0-9._-]{0,99}$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a name; use lowercase letters, digits, ".", "_" or "-"`);
  return value;
};

/** What to paste into the provider's webhook settings, right after registration (the secret is shown once). */
export function webhookInstructions(server: string, created: CreatedExternalRepository): string {
  const { repository, webhookSecret } = created;
  const settings = repository.provider === 'github'
    ? 'GitHub: Settings → Webhooks → Add webhook; content type application/json; secret as above; "Just the push event".'
    : 'GitLab: Settings → Webhooks; "Secret token" as above; trigger "Push events".';
  return [
    `Registered external repository ${repository.name}; its runs are listed as ${repository.repository}`,
    `Webhook URL:    ${server}${repository.webhookPath}`,
    `Webhook secret: ${webhookSecret}`,
    'The secret is shown this once; keep it in the provider’s webhook settings only.',
    settings,
  ].join('\n');
}

export function externalTable(items: readonly ExternalRepository[]): string {
  return formatTable(
    ['NAME', 'PROVIDER', 'CLONE URL', 'BRANCH', 'OWNER', 'CREATED'],
    items.map((r) => [r.name, r.provider, r.cloneUrl, r.defaultBranch, r.ownerRef, formatTime(r.createdAt)]),
  );
}

/** `plinth repo external add|list|remove`: repositories hosted elsewhere whose push webhooks start runs. */
export function registerExternalCommands(repo: Command, cli: Cli): void {
  const external = repo.command('external').description('repositories hosted elsewhere (GitHub, GitLab, any git HTTP server) whose push webhooks start pipeline runs');

  external
    .command('add')
    .description('register a repository; prints the webhook URL and secret (shown once)')
    .argument('<name>', 'a name for it; its runs are listed as external/<name>', parseName)
    .requiredOption('--owner <ref>', 'the owning team, e.g. group:default/team-a')
    .requiredOption('--url <clone-url>', 'https://…, http://… (or file://… for platform admins), without credentials')
    .addOption(new Option('--provider <provider>', 'which webhook dialect the host speaks').choices(['github', 'gitlab']).makeOptionMandatory())
    .option('--default-branch <branch>', 'the branch whose runs may deploy to production (default main)')
    .option('--username <username>', 'the username git presents with the token (e.g. x-access-token on GitHub, oauth2 on GitLab)')
    .option('--token-stdin', 'read the clone token from stdin (never from argv, where other users see it)')
    .option('--json', 'print the repository and secret as JSON')
    .action(async (name: string, opts: { owner: string; url: string; provider: string; defaultBranch?: string; username?: string; tokenStdin?: boolean; json?: boolean }, cmd: Command) => {
      if ((opts.username !== undefined) !== (opts.tokenStdin === true)) throw new UsageError('--username and --token-stdin go together: a private repository needs both, a public one neither');
      const token = opts.tokenStdin === true ? await readPasswordFromStdin(cli.io.stdin) : undefined;
      if (token === '') throw new UsageError('--token-stdin: stdin was empty; pipe the token in, e.g. printf %s "$TOKEN" | plinth repo external add …');
      const { client } = await cli.connect(cmd);
      const body = {
        name, ownerRef: opts.owner, cloneUrl: opts.url, provider: opts.provider,
        ...(opts.defaultBranch !== undefined ? { defaultBranch: opts.defaultBranch } : {}),
        ...(opts.username !== undefined && token !== undefined ? { credentials: { username: opts.username, token } } : {}),
      };
      const created = await client.json<CreatedExternalRepository>('POST', basePath, { body });
      if (opts.json === true) return cli.printJson(created);
      cli.out(webhookInstructions(client.server, created));
    });

  external
    .command('list')
    .description('list external repositories')
    .option('--owner <ref>', 'only this owner’s, e.g. group:default/team-a')
    .option('--json', 'print them as a JSON array')
    .action(async (opts: { owner?: string; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const { items } = await client.json<{ items: ExternalRepository[] }>('GET', basePath, { query: { ownerRef: opts.owner, limit: '500' } });
      if (opts.json === true) return cli.printJson(items);
      if (items.length === 0) return cli.out('No external repositories yet; register one with: plinth repo external add <name> --owner … --url … --provider github');
      cli.out(externalTable(items));
    });

  external
    .command('remove')
    .description('forget a repository, its credentials and its webhook (its runs stay)')
    .argument('<name>', 'the registered name', parseName)
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      await client.json('DELETE', `${basePath}/${encodeURIComponent(name)}`);
      cli.out(`Removed external repository ${name}`);
    });
}
