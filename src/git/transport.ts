import type { Readable, Writable } from 'node:stream';
import { AuthenticationError, newId, principalRef, type Ledger, type Logger, type Principal } from '../kernel/index.js';
import { authorizeOwned } from './access.js';
import type { RepositoryDisk } from './disk.js';
import { gitEnv } from './git-process.js';
import { spawnOffThread } from '../kernel/index.js';
import { basicAuthPassword, gitPermissions, repositoryResource, type GitService, type Repository } from './model/index.js';
import { buildPushEvents, takePushReport } from './push-events.js';

export interface GitOptions {
  /** Largest pack one push may send (git's receive.maxInputSize); default 512 MiB. */
  maxPackBytes?: number;
  /** Largest fetch negotiation request (the "have" lines of a fetch); default 10 MiB, as git http-backend. */
  maxFetchRequestBytes?: number;
}

/** A running `git upload-pack|receive-pack --stateless-rpc` for one HTTP request. */
export interface ServiceProcess {
  repository: Repository;
  stdin: Writable;
  stdout: Readable;
  /** Resolves once git exited and, for a push, its events are in the ledger. Never rejects. */
  done: Promise<{ exitCode: number | null; stderr: string }>;
  kill(): void;
}

/** What the smart HTTP routes need: authentication of git clients and the git processes, policy included. */
export interface GitTransport {
  readonly limits: Required<GitOptions>;
  /** The principal of an `Authorization: Basic` header whose password is an API token. */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Authorizes the principal for the service on the repository and starts git. */
  start(principal: Principal, owner: string, name: string, service: GitService, options: { advertiseRefs: boolean; protocol?: string }): Promise<ServiceProcess>;
}

export interface TransportDeps {
  limits: Required<GitOptions>;
  disk: RepositoryDisk;
  ledger: Ledger;
  log: Logger;
  authenticateToken(secret: string): Promise<Principal>;
  /** The repository, once the principal may read repositories at all (NotFoundError otherwise). */
  readable(principal: Principal, owner: string, name: string): Promise<Repository>;
  /** Tracks running git processes, so the layer can wait for pushes to be recorded when it stops. */
  running: Set<Promise<unknown>>;
}

/** Runs git's transport services for the smart HTTP routes, with Plinth's policy on every process. */
export function createTransport(deps: TransportDeps): GitTransport {
  const { limits, disk, log, running } = deps;

  async function recordPush(repository: Repository, gitDir: string, reportPath: string, principal: Principal) {
    const updates = await takePushReport(reportPath);
    if (updates.length === 0) return;
    const pushId = newId();
    const events = await buildPushEvents({
      repository,
      gitDir,
      updates,
      pushId,
      pusher: principalRef(principal),
      onCommitListFailure: (err, update) => log.warn({ err, repository: repository.fullName, ref: update.ref }, 'could not list the commits of a pushed ref'),
    });
    await deps.ledger.append(events);
    log.info({ repository: repository.fullName, pushId, refs: updates.map((u) => u.ref) }, 'push recorded');
  }

  return {
    limits,
    async authenticate(authorization) {
      const password = basicAuthPassword(authorization);
      if (password === undefined) {
        throw new AuthenticationError('git over HTTP needs an API token as the password (any username), e.g. git clone http://x:$PLINTH_TOKEN@<host>/git/<owner>/<repo>.git');
      }
      if (!password.startsWith('plinth_')) {
        throw new AuthenticationError('the password must be a Plinth API token (plinth_…), not an account password; create one with "plinth token create" or in the portal');
      }
      return deps.authenticateToken(password);
    },

    async start(principal, owner, name, service, options) {
      const repository = await deps.readable(principal, owner, name);
      if (service === 'receive-pack') {
        authorizeOwned(principal, gitPermissions.push, repositoryResource(repository), `${repository.fullName} belongs to ${repository.ownerRef}; only its members and platform admins push to it`);
      }
      const gitDir = await disk.ensure(repository.owner, repository.name, repository.defaultBranch);
      const reportPath = service === 'receive-pack' && !options.advertiseRefs ? disk.newReportPath() : undefined;
      // Policy travels on the command line, not in each repository's config: a changed limit or hook
      // applies to every repository at once, and a repository's own config cannot switch it off.
      // Started off the event loop (see spawn-pool.ts): every clone, fetch and push spawns git here.
      const child = spawnOffThread(
        'git',
        [
          '-c', `core.hooksPath=${disk.hooksDir}`,
          '-c', `receive.maxInputSize=${limits.maxPackBytes}`,
          '-c', 'receive.fsckObjects=true',
          service, '--stateless-rpc', ...(options.advertiseRefs ? ['--advertise-refs'] : []), gitDir,
        ],
        {
          env: gitEnv({
            ...(options.protocol !== undefined ? { GIT_PROTOCOL: options.protocol } : {}),
            ...(reportPath !== undefined ? { PLINTH_PUSH_REPORT: reportPath } : {}),
          }),
          stdin: 'pipe',
        },
      );
      // git closing its end early (a refused pack) or dying shows in its exit code and report; these
      // stream errors carry nothing more, and unhandled they would crash the process.
      child.stdin!.on('error', () => undefined);
      child.stdout.on('error', () => undefined);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-4096);
      });
      const exited = new Promise<number | null>((resolve) => {
        child.once('error', (err: Error) => {
          log.error({ err }, 'could not start git');
          resolve(null);
        });
        child.once('close', (code: number | null) => resolve(code));
      });
      const done = exited.then(async (exitCode) => {
        if (reportPath !== undefined) {
          await recordPush(repository, gitDir, reportPath, principal).catch((err: unknown) =>
            log.error({ err, repository: repository.fullName }, 'a push was accepted but its events could not be recorded'),
          );
        }
        return { exitCode, stderr };
      });
      running.add(done);
      void done.finally(() => running.delete(done));
      return { repository, stdin: child.stdin!, stdout: child.stdout, done, kill: () => void child.kill('SIGKILL') };
    },
  };
}
