import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../../test/helpers/dialects.js';
import { runGitClient, startGitTestApp, type GitTestApp } from '../../../test/helpers/git.js';
import { startGitHttpServer, type GitHttpServer } from '../../../test/helpers/git-http-server.js';

// Repositories hosted elsewhere: a second, real git HTTP server (git http-backend behind Basic auth)
// holds the code; signed GitHub- and GitLab-style push webhooks reach Plinth over real HTTP; the
// runner clones from that server with the registered credentials and runs the standard pipeline.

const dialects = await testDialects();
const remoteUser = 'ci-bot';
const remoteToken = 'remote-token-5f4e3d2c1b0a9988';
const wrongToken = 'wrong-token-77aa66bb55cc44dd';
const zero = '0'.repeat(40);

let t: GitTestApp;
let remote: GitHttpServer;
let cloneUrl: string;
let repoDir: string;

interface Created { repository: { id: string; name: string; repository: string; webhookPath: string; hasToken: boolean }; webhookSecret: string }
interface RunBody { id: string; repository: string; ownerRef: string; status: string; sha: string; stages: { name: string; status: string; steps: { name: string; status: string; message: string | null }[] }[] }

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function register(token: string, body: Record<string, unknown>) {
  return t.app.server.inject({ method: 'POST', url: '/api/pipelines/external-repositories', headers: auth(token), payload: body });
}

async function commitAndPush(message: string, file: string) {
  writeFileSync(join(repoDir, file), `${message}\n`);
  for (const args of [['add', '-A'], ['commit', '-q', '-m', message], ['push', '-q', 'origin', 'HEAD:main']]) {
    const r = await runGitClient(args, { cwd: repoDir });
    expect(r.code, r.stderr).toBe(0);
  }
  const out = await runGitClient(['log', '-1', '--format=%H%x00%P%x00%aI%x00%an%x00%ae%x00%s'], { cwd: repoDir });
  const [sha, parent, time, name, email, subject] = out.stdout.trim().split('\0') as [string, string, string, string, string, string];
  return { sha, before: parent || zero, commit: { id: sha, message: subject, timestamp: time, author: { name, email }, added: [file], modified: [], removed: [] } };
}

const pushPayload = (p: Awaited<ReturnType<typeof commitAndPush>>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ref: 'refs/heads/main', before: p.before, after: p.sha, commits: [p.commit], repository: { full_name: 'acme/svc', clone_url: cloneUrl }, pusher: { name: 'ada' }, ...extra });

async function deliverGithub(created: Created, body: string, options: { event?: string; secret?: string; delivery?: string } = {}) {
  const signature = `sha256=${createHmac('sha256', options.secret ?? created.webhookSecret).update(body).digest('hex')}`;
  return fetch(`${t.url}${created.repository.webhookPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': options.event ?? 'push', 'x-hub-signature-256': signature, 'x-github-delivery': options.delivery ?? crypto.randomUUID() },
    body,
  });
}

async function deliverGitlab(created: Created, body: string, token = created.webhookSecret) {
  return fetch(`${t.url}${created.repository.webhookPath}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': token }, body });
}

async function waitForRun(id: string): Promise<RunBody> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const res = await t.app.server.inject({ url: `/api/pipelines/runs/${id}`, headers: auth(t.tokens.vera) });
    const run = res.json() as RunBody;
    if (!['queued', 'running'].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`run ${id} did not finish`);
}

async function runsOf(repository: string): Promise<{ id: string; sha: string }[]> {
  const res = await t.app.server.inject({ url: `/api/pipelines/runs?repository=${repository}&limit=100`, headers: auth(t.tokens.vera) });
  return (res.json() as { items: { id: string; sha: string }[] }).items;
}

async function logText(runId: string): Promise<string> {
  return (await t.app.server.inject({ url: `/api/pipelines/runs/${runId}/logs`, headers: { ...auth(t.tokens.vera), accept: 'text/plain' } })).body;
}

const stepOf = (run: RunBody, name: string) => run.stages.flatMap((s) => s.steps).find((s) => s.name === name);

