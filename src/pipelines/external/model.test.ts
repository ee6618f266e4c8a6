import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifyEvent, CreateExternalRepositoryInput, isValidGithubSignature, isValidGitlabToken, parseWebhookPush, toRefPushed } from './model.js';

const a = 'a'.repeat(40);
const b = 'b'.repeat(40);
const zero = '0'.repeat(40);
const repo = { repository: 'external/svc', ownerRef: 'group:default/team-a', defaultBranch: 'main', provider: 'github' as const };
const commit = (id: string, message: string, timestamp: string) => ({ id, message, timestamp, author: { name: 'Ada', email: 'ada@example.com', username: 'ada' }, added: ['a.txt'], modified: ['b.txt', 'a.txt'], removed: [] });

describe('webhook authentication', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const signature = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;

  it('accepts the GitHub HMAC of the exact body and nothing else', () => {
    expect(isValidGithubSignature('s3cret', body, signature)).toBe(true);
    expect(isValidGithubSignature('s3cret', Buffer.from('{"ref":"refs/heads/main" }'), signature)).toBe(false);
    expect(isValidGithubSignature('other', body, signature)).toBe(false);
    expect(isValidGithubSignature('s3cret', body, undefined)).toBe(false);
    expect(isValidGithubSignature('s3cret', body, signature.replace('sha256=', 'sha1='))).toBe(false);
    expect(isValidGithubSignature('s3cret', body, 'sha256=abc')).toBe(false);
  });

  it('accepts the GitLab token only when equal', () => {
    expect(isValidGitlabToken('s3cret', 's3cret')).toBe(true);
    expect(isValidGitlabToken('s3cret', 's3cre')).toBe(false);
    expect(isValidGitlabToken('s3cret', undefined)).toBe(false);
  });

  it('tells pushes from pings and other events', () => {
    expect(classifyEvent('github', 'push')).toBe('push');
    expect(classifyEvent('github', 'ping')).toBe('ping');
    expect(classifyEvent('github', 'issues')).toBe('other');
    expect(classifyEvent('gitlab', 'Push Hook')).toBe('push');
    expect(classifyEvent('gitlab', 'Tag Push Hook')).toBe('other');
    expect(classifyEvent('gitlab', undefined)).toBe('other');
  });
});

describe('push payloads', () => {
  it('maps a GitHub push to the hosted push shape, newest commit first', () => {
    const parsed = parseWebhookPush({ ref: 'refs/heads/main', before: a, after: b, commits: [commit(a, 'first\n\nbody', '2026-01-02T03:04:05+02:00'), commit(b, 'second', '2026-01-02T04:00:00Z')], repository: { full_name: 'acme/svc' }, pusher: { name: 'ada' }, extra: true });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const push = toRefPushed(repo, parsed.push, 'd-1');
    expect(push).toMatchObject({ pushId: 'd-1', repository: 'external/svc', change: 'updated', oldSha: a, newSha: b, isDefaultBranch: true, pusher: 'github:ada', commitCount: 2, commitsTruncated: false });
    expect(push.commits.map((c) => c.sha)).toEqual([b, a]);
    expect(push.commits[1]).toMatchObject({ subject: 'first', authoredAt: '2026-01-02T01:04:05.000Z', files: ['a.txt', 'b.txt'], filesTruncated: false });
  });

  it('reads creation and deletion from the zero sha, and GitLab’s total commit count', () => {
    const created = parseWebhookPush({ ref: 'refs/heads/feature', before: zero, after: b, commits: [], repository: {}, user_username: 'bob', total_commits_count: 40 });
    const deleted = parseWebhookPush({ ref: 'refs/heads/feature', before: b, after: zero, repository: {} });
    if (!created.ok || !deleted.ok) throw new Error('expected valid payloads');
    expect(toRefPushed({ ...repo, provider: 'gitlab' }, created.push, 'd')).toMatchObject({ change: 'created', oldSha: null, isDefaultBranch: false, pusher: 'gitlab:bob', commitCount: 40, commitsTruncated: true });
    expect(toRefPushed(repo, deleted.push, 'd')).toMatchObject({ change: 'deleted', newSha: null });
  });

  it('names the field of a bad payload', () => {
    expect(parseWebhookPush({ ref: 'main', before: a, after: b, repository: {} })).toEqual({ ok: false, problem: 'body.ref: a full ref such as refs/heads/main' });
    expect(parseWebhookPush({ ref: 'refs/heads/main', before: a, after: 'nope', repository: {} })).toEqual({ ok: false, problem: 'body.after: a 40 or 64 hex digit commit id' });
    const bad = parseWebhookPush({ ref: 'refs/heads/main', before: a, after: b, repository: {}, commits: [{ ...commit(a, 'x', 'yesterday') }] });
    expect(bad).toEqual({ ok: false, problem: 'body.commits[0].timestamp: an ISO-8601 time' });
    expect(parseWebhookPush({ ref: 'refs/heads/main', before: a, after: b })).toMatchObject({ ok: false, problem: expect.stringMatching(/^body\.repository: /) });
  });
});

describe('registration input', () => {
  const base = { name: 'svc', ownerRef: 'group:default/team-a', cloneUrl: 'https://git.example.com/acme/svc.git', provider: 'github' };
  const problem = (input: object) => {
    const r = CreateExternalRepositoryInput.safeParse(input);
    return r.success ? undefined : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };

  it('accepts https, http and file URLs and defaults the branch to main', () => {
    expect(CreateExternalRepositoryInput.parse(base).defaultBranch).toBe('main');
    expect(problem({ ...base, cloneUrl: 'http://127.0.0.1:9/x.git' })).toBeUndefined();
    expect(problem({ ...base, cloneUrl: 'file:///srv/git/x.git' })).toBeUndefined();
  });

  it('refuses credentials in the URL, other schemes, bad names and unknown fields', () => {
    expect(problem({ ...base, cloneUrl: 'https://bot:tok@git.example.com/x.git' })).toBe('cloneUrl: must not carry credentials; pass them as credentials.username and credentials.token');
    expect(problem({ ...base, cloneUrl: 'ssh://git@example.com/x.git' })).toBe('cloneUrl: ssh: is not supported; use https://, http:// or file://');
    expect(problem({ ...base, name: 'Team/Svc' })).toMatch(/^name: use 1-100 lowercase letters/);
    expect(problem({ ...base, ownerRef: 'team-a' })).toBe('ownerRef: an owner entity ref, e.g. group:default/team-a');
    expect(problem({ ...base, secret: 'x' })).toMatch(/^: Unrecognized key/);
  });
});
