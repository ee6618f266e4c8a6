/** External repositories: types, input schemas and the pure parts of webhook handling (no I/O). */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { PushedCommit, RefPushedPayload } from '../../git/index.js';
import type { Permission } from '../../kernel/index.js';

export const providers = ['github', 'gitlab'] as const;
/** Which webhook dialect the repository's host speaks. */
export type Provider = (typeof providers)[number];

/** Runs of external repositories are named `external/<name>`, beside hosted `owner/name` ones. */
export const EXTERNAL_OWNER = 'external';
export const externalRepositoryName = (name: string): string => `${EXTERNAL_OWNER}/${name}`;
export const isExternalRepositoryName = (repository: string): boolean => repository.startsWith(`${EXTERNAL_OWNER}/`);

/** A registered repository hosted elsewhere, as served (credentials and webhook secret never leave the layer). */
export interface ExternalRepository {
  id: string;
  name: string;
  /** `external/<name>`: the repository name of its runs and ledger events. */
  repository: string;
  ownerRef: string;
  cloneUrl: string;
  defaultBranch: string;
  provider: Provider;
  /** The username git presents with the token; null when cloning needs no credentials. */
  username: string | null;
  hasToken: boolean;
  /** Path of this repository's webhook under the server's base URL. */
  webhookPath: string;
  createdBy: string;
  createdAt: string;
}

/** What registration answers: the repository, and the webhook secret, shown this once. */
export interface CreatedExternalRepository {
  repository: ExternalRepository;
  webhookSecret: string;
}

export const externalPermissions = {
  read: { name: 'read external repositories', verb: 'read' },
  manage: { name: 'register or remove external repositories', verb: 'write' },
} satisfies Record<string, Permission>;

const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'use 1-100 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit')
  .refine((v) => !v.includes('..') && !v.endsWith('.git'), 'must not contain ".." or end in ".git"');
const ownerRefSchema = z
  .string()
  .max(200)
  .regex(/^(group|user):default\/[a-z0-9][a-z0-9._-]*$/, 'an owner entity ref, e.g. group:default/team-a');
const branchSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!\/|.*\/\/|.*\.\.|.*\/$|.*\.lock$|-)[A-Za-z0-9._/-]+$/, 'a branch name such as main or release/1.x');

/** Where git may clone from: http(s) without credentials in the URL, or file:// (platform admins only). */
export const cloneUrlSchema = z
  .string()
  .max(2000)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 100)}" is not a URL; use https://host/path.git, http://… or file:///path` });
      return;
    }
    if (!['https:', 'http:', 'file:'].includes(url.protocol)) ctx.addIssue({ code: 'custom', message: `${url.protocol} is not supported; use https://, http:// or file://` });
    else if (url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', message: 'must not carry credentials; pass them as credentials.username and credentials.token' });
    else if (url.search !== '' || url.hash !== '') ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
  });

export const CreateExternalRepositoryInput = z.strictObject({
  name: nameSchema,
  ownerRef: ownerRefSchema,
  cloneUrl: cloneUrlSchema,
  defaultBranch: branchSchema.default('main'),
  provider: z.enum(providers),
  credentials: z
    .strictObject({
      username: z.string().min(1).max(200).regex(/^[^\s:]+$/, 'no spaces or ":"'),
      token: z.string().min(1).max(4096).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
    })
    .optional(),
});
export type CreateExternalRepositoryInput = z.infer<typeof CreateExternalRepositoryInput>;

export const ExternalRepositoryView = z.object({
  id: z.string(),
  name: z.string(),
  repository: z.string(),
  ownerRef: z.string(),
  cloneUrl: z.string(),
  defaultBranch: z.string(),
  provider: z.enum(providers),
  username: z.string().nullable(),
  hasToken: z.boolean(),
  webhookPath: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});
export const CreatedExternalRepositoryView = z.object({ repository: ExternalRepositoryView, webhookSecret: z.string() });

export const webhookPathOf = (provider: Provider, id: string): string => `/api/pipelines/webhooks/${provider}/${id}`;

// ---- Webhook authentication -----------------------------------------------------------------------------

const equalBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, compared in constant time. */
export function isValidGithubSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return equalBytes(Buffer.from(header.slice('sha256='.length), 'hex'), expected);
}

/** GitLab: `X-Gitlab-Token` equals the secret; both sides are hashed first so the comparison never leaks the length. */
export function isValidGitlabToken(secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const digest = (v: string) => createHmac('sha256', 'plinth-gitlab-token').update(v).digest();
  return equalBytes(digest(header), digest(secret));
}