describe.each(dialects)('external repositories on %s', (dialect) => {
  let github: Created;
  let bad: Created;

  beforeAll(async () => {
    t = await startGitTestApp({ dialect, listen: true });
    remote = await startGitHttpServer({ username: remoteUser, password: remoteToken });
    cloneUrl = await remote.createRepository('svc');
    repoDir = join(t.workDir, 'svc');
    const cloned = await runGitClient(['clone', '-q', remote.authenticatedUrl('svc'), 'svc'], { cwd: t.workDir });
    expect(cloned.code, cloned.stderr).toBe(0);
    // A trivial project with no dependencies, as the other pipeline tests use.
    writeFileSync(join(repoDir, 'package.json'), JSON.stringify({ name: 'svc', version: '1.0.0', private: true, scripts: { build: 'node -e "1"', test: 'node -e "1"', lint: 'node -e "1"' } }));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await remote?.close();
  });

  it('registers a repository for the owner’s team and shows the webhook secret once, never the token', async () => {
    const res = await register(t.tokens.alice, { name: 'svc-gh', ownerRef: 'group:default/team-a', cloneUrl, provider: 'github', credentials: { username: remoteUser, token: remoteToken } });
    expect(res.statusCode, res.body).toBe(201);
    github = res.json() as Created;
    expect(github.webhookSecret.length).toBeGreaterThanOrEqual(40);
    expect(github.repository).toMatchObject({ name: 'svc-gh', repository: 'external/svc-gh', hasToken: true, webhookPath: `/api/pipelines/webhooks/github/${github.repository.id}` });
    expect(res.body).not.toContain(remoteToken);
    const shown = await t.app.server.inject({ url: '/api/pipelines/external-repositories/svc-gh', headers: auth(t.tokens.vera) });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).not.toContain(github.webhookSecret);
    expect(shown.body).not.toContain(remoteToken);
    const listed = await t.app.server.inject({ url: '/api/pipelines/external-repositories?ownerRef=group:default/team-a', headers: auth(t.tokens.vera) });
    expect((listed.json() as { items: { name: string }[] }).items.map((r) => r.name)).toEqual(['svc-gh']);
  });

  it('documents the webhook in the OpenAPI description as needing no API token', async () => {
    const res = await t.app.server.inject({ url: '/api/openapi.json', headers: auth(t.tokens.vera) });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { paths: Record<string, { post?: { security?: unknown[] } }> };
    expect(doc.paths['/api/pipelines/webhooks/{provider}/{id}']?.post?.security).toEqual([]);
  });

  it('refuses bad registrations with the right 4xx', async () => {
    const base = { name: 'other', ownerRef: 'group:default/team-a', cloneUrl, provider: 'github' };
    const cases: [string, Record<string, unknown>, number, RegExp][] = [
      [t.tokens.bob, base, 403, /reserved to its owner group:default\/team-a/],
      [t.tokens.vera, base, 403, /viewers cannot/],
      [t.tokens.alice, { ...base, cloneUrl: cloneUrl.replace('http://', `http://${remoteUser}:${remoteToken}@`) }, 400, /cloneUrl: must not carry credentials/],
      [t.tokens.alice, { ...base, cloneUrl: 'ssh://git@example.com/x.git' }, 400, /ssh: is not supported/],
      [t.tokens.alice, { ...base, cloneUrl: 'file:///etc' }, 403, /reserved to platform admins/],
      [t.tokens.alice, { ...base, provider: 'bitbucket' }, 400, /provider/],
      [t.tokens.alice, { ...base, unknown: 1 }, 400, /unknown/],
      [t.tokens.alice, { ...base, name: 'svc-gh' }, 409, /exists already/],
    ];
    for (const [token, body, status, message] of cases) {
      const res = await register(token, body);
      expect(res.statusCode, res.body).toBe(status);
      expect((res.json() as { error: { message: string } }).error.message).toMatch(message);
    }
    expect((await t.app.server.inject({ method: 'POST', url: '/api/pipelines/external-repositories', payload: base })).statusCode).toBe(401);
    expect((await runsOf('external/other')).length).toBe(0);
  });

  it('runs the pipeline for a signed GitHub push, cloning with the credentials, once per delivery', async () => {
    const push = await commitAndPush('first', 'a.txt');
    const body = pushPayload(push);
    const res = await deliverGithub(github, body, { delivery: 'delivery-1' });
    expect(res.status).toBe(202);
    const outcome = (await res.json()) as { status: string; runId: string };
    expect(outcome.status).toBe('accepted');
    // The same delivery again (GitHub's redeliver): recognised, the same run.
    const again = await deliverGithub(github, body, { delivery: 'delivery-1' });
    expect(await again.json()).toEqual({ status: 'duplicate', runId: outcome.runId });
    const run = await waitForRun(outcome.runId);
    expect(run).toMatchObject({ repository: 'external/svc-gh', ownerRef: 'group:default/team-a', sha: push.sha });
    expect(stepOf(run, 'checkout')?.status).toBe('passed');
    expect(run.stages.find((s) => s.name === 'build')?.status).toBe('passed');
    expect((await runsOf('external/svc-gh')).map((r) => r.id)).toEqual([outcome.runId]);
    // The remote answers nothing without Basic auth, so the passed checkout authenticated; the token is in no log line.
    const log = await logText(outcome.runId);
    expect(log).toContain(`checked out ${push.sha}`);
    expect(log).not.toContain(remoteToken);
    const events = await t.app.server.inject({ url: '/api/events?subject=repository:external/svc-gh&limit=100', headers: auth(t.tokens.admin) });
    const received = (events.json() as { items: { kind: string; payload: Record<string, unknown> }[] }).items.filter((e) => e.kind === 'pipelines.external-push.received');
    expect(received).toHaveLength(1);
    expect(received[0]!.payload).toMatchObject({ pushId: 'delivery-1', repository: 'external/svc-gh', ref: 'refs/heads/main', newSha: push.sha, isDefaultBranch: true, pusher: 'github:ada', commits: [expect.objectContaining({ sha: push.sha, files: ['a.txt'] })] });
  }, 120_000);

  it('lets readers read external runs and only the owning team rerun them', async () => {
    const [run] = await runsOf('external/svc-gh');
    expect((await t.app.server.inject({ method: 'POST', url: `/api/pipelines/runs/${run!.id}/rerun`, headers: auth(t.tokens.bob) })).statusCode).toBe(403);
    const rerun = await t.app.server.inject({ method: 'POST', url: `/api/pipelines/runs/${run!.id}/rerun`, headers: auth(t.tokens.alice) });
    expect(rerun.statusCode).toBe(201);
    expect((await waitForRun((rerun.json() as { id: string }).id)).stages.find((s) => s.name === 'build')?.status).toBe('passed');
  }, 120_000);

  it('refuses wrong signatures, unknown hooks, other events and oversized bodies, and creates no run', async () => {
    const before = (await runsOf('external/svc-gh')).length;
    const push = await commitAndPush('unsigned', 'b.txt');
    const body = pushPayload(push);
    const wrong = await deliverGithub(github, body, { secret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { name: string } }).error.name).toBe('AuthenticationError');
    const unsigned = await fetch(`${t.url}${github.repository.webhookPath}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push' }, body });
    expect(unsigned.status).toBe(401);
    expect((await deliverGithub({ ...github, repository: { ...github.repository, webhookPath: '/api/pipelines/webhooks/github/no-such-hook' } }, body)).status).toBe(404);
    expect((await deliverGitlab({ ...github, repository: { ...github.repository, webhookPath: github.repository.webhookPath.replace('github', 'gitlab') } }, body)).status).toBe(404);
    const ping = await deliverGithub(github, JSON.stringify({ zen: 'Keep it logically awesome.' }), { event: 'ping' });
    expect(ping.status).toBe(200);
    const issue = await deliverGithub(github, body, { event: 'issues' });
    expect(issue.status).toBe(202);
    expect(await issue.json()).toMatchObject({ status: 'ignored' });
    const malformed = await deliverGithub(github, JSON.stringify({ ref: 'main', before: zero, after: push.sha, repository: {} }));
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { message: string } }).error.message).toBe('body.ref: a full ref such as refs/heads/main');
    const huge = await deliverGithub(github, pushPayload(push, { padding: 'x'.repeat(2 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    const deleted = await deliverGithub(github, JSON.stringify({ ref: 'refs/heads/feature', before: push.sha, after: zero, commits: [], repository: {} }));
    expect(await deleted.json()).toMatchObject({ status: 'accepted', runId: null });
    expect((await runsOf('external/svc-gh')).length).toBe(before);
  });

  it('runs the pipeline for a GitLab push with the secret token', async () => {
    const res = await register(t.tokens.admin, { name: 'svc-gl', ownerRef: 'group:default/team-a', cloneUrl, provider: 'gitlab', credentials: { username: remoteUser, token: remoteToken } });
    expect(res.statusCode).toBe(201);
    const gitlab = res.json() as Created;
    const push = await commitAndPush('from gitlab', 'c.txt');
    const body = pushPayload(push, { object_kind: 'push', user_username: 'ada', total_commits_count: 1 });
    expect((await deliverGitlab(gitlab, body, 'wrong')).status).toBe(401);
    const accepted = await deliverGitlab(gitlab, body);
    expect(accepted.status).toBe(202);
    const run = await waitForRun(((await accepted.json()) as { runId: string }).runId);
    expect(run.repository).toBe('external/svc-gl');
    expect(run.stages.find((s) => s.name === 'build')?.status).toBe('passed');
  }, 120_000);

  it('fails the run at checkout with git’s reason when the credential is wrong, and logs no credential', async () => {
    const res = await register(t.tokens.alice, { name: 'svc-bad', ownerRef: 'group:default/team-a', cloneUrl, provider: 'github', credentials: { username: remoteUser, token: wrongToken } });
    bad = res.json() as Created;
    const push = await commitAndPush('bad credentials', 'd.txt');
    const accepted = await deliverGithub(bad, pushPayload(push));
    const run = await waitForRun(((await accepted.json()) as { runId: string }).runId);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'checkout')).toMatchObject({ status: 'failed', message: 'could not check out the commit' });
    const log = await logText(run.id);
    expect(log).toMatch(/\[checkout\] git clone failed: [^]*fatal: Authentication failed for 'http:\/\/127\.0\.0\.1:\d+\/svc\.git\/'/);
    expect(log).not.toContain(wrongToken);
    expect(log).not.toContain(remoteToken);
  }, 60_000);

  it('removes a repository for its owners only; its webhook is gone after', async () => {
    expect((await t.app.server.inject({ method: 'DELETE', url: '/api/pipelines/external-repositories/svc-bad', headers: auth(t.tokens.bob) })).statusCode).toBe(403);
    expect((await t.app.server.inject({ method: 'DELETE', url: '/api/pipelines/external-repositories/svc-bad', headers: auth(t.tokens.alice) })).statusCode).toBe(204);
    expect((await t.app.server.inject({ url: '/api/pipelines/external-repositories/svc-bad', headers: auth(t.tokens.alice) })).statusCode).toBe(404);
    const push = await commitAndPush('after removal', 'e.txt');
    expect((await deliverGithub(bad, pushPayload(push))).status).toBe(404);
    // Its runs stay readable; a rerun fails at checkout and says why.
    const [old] = await runsOf('external/svc-bad');
    const rerun = await t.app.server.inject({ method: 'POST', url: `/api/pipelines/runs/${old!.id}/rerun`, headers: auth(t.tokens.alice) });
    expect(rerun.statusCode).toBe(201);
    const run = await waitForRun((rerun.json() as { id: string }).id);
    expect(run.status).toBe('failed');
    expect(await logText(run.id)).toContain('[checkout] external repository svc-bad is no longer registered; register it again to run its pipelines');
  });
});
