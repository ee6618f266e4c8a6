import { readFile, rm } from 'node:fs/promises';
import type { NewEvent } from '../kernel/index.js';
import { runGit } from './git-process.js';
import {
  LOG_FORMAT,
  parseLogOutput,
  parseRefUpdates,
  pushEventLimits,
  REF_PUSHED,
  repositorySubject,
  type PushedCommit,
  type RefPushedPayload,
  type RefUpdate,
  type Repository,
} from './model/index.js';

/**
 * Reads and deletes the report the post-receive hook wrote for one receive-pack process: the ref
 * updates git applied for that push, with their real old and new values.
 *
 * Why a per-process report rather than comparing the refs before and after receive-pack: two pushes to
 * one repository overlap, and a before/after snapshot would credit one push with the other's updates
 * (or miss them). The hook's stdin lists exactly the updates of its own push, after they are final,
 * and only the server process that spawned git knows the report's path, so nothing needs a callback
 * endpoint or a shared secret, and replicas sharing the data directory cannot mix their pushes.
 */
export async function takePushReport(path: string): Promise<RefUpdate[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // nothing was updated
    throw err;
  }
  await rm(path, { force: true });
  return parseRefUpdates(text);
}

interface CommitList {
  commits: PushedCommit[];
  commitCount: number;
  commitsTruncated: boolean;
}

/** The commits a ref update added: `old..new`, or for a new ref those no other ref reaches. */
async function commitsOf(gitDir: string, update: RefUpdate): Promise<CommitList> {
  if (update.newSha === null) return { commits: [], commitCount: 0, commitsTruncated: false };
  const range = update.oldSha !== null ? [update.newSha, `^${update.oldSha}`] : [update.newSha, '--not', `--exclude=${update.ref}`, '--glob=refs/*'];
  const { commitsPerRef, filesPerCommit } = pushEventLimits;
  const { stdout } = await runGit([
    '--git-dir', gitDir, 'log', '-z', '--no-renames', '--diff-merges=first-parent', '--name-only',
    `--format=${LOG_FORMAT}`, `--max-count=${commitsPerRef + 1}`, ...range, '--',
  ], { maxOutputBytes: 64 * 1024 * 1024 });
  const commits = parseLogOutput(stdout.toString('utf8'), filesPerCommit);
  if (commits.length <= commitsPerRef) return { commits, commitCount: commits.length, commitsTruncated: false };
  const counted = await runGit(['--git-dir', gitDir, 'rev-list', '--count', ...range, '--']);
  return { commits: commits.slice(0, commitsPerRef), commitCount: Number(counted.stdout.toString('utf8').trim()), commitsTruncated: true };
}

/** One `git.ref.pushed` event per updated ref, in the order git applied them. */
export async function buildPushEvents(input: {
  repository: Repository;
  gitDir: string;
  updates: readonly RefUpdate[];
  pushId: string;
  pusher: string;
  onCommitListFailure: (err: unknown, update: RefUpdate) => void;
}): Promise<NewEvent[]> {
  const { repository, gitDir, updates, pushId, pusher } = input;
  const defaultRef = `refs/heads/${repository.defaultBranch}`;
  const events: NewEvent[] = [];
  for (const [index, update] of updates.entries()) {
    let list: CommitList = { commits: [], commitCount: 0, commitsTruncated: update.newSha !== null };
    if (index < pushEventLimits.detailedRefs) {
      try {
        list = await commitsOf(gitDir, update);
      } catch (err) {
        // A ref to a tree or blob (a tag may point anywhere) has no commits; the event still records the update.
        input.onCommitListFailure(err, update);
      }
    }
    const payload: RefPushedPayload = {
      pushId,
      repository: repository.fullName,
      ownerRef: repository.ownerRef,
      ref: update.ref,
      change: update.oldSha === null ? 'created' : update.newSha === null ? 'deleted' : 'updated',
      oldSha: update.oldSha,
      newSha: update.newSha,
      isDefaultBranch: update.ref === defaultRef,
      pusher,
      ...list,
    };
    events.push({ kind: REF_PUSHED, subjects: [repositorySubject(repository.fullName), repository.ownerRef], actor: pusher, payload });
  }
  return events;
}
