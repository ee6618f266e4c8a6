import { z } from 'zod';
import { isObjectId } from './names.js';

// ---- Pushes -----------------------------------------------------------------------------------

/** Limits on what one push event carries, so a mirror push cannot write a huge ledger row. */
export const pushEventLimits = {
  /** Refs per push described with their commits; further refs get events without commits. */
  detailedRefs: 50,
  commitsPerRef: 250,
  filesPerCommit: 100,
};

export const REF_PUSHED = 'git.ref.pushed';

export const PushedCommit = z.object({
  sha: z.string(),
  authorName: z.string(),
  authorEmail: z.string(),
  /** UTC ISO-8601, comparable with ledger times. */
  authoredAt: z.string(),
  committedAt: z.string(),
  /** First line of the message. */
  subject: z.string(),
  /** Paths changed against the first parent (the whole tree for a root commit). */
  files: z.array(z.string()),
  filesTruncated: z.boolean(),
});
export type PushedCommit = z.infer<typeof PushedCommit>;

/** Payload of `git.ref.pushed`: one event per ref a push updated, appended after the update is final. */
export const RefPushedPayload = z.object({
  /** Shared by the events of one push. */
  pushId: z.string(),
  repository: z.string(),
  ownerRef: z.string(),
  ref: z.string(),
  change: z.enum(['created', 'updated', 'deleted']),
  /** null when the ref was created. */
  oldSha: z.string().nullable(),
  /** null when the ref was deleted. */
  newSha: z.string().nullable(),
  isDefaultBranch: z.boolean(),
  pusher: z.string(),
  /** Commits the push added to this ref (not reachable before), newest first; at most `commitsPerRef`. */
  commits: z.array(PushedCommit),
  commitCount: z.number(),
  commitsTruncated: z.boolean(),
});
export type RefPushedPayload = z.infer<typeof RefPushedPayload>;

/** A push as other layers receive it: the payload plus the ledger's seq (to resume from) and time. */
export type RefPush = RefPushedPayload & { seq: number; time: string };

export interface RefUpdate {
  ref: string;
  oldSha: string | null;
  newSha: string | null;
}

const zeroId = /^0+$/;

/** Parses the `<old> <new> <ref>` lines git hands the post-receive hook; malformed lines are skipped. */
export function parseRefUpdates(text: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const line of text.split('\n')) {
    const [oldSha, newSha, ref, extra] = line.trim().split(' ');
    if (oldSha === undefined || newSha === undefined || ref === undefined || extra !== undefined) continue;
    if (!isObjectId(oldSha) || !isObjectId(newSha) || !/^refs\/[^\s]{1,1000}$/.test(ref)) continue;
    updates.push({ ref, oldSha: zeroId.test(oldSha) ? null : oldSha, newSha: zeroId.test(newSha) ? null : newSha });
  }
  return updates;
}

export const LOG_FORMAT = '%x00%H%x00%aI%x00%cI%x00%an%x00%ae%x00%s';
const headerFields = 6;

/**
 * Parses `git log -z --name-only --format=LOG_FORMAT`. Each commit starts with an empty record (the
 * leading %x00), then six header fields, then its paths (the first prefixed by "\n"); paths are never
 * empty, so the empty record marks a commit boundary without ambiguity.
 */
export function parseLogOutput(output: string, filesPerCommit: number): PushedCommit[] {
  const records = output.split('\0');
  const commits: PushedCommit[] = [];
  let i = 0;
  while (i < records.length) {
    if (records[i] !== '' || i + headerFields >= records.length) {
      i++;
      continue;
    }
    const [sha, authoredAt, committedAt, authorName, authorEmail, subject] = records.slice(i + 1, i + 1 + headerFields) as [string, string, string, string, string, string];
    i += 1 + headerFields;
    const files: string[] = [];
    while (i < records.length && records[i] !== '') {
      files.push(records[i]!.replace(/^\n/, ''));
      i++;
    }
    if (!isObjectId(sha)) continue;
    commits.push({
      sha,
      authorName,
      authorEmail,
      authoredAt: toUtc(authoredAt),
      committedAt: toUtc(committedAt),
      subject,
      files: files.slice(0, filesPerCommit),
      filesTruncated: files.length > filesPerCommit,
    });
  }
  return commits;
}

function toUtc(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString();
}
