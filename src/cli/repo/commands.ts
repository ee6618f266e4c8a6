import type { Command } from 'commander';
import type { RepositoryView } from '../../git/index.js';
import type { Cli } from '../context.js';
import { registerExternalCommands } from './external.js';
import { cloneHint, cloneUrlOf, parseRepositoryArg, repoPath, reposPath, repositoryTable, type RepositoryName } from './model.js';

const authHelp =
  '\ngit authenticates with an API token as the password (any username), e.g.\n' +
  '  git clone http://x:$PLINTH_TOKEN@127.0.0.1:7007/git/team-a/payments.git\n' +
  'Create a token with: plinth token create --name git';

/** `plinth repo create|list|clone-url`. */
export function registerRepoCommands(program: Command, cli: Cli): void {
  const repo = program.command('repo').description('hosted git repositories: create them, list them, clone them').addHelpText('after', authHelp);

  repo
    .command('create')
    .description('create a repository owned by a team (a catalog Group) or by you; creating it again changes nothing')
    .argument('<owner/name>', 'e.g. team-a/payments, or <your username>/scratch for a personal repository', parseRepositoryArg)
    .option('--default-branch <branch>', 'the branch HEAD points at, protected from force-push and deletion (default main)')
    .option('--json', 'print the repository as JSON')
    .action(async (target: RepositoryName, opts: { defaultBranch?: string; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const res = await client.send('POST', reposPath, { body: { ...target, ...(opts.defaultBranch !== undefined ? { defaultBranch: opts.defaultBranch } : {}) } });
      const repository = (await res.json()) as RepositoryView;
      if (opts.json === true) return cli.printJson(repository);
      const cloneUrl = cloneUrlOf(client.server, repository);
      cli.out(res.status === 201 ? `Created repository ${repository.fullName} (default branch ${repository.defaultBranch})` : `Repository ${repository.fullName} already exists (default branch ${repository.defaultBranch})`);
      cli.out(cloneHint(cloneUrl));
    });

  repo
    .command('list')
    .description('list repositories, by owner and name')
    .option('--owner <owner>', 'only this owner’s repositories, e.g. team-a')
    .option('--json', 'print the repositories as a JSON array')
    .action(async (opts: { owner?: string; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const items: RepositoryView[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.json<{ items: RepositoryView[]; nextCursor: string | null }>('GET', reposPath, { query: { owner: opts.owner, limit: '500', cursor } });
        items.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      if (opts.json === true) return cli.printJson(items);
      if (items.length === 0) return cli.out(opts.owner !== undefined ? `No repositories owned by ${opts.owner}.` : 'No repositories yet; create one with: plinth repo create <owner>/<name>');
      cli.out(repositoryTable(items));
    });

  repo
    .command('clone-url')
    .description('print the URL to clone a repository from (checks that it exists)')
    .argument('<owner/name>', 'e.g. team-a/payments', parseRepositoryArg)
    .addHelpText('after', authHelp)
    .action(async (target: RepositoryName, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const repository = await client.json<RepositoryView>('GET', repoPath(target));
      cli.out(cloneUrlOf(client.server, repository));
    });

  registerExternalCommands(repo, cli);
}
