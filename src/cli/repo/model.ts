/** Pure parts of `plinth repo`: argument parsing and output formatting, unit-tested. */
import { InvalidArgumentError } from 'commander';
import type { RepositoryView } from '../../git/index.js';
import { formatTable, formatTime } from '../format.js';

export const reposPath = '/api/git/repos';

export interface RepositoryName {
  owner: string;
  name: string;
}

const segment = /^[a-z0-9][a-z0-9._-]*$/;

/** `team-a/svc` (a trailing `.git` is accepted) → { owner, name }; the server checks the rest of the rules. */
export function parseRepositoryArg(value: string): RepositoryName {
  const [owner, rawName, extra] = value.trim().split('/');
  const name = rawName?.replace(/\.git$/, '');
  if (owner === undefined || name === undefined || extra !== undefined || !segment.test(owner) || !segment.test(name) || `${owner}/${name}`.includes('..')) {
    throw new InvalidArgumentError(`"${value}" is not a repository; use <owner>/<name> in lowercase, e.g. team-a/payments`);
  }
  return { owner, name };
}

/** The path of one repository under the API. */
export const repoPath = (repo: RepositoryName): string => `${reposPath}/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;

/** The clone URL as seen from this CLI's server URL (which keeps a reverse proxy's path prefix). */
export const cloneUrlOf = (server: string, repo: RepositoryName): string => `${server}/git/${repo.owner}/${repo.name}.git`;

export function repositoryTable(items: readonly RepositoryView[]): string {
  return formatTable(
    ['REPOSITORY', 'DEFAULT BRANCH', 'OWNER', 'CREATED'],
    items.map((r) => [r.fullName, r.defaultBranch, r.ownerRef, formatTime(r.createdAt)]),
  );
}

/** What to run next after creating a repository: clone it with a token as the password. */
export function cloneHint(cloneUrl: string): string {
  const withToken = cloneUrl.replace(/^(https?:\/\/)/, '$1x:$PLINTH_TOKEN@');
  return `Clone it with an API token as the password:\n  git clone ${withToken}`;
}
