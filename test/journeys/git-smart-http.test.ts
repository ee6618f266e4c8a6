import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RefPush } from '../../src/git/index.js';
import { testDialects } from '../helpers/dialects.js';
import { cloneUrl, gitClientEnv, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';
import { until } from '../helpers/kernel.js';

// The real `git` client against a real listening Plinth: clone, fetch and push over smart HTTP with API
// tokens, the owning team's rights from the catalog, branch protection, limits, and the push events.

const dialects = await testDialects();
const maxPackBytes = 256 * 1024;

describe.each(dialects)('git over smart HTTP (%s)', (dialect) => {
  let t: GitTestApp;
  let n = 0;

  beforeAll(async () => {
    t = await startGitTestApp({ dialect, listen: true, app: { git: { maxPackBytes } } });
    for (const name of ['svc', 'guarded', 'busy', 'limits', 'traversal']) {
      const res = await fetch(`${t.url}/api/git/repos`, { method: 'POST', headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ owner: 'team-a', name }) });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const url = (token: string | undefined, fullName: string) => cloneUrl(t.url, token, fullName);
  const git = (args: string[], cwd = t.workDir) => runGitClient(args, { cwd, env: undefined });
  async function ok(args: string[], cwd = t.workDir): Promise<string> {
    const result = await git(args, cwd);
    expect(result.code, `git ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result.stdout.trim();
  }
  /** A fresh clone of `fullName` as the token's user. */
  async function clone(token: string, fullName: string): Promise<string> {
    const dir = join(t.workDir, `clone-${++n}`);
    await ok(['clone', '-q', url(token, fullName), dir]);
    return dir;
  }
  async function commit(dir: string, files: Record<string, string>, message: string): Promise<string> {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    await ok(['add', '-A'], dir);
    await ok(['commit', '-q', '-m', message], dir);
    return ok(['rev-parse', 'HEAD'], dir);
  }
  const serverHead = (name: string, ref = 'main') => t.app.git.resolveRef({ kind: 'system', name: 'test' }, { owner: 'team-a', name, ref });
  async function pushEvents(fullName: string): Promise<RefPush[]> {
    const events = await t.app.kernel.ledger.query({ kinds: ['git.ref.pushed'], subject: `repository:${fullName}` }, 1000);
    return events.map((e) => ({ ...(e.payload as unknown as RefPush), seq: e.seq, time: e.time }));
  }
  /** One raw HTTP GET, with the path exactly as given (fetch would normalise "..", even encoded). */
  function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    const { hostname, port } = new URL(t.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, path, headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const basic = (token: string) => ({ authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` });

  it('clones, pushes and fetches with an API token as the password', async () => {
    const mine = await clone(t.tokens.alice, 'team-a/svc');
    await commit(mine, { 'README.md': '# svc\n', 'src/index.js': 'console.log(1)\n' }, 'Start the service');
    const second = await commit(mine, { 'src/index.js': 'console.log(2)\n' }, 'Print two');
    await ok(['push', '-q', 'origin', 'main'], mine);
    expect(await serverHead('svc')).toBe(second);

    // Another user reads; protocol v0 and a URL without ".git" work as well as v2.
    const theirs = await clone(t.tokens.bob, 'team-a/svc');
    expect(await ok(['rev-parse', 'HEAD'], theirs)).toBe(second);
    const v0 = join(t.workDir, `clone-${++n}`);
    await ok(['-c', 'protocol.version=0', 'clone', '-q', url(t.tokens.vera, 'team-a/svc').replace(/\.git$/, ''), v0]);
    expect(await ok(['rev-parse', 'HEAD'], v0)).toBe(second);

    const third = await commit(mine, { 'docs/index.md': 'docs\n' }, 'Document it');
    await ok(['push', '-q', 'origin', 'main'], mine);
    // A hundred local commits make the fetch negotiation (its "have" lines) big enough for git to gzip it.
    // (Newer than the shared history, so the negotiation walks through them before finding common ground.)
    const now = Math.floor(Date.now() / 1000);
    const localCommits = Array.from({ length: 100 }, (_, i) => `commit refs/heads/local-work\ncommitter Ada <ada@example.com> ${now + 60 + i} +0000\ndata 9\nlocal ${String(i).padStart(3, '0')}\n${i === 0 ? `from ${second}\n` : ''}\n`);
    expect((await runGitClient(['fast-import', '--quiet'], { cwd: theirs, input: localCommits.join('') })).code).toBe(0);
    await ok(['checkout', '-q', 'local-work'], theirs);
    const fetched = await runGitClient(['fetch', '-q', 'origin'], { cwd: theirs, env: { ...gitClientEnv(theirs), GIT_TRACE_CURL: '1', GIT_TRACE_CURL_NO_DATA: '1' } });
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stderr).toMatch(/Send header: Content-Encoding: gzip/i);
    expect(await ok(['rev-parse', 'origin/main'], theirs)).toBe(third);
  });

  it('serves a pushed file raw at a branch or commit, to readers only', async () => {
    const contents = (token: string | undefined, path: string) => fetch(`${t.url}/api/git/repos/team-a/svc/contents/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const res = await contents(t.tokens.bob, 'main/src/index.js');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('console.log(2)\n');
    const commitSha = res.headers.get('x-git-commit')!;
    expect(await (await contents(t.tokens.bob, `${commitSha}/README.md`)).text()).toBe('# svc\n');
    expect((await contents(t.tokens.bob, 'main/nope.txt')).status).toBe(404);
    expect((await contents(t.tokens.bob, 'main/src')).status).toBe(400);
    // fetch folds a literal ../ away; encoded, it reaches the route and is refused there.
    expect((await contents(t.tokens.bob, 'main/..%2F..%2Fetc%2Fpasswd')).status).toBe(400);
    expect((await contents(undefined, 'main/README.md')).status).toBe(401);
  });

  it('lets the catalog register a catalog-info.yaml hosted here by its contents URL', async () => {
    const created = await fetch(`${t.url}/api/git/repos`, { method: 'POST', headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ owner: 'team-a', name: 'described' }) });
    expect(created.status).toBe(201);
    const mine = await clone(t.tokens.alice, 'team-a/described');
    await commit(mine, { 'catalog-info.yaml': 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: hosted-svc\nspec:\n  type: service\n  lifecycle: experimental\n  owner: team-a\n' }, 'Describe it');
    await ok(['push', '-q', 'origin', 'HEAD:main'], mine);
    // A member registers it (url locations need no admin): the catalog reads it through the git service.
    const target = `${t.url}/api/git/repos/team-a/described/contents/main/catalog-info.yaml`;
    const res = await fetch(`${t.url}/api/catalog/locations`, { method: 'POST', headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'url', target }) });
    expect(res.status, await res.clone().text()).toBe(201);
    const entity = await fetch(`${t.url}/api/catalog/entities/by-name/component/default/hosted-svc`, { headers: { authorization: `Bearer ${t.tokens.bob}` } });
    expect(entity.status).toBe(200);
    expect(((await entity.json()) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['backstage.io/managed-by-location']).toBe(`url:${target}`);
  });

  it('accepts a gzip-compressed request body', async () => {
    const ls = '0014command=ls-refs\n0000';
    const res = await fetch(`${t.url}/git/team-a/svc.git/git-upload-pack`, {
      method: 'POST',
      headers: { ...basic(t.tokens.bob), 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip', 'git-protocol': 'version=2' },
      body: gzipSync(ls),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    expect(await res.text()).toContain(`${await serverHead('svc')} refs/heads/main`);
  });

  it('records each accepted push in the ledger with its commits, authors and changed files', async () => {
    const events = await pushEvents('team-a/svc');
    expect(events).toHaveLength(2);
    const [created, updated] = events;
    expect(created).toMatchObject({
      repository: 'team-a/svc',
      ownerRef: 'group:default/team-a',
      ref: 'refs/heads/main',
      change: 'created',
      oldSha: null,
      isDefaultBranch: true,
      pusher: 'user:default/alice',
      commitCount: 2,
      commitsTruncated: false,
    });
    expect(created!.commits.map((c) => [c.subject, c.files])).toEqual([
      ['Print two', ['src/index.js']],
      ['Start the service', ['README.md', 'src/index.js']],
    ]);
    expect(created!.commits[0]).toMatchObject({ sha: created!.newSha, authorName: 'Ada Lovelace', authorEmail: 'ada@example.com', authoredAt: expect.stringMatching(/Z$/) });
    expect(updated).toMatchObject({ change: 'updated', oldSha: created!.newSha, commitCount: 1, commits: [{ subject: 'Document it', files: ['docs/index.md'] }] });

    // Other layers follow pushes through the service: history first, then live pushes.
    const seen: RefPush[] = [];
    const subscription = t.app.git.subscribePushes({ afterSeq: 0, repository: 'team-a/svc' }, (push) => seen.push(push));
    await subscription.ready;
    expect(seen.map((p) => p.newSha)).toEqual([created!.newSha, updated!.newSha]);
    const mine = await clone(t.tokens.alice, 'team-a/svc');
    await ok(['checkout', '-q', '-b', 'feature/x'], mine);
    const feature = await commit(mine, { 'x.txt': 'x\n' }, 'Feature x');
    await ok(['push', '-q', 'origin', 'feature/x'], mine);
    await until(() => seen.length === 3);
    subscription.close();
    expect(seen[2]).toMatchObject({ ref: 'refs/heads/feature/x', change: 'created', newSha: feature, isDefaultBranch: false, commits: [{ subject: 'Feature x' }] });
  });

  it('refuses force-pushing and deleting the default branch with a message git prints; other branches are free', async () => {
    const mine = await clone(t.tokens.alice, 'team-a/guarded');
    const base = await commit(mine, { 'a.txt': 'a\n' }, 'Base');
    await ok(['push', '-q', 'origin', 'main'], mine);
    await ok(['commit', '-q', '--amend', '-m', 'Rewritten'], mine);
    const forced = await git(['push', '--force', 'origin', 'main'], mine);
    expect(forced.code).not.toBe(0);
    expect(forced.stderr).toContain('remote: plinth: refusing to force-push main, the default branch');
    expect(forced.stderr).toContain('[remote rejected] main -> main');
    const deleted = await git(['push', 'origin', ':main'], mine);
    expect(deleted.code).not.toBe(0);
    expect(deleted.stderr).toContain('remote: plinth: refusing to delete main, the default branch');
    expect(await serverHead('guarded')).toBe(base);

    // Feature branches may be rebased and removed (the usual review workflow).
    await ok(['checkout', '-q', '-b', 'topic'], mine);
    await commit(mine, { 'b.txt': 'b\n' }, 'Topic');
    await ok(['push', '-q', 'origin', 'topic'], mine);
    await ok(['commit', '-q', '--amend', '-m', 'Topic, rebased'], mine);
    await ok(['push', '-q', '--force', 'origin', 'topic'], mine);
    await ok(['push', '-q', 'origin', ':topic'], mine);
    const events = await pushEvents('team-a/guarded');
    expect(events.map((e) => [e.ref, e.change])).toEqual([
      ['refs/heads/main', 'created'],
      ['refs/heads/topic', 'created'],
      ['refs/heads/topic', 'updated'],
      ['refs/heads/topic', 'deleted'],
    ]);
  });

  it('keeps concurrent pushes apart: one event per accepted ref update, none for the loser of a race', async () => {
    const seed = await clone(t.tokens.alice, 'team-a/busy');
    const base = await commit(seed, { 'base.txt': 'base\n' }, 'Base');
    await ok(['push', '-q', 'origin', 'main'], seed);
    const clones = await Promise.all([0, 1, 2, 3].map(() => clone(t.tokens.alice, 'team-a/busy')));
    const shas = await Promise.all(clones.map(async (dir, i) => {
      await ok(['checkout', '-q', '-b', `branch-${i}`], dir);
      return commit(dir, { [`file-${i}.txt`]: `${i}\n` }, `Work ${i}`);
    }));
    const results = await Promise.all(clones.map((dir, i) => git(['push', 'origin', `branch-${i}`], dir)));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const branchEvents = (await pushEvents('team-a/busy')).filter((e) => e.ref.startsWith('refs/heads/branch-'));
    expect(branchEvents.map((e) => [e.ref, e.newSha, e.commits.map((c) => c.files)]).sort()).toEqual(
      shas.map((sha, i) => [`refs/heads/branch-${i}`, sha, [[`file-${i}.txt`]]]).sort(),
    );

    // Two fast-forwards of main from the same base at once: git updates the ref only from the old value
    // each push saw, so exactly one wins.
    const racers = await Promise.all([0, 1].map(() => clone(t.tokens.alice, 'team-a/busy')));
    await Promise.all(racers.map((dir, i) => commit(dir, { [`race-${i}.txt`]: `${i}\n` }, `Race ${i}`)));
    const raced = await Promise.all(racers.map((dir) => git(['push', 'origin', 'main'], dir)));
    expect(raced.map((r) => r.code === 0).sort()).toEqual([false, true]);
    const mainEvents = (await pushEvents('team-a/busy')).filter((e) => e.ref === 'refs/heads/main');
    expect(mainEvents).toHaveLength(2);
    expect(mainEvents[1]!.oldSha).toBe(base);
    expect(mainEvents[1]!.newSha).toBe(await serverHead('busy'));
  });

  it('answers 401 with a Basic challenge to anonymous clients, passwords and unknown tokens', async () => {
    const anonymous = await rawGet('/git/team-a/svc.git/info/refs?service=git-upload-pack');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="Plinth", charset="UTF-8"');
    expect(anonymous.headers['content-type']).toMatch(/^text\/plain/);
    expect(anonymous.body).toContain('API token as the password');
    // Not even the existence of a repository is told to an anonymous client.
    expect((await rawGet('/git/team-a/no-such-repo.git/info/refs?service=git-upload-pack')).status).toBe(401);

    const password = await git(['clone', new URL(`${t.url}/git/team-a/svc.git`).toString().replace('http://', 'http://alice:alice-password@'), join(t.workDir, `c-${++n}`)]);
    expect(password.code).not.toBe(0);
    expect(password.stderr).toContain('remote: the password must be a Plinth API token');
    const unknown = await git(['clone', url(`plinth_${randomBytes(16).toString('hex')}`, 'team-a/svc'), join(t.workDir, `c-${++n}`)]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('remote: unknown API token');
    expect(unknown.stderr).toContain('Authentication failed');
    const noCredentials = await git(['clone', url(undefined, 'team-a/svc'), join(t.workDir, `c-${++n}`)]);
    expect(noCredentials.code).not.toBe(0);
  });

  it('lets other users read but not push (403 with the reason)', async () => {
    const bobs = await clone(t.tokens.bob, 'team-a/svc');
    await commit(bobs, { 'bob.txt': 'bob\n' }, 'Bob was here');
    const pushed = await git(['push', 'origin', 'main'], bobs);
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toContain('remote: team-a/svc belongs to group:default/team-a; only its members and platform admins push to it');
    const veras = await clone(t.tokens.vera, 'team-a/svc');
    await commit(veras, { 'vera.txt': 'vera\n' }, 'Vera was here');
    expect((await git(['push', 'origin', 'main'], veras)).stderr).toContain('remote: viewers cannot push');

    const readOnly = await fetch(`${t.url}/api/auth/tokens`, { method: 'POST', headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'read-only', scopes: ['read'] }) });
    const { secret } = (await readOnly.json()) as { secret: string };
    const res = await rawGet('/git/team-a/svc.git/info/refs?service=git-receive-pack', basic(secret));
    expect(res.status).toBe(403);
    expect(res.body).toContain('lacks the "write" scope');
    // An admin pushes anywhere.
    const admins = await clone(t.tokens.admin, 'team-a/svc');
    await commit(admins, { 'admin.txt': 'admin\n' }, 'Admin fix');
    await ok(['push', '-q', 'origin', 'main'], admins);
  });

  it('answers 404 for an unknown repository to readers, and the same refusal for both to those who cannot read', async () => {
    const missing = await git(['clone', url(t.tokens.bob, 'team-a/nothing-here'), join(t.workDir, `c-${++n}`)]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('remote: no repository team-a/nothing-here');
    expect(missing.stderr).toContain('not found');

    const created = await fetch(`${t.url}/api/auth/tokens`, { method: 'POST', headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'write-only', scopes: ['write'] }) });
    const { secret } = (await created.json()) as { secret: string };
    const existing = await rawGet('/git/team-a/svc.git/info/refs?service=git-upload-pack', basic(secret));
    const unknown = await rawGet('/git/team-a/nothing-here.git/info/refs?service=git-upload-pack', basic(secret));
    expect([existing.status, unknown.status]).toEqual([403, 403]);
    expect(existing.body).toBe(unknown.body);
  });

  it('refuses path traversal in the owner and repository segments', async () => {
    const auth = basic(t.tokens.admin);
    for (const path of [
      '/git/..%2F..%2Fetc/passwd.git/info/refs?service=git-upload-pack',
      '/git/team-a/..%2F..%2F..%2Fetc.git/info/refs?service=git-upload-pack',
      '/git/%2e%2e/svc.git/info/refs?service=git-upload-pack',
      '/git/team-a/%2e%2e.git/info/refs?service=git-upload-pack',
      '/git/.hooks/pre-receive/info/refs?service=git-upload-pack',
      '/git/team-a/-upload-pack=touch.git/info/refs?service=git-upload-pack',
    ]) {
      const res = await rawGet(path, auth);
      expect(res.status, path).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
    }
    for (const path of ['/git/team-a/../team-a/svc.git/info/refs?service=git-upload-pack', '/git/team-a/svc.git/HEAD', '/git/team-a/svc.git/objects/info/packs']) {
      expect((await rawGet(path, auth)).status, path).toBe(404);
    }
    expect((await rawGet('/git/team-a/svc.git/info/refs', auth)).body).toContain('smart HTTP protocol only');
  });

  it('refuses a pack over the limit with a message git prints, and keeps the repository unchanged', async () => {
    const mine = await clone(t.tokens.alice, 'team-a/limits');
    const base = await commit(mine, { 'small.txt': 'small\n' }, 'Small');
    await ok(['push', '-q', 'origin', 'main'], mine);
    await commit(mine, { 'big.bin': randomBytes(maxPackBytes * 2).toString('base64') }, 'Too big');
    const pushed = await git(['push', 'origin', 'main'], mine);
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toContain('remote: fatal: pack exceeds maximum allowed size');
    expect(pushed.stderr).toContain('[remote rejected] main -> main');
    expect(await serverHead('limits')).toBe(base);
    expect((await pushEvents('team-a/limits')).map((e) => e.change)).toEqual(['created']);
    // The server is fine afterwards.
    await ok(['reset', '-q', '--hard', 'HEAD~1'], mine);
    await commit(mine, { 'next.txt': 'next\n' }, 'Next');
    await ok(['push', '-q', 'origin', 'main'], mine);
  });
});