/** What the event header says: a push, a ping (GitHub's hello on creation), or something this endpoint ignores. */
export function classifyEvent(provider: Provider, event: string | undefined): 'push' | 'ping' | 'other' {
  if (provider === 'github') return event === 'push' ? 'push' : event === 'ping' ? 'ping' : 'other';
  return event === 'Push Hook' ? 'push' : 'other';
}

// ---- Push payloads ---------------------------------------------------------------------------------------

const sha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'a 40 or 64 hex digit commit id');
const files = z.array(z.string().max(4096)).max(10_000).default([]);
// Providers send many more fields; those are ignored (a foreign payload, not our API).
const WebhookCommit = z.looseObject({
  id: sha,
  message: z.string().max(100_000),
  timestamp: z.string().max(100).refine((v) => !Number.isNaN(Date.parse(v)), 'an ISO-8601 time'),
  author: z.looseObject({ name: z.string().max(500), email: z.string().max(500).default('') }),
  added: files,
  modified: files,
  removed: files,
});
export const WebhookPush = z.looseObject({
  ref: z.string().min(1).max(1000).regex(/^refs\//, 'a full ref such as refs/heads/main'),
  before: sha,
  after: sha,
  commits: z.array(WebhookCommit).max(5000).default([]),
  repository: z.looseObject({}),
  /** GitHub: who pushed. */
  pusher: z.looseObject({ name: z.string().max(500) }).optional(),
  /** GitLab: who pushed, and how many commits in all (the list holds at most 20). */
  user_username: z.string().max(500).optional(),
  total_commits_count: z.number().int().min(0).optional(),
});
export type WebhookPush = z.infer<typeof WebhookPush>;

/** The first problem of a payload, as `field.path: message`. */
export function parseWebhookPush(value: unknown): { ok: true; push: WebhookPush } | { ok: false; problem: string } {
  const parsed = WebhookPush.safeParse(value);
  if (parsed.success) return { ok: true, push: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, problem: `body${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}` };
}

const ZERO = /^0+$/;
const limits = { commitsPerRef: 250, filesPerCommit: 100 };

/**
 * A provider's push as a `git.ref.pushed`-shaped payload: the same fields a hosted push records, so
 * readers of pushes (lead time, test selection) read both alike. Commits newest first, as hosted ones.
 */
export function toRefPushed(repo: Pick<ExternalRepository, 'repository' | 'ownerRef' | 'defaultBranch' | 'provider'>, push: WebhookPush, deliveryId: string): RefPushedPayload {
  const oldSha = ZERO.test(push.before) ? null : push.before;
  const newSha = ZERO.test(push.after) ? null : push.after;
  const newestFirst = [...push.commits].reverse();
  const commits: PushedCommit[] = newestFirst.slice(0, limits.commitsPerRef).map((c) => {
    const changed = [...new Set([...c.added, ...c.modified, ...c.removed])];
    const at = new Date(Date.parse(c.timestamp)).toISOString();
    return {
      sha: c.id, authorName: c.author.name, authorEmail: c.author.email, authoredAt: at, committedAt: at,
      subject: c.message.split('\n')[0]!.slice(0, 1000), files: changed.slice(0, limits.filesPerCommit), filesTruncated: changed.length > limits.filesPerCommit,
    };
  });
  const commitCount = Math.max(push.total_commits_count ?? 0, push.commits.length);
  const who = push.pusher?.name ?? push.user_username ?? 'unknown';
  return {
    pushId: deliveryId,
    repository: repo.repository,
    ownerRef: repo.ownerRef,
    ref: push.ref,
    change: oldSha === null ? 'created' : newSha === null ? 'deleted' : 'updated',
    oldSha,
    newSha,
    isDefaultBranch: push.ref === `refs/heads/${repo.defaultBranch}`,
    pusher: `${repo.provider}:${who.slice(0, 200)}`,
    commits,
    commitCount,
    commitsTruncated: commitCount > commits.length,
  };
}

/** What a webhook delivery came to. */
export type WebhookOutcome =
  | { status: 'pong' }
  | { status: 'ignored'; reason: string }
  | { status: 'accepted'; runId: string | null; reason?: string }
  | { status: 'duplicate'; runId: string | null };

export const WebhookOutcomeView = z.object({ status: z.enum(['pong', 'ignored', 'accepted', 'duplicate']), runId: z.string().nullable().optional(), reason: z.string().optional() });
