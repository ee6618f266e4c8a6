import { z } from 'zod';
import { GitCommandError, runGit as runGitClient, type Git } from '../../git/index.js';
import { ConflictError, InputError, NotFoundError, ServiceUnavailableError, type Principal } from '../../kernel/index.js';
import { resolveInside } from '../workspace.js';
import { createTemplateAction } from './registry.js';

/** The host of Plinth's hosted git in RepoUrlPicker values (`plinth?owner=…&repo=…`); the portal's picker offers it by default. */
export const PLINTH_GIT_HOST = 'plinth';

/**
 * Owner and name from a RepoUrlPicker value (`plinth?owner=team-a&repo=payments`). Another host
 * (`github.com?…`, from a template written for another installation) is refused rather than silently
 * published here.
 */
export function parsePlinthRepoUrl(repoUrl: string): { owner: string; name: string } {
  const q = repoUrl.indexOf('?');
  const host = (q < 0 ? repoUrl : repoUrl.slice(0, q)).replace(/^https?:\/\//, '').replace(/\/$/, '');
  if (host !== PLINTH_GIT_HOST) {
    throw new InputError(`repoUrl: host "${host}" is not Plinth's hosted git; publish:plinth publishes to ${PLINTH_GIT_HOST}?owner=<team>&repo=<name> (RepoUrlPicker's allowedHosts: [${PLINTH_GIT_HOST}])`);
  }
  const params = new URLSearchParams(q < 0 ? '' : repoUrl.slice(q + 1));
  const owner = params.get('owner') ?? params.get('organization');
  const name = params.get('repo');
  if (!owner || !name) throw new InputError(`repoUrl: "${repoUrl}" needs owner and repo, as in plinth?owner=team-a&repo=payments`);
  return { owner, name };
}

/** Runs git through the git layer's client; a failure names the command with git's message, tokens masked. */
async function runGit(args: string[], cwd: string, env: Record<string, string>, signal: AbortSignal): Promise<string> {
  try {
    return (await runGitClient(args, { cwd, extraEnv: { GIT_ASKPASS: '', ...env }, signal })).stdout.toString('utf8').trim();
  } catch (err) {
    if (!(err instanceof GitCommandError)) throw err;
    throw new Error(`git ${args[0]} failed: ${err.stderr.replace(/plinth_[A-Za-z0-9_-]+/g, '***').trim().slice(0, 2000)}`);
  }
}

/** True when the repository exists and its default branch has commits: publishing there would be refused. */
async function hasHistory(git: Pick<Git, 'getRepository' | 'resolveRef'>, principal: Principal, owner: string, name: string): Promise<boolean> {
  const repository = await git.getRepository(principal, owner, name).catch((err: unknown) => (err instanceof NotFoundError ? undefined : Promise.reject(err)));
  if (repository === undefined) return false;
  return git.resolveRef(principal, { owner, name, ref: repository.defaultBranch }).then(
    () => true,
    (err: unknown) => (err instanceof NotFoundError ? false : Promise.reject(err)),
  );
}

export function publishActions(git: Pick<Git, 'createRepository' | 'getRepository' | 'resolveRef'>) {
  const publishPlinth = createTemplateAction({
    id: 'publish:plinth',
    description: "Creates a repository on Plinth's hosted git and pushes the workspace as its first commit",
    schema: {
      input: z.strictObject({
        repoUrl: z.string().min(1).max(500).describe('plinth?owner=<group or username>&repo=<name>'),
        description: z.string().max(1000).optional(),
        defaultBranch: z.string().min(1).max(200).default('main'),
        sourcePath: z.string().max(1000).default('.').describe('folder of the workspace to publish'),
        gitCommitMessage: z.string().min(1).max(10_000).default('Initial commit'),
        gitAuthorName: z.string().min(1).max(200).default('Plinth Scaffolder'),
        gitAuthorEmail: z.string().email().max(254).default('scaffolder@plinth.invalid'),
      }),
      output: z.object({ remoteUrl: z.string().url(), repoContentsUrl: z.string().url(), commitHash: z.string() }),
    },
    supportsDryRun: false,
    async preflight({ input, principal }) {
      const { owner, name } = parsePlinthRepoUrl(input.repoUrl);
      if (await hasHistory(git, principal, owner, name)) throw new ConflictError(`repoUrl: repository ${owner}/${name} already exists and has commits; choose another name`);
    },
    async handler(ctx) {
      const input = ctx.input;
      const { owner, name } = parsePlinthRepoUrl(input.repoUrl);
      const base = ctx.serverUrl();
      if (base === undefined || ctx.userToken === undefined) throw new ServiceUnavailableError('publish:plinth needs the server to listen so it can push over smart HTTP');
      const source = await resolveInside(ctx.workspacePath, input.sourcePath, 'sourcePath');
      const { repository, created } = await git.createRepository(ctx.principal, owner, name, { defaultBranch: input.defaultBranch });
      if (!created) {
        const hasCommits = await git.resolveRef(ctx.principal, { owner, name, ref: input.defaultBranch }).then(
          () => true,
          (err: unknown) => (err instanceof NotFoundError ? false : Promise.reject(err)),
        );
        if (hasCommits) throw new ConflictError(`repoUrl: repository ${repository.fullName} already exists and has commits; choose another name`);
      }
      ctx.log(`${created ? 'created' : 'reusing empty'} repository ${repository.fullName}`);
      const env = { GIT_AUTHOR_NAME: input.gitAuthorName, GIT_AUTHOR_EMAIL: input.gitAuthorEmail, GIT_COMMITTER_NAME: input.gitAuthorName, GIT_COMMITTER_EMAIL: input.gitAuthorEmail };
      const remoteUrl = `${base}/git/${repository.owner}/${repository.name}.git`;
      const pushUrl = new URL(remoteUrl);
      pushUrl.username = 'scaffolder';
      pushUrl.password = ctx.userToken;
      await runGit(['init', '--quiet', '-b', input.defaultBranch], source, env, ctx.signal);
      await runGit(['add', '--all'], source, env, ctx.signal);
      await runGit(['commit', '--quiet', '--allow-empty', '-m', input.gitCommitMessage], source, env, ctx.signal);
      const commitHash = await runGit(['rev-parse', 'HEAD'], source, env, ctx.signal);
      await runGit(['push', '--quiet', pushUrl.toString(), `HEAD:refs/heads/${input.defaultBranch}`], source, env, ctx.signal);
      ctx.log(`pushed ${commitHash} to ${remoteUrl} (${input.defaultBranch})`);
      ctx.output('remoteUrl', remoteUrl);
      ctx.output('repoContentsUrl', `${base}/api/git/repos/${repository.owner}/${repository.name}/contents/${input.defaultBranch}`);
      ctx.output('commitHash', commitHash);
    },
  });
  return [publishPlinth];
}
