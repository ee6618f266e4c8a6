import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../test/helpers/dialects.js';
import { runGitClient, startGitTestApp, type GitTestApp } from '../../test/helpers/git.js';
import type { Principal } from '../kernel/index.js';

const dialects = await testDialects();

describe.each(dialects)('git service (%s)', (dialect) => {
  let t: GitTestApp;
  let admin: Principal;
  let alice: Principal;
  let vera: Principal;
  const system: Principal = { kind: 'system', name: 'test' };
  const reposDir = () => join(t.app.kernel.config.dataDir, 'repos');

  beforeAll(async () => {
    t = await startGitTestApp({ dialect });
    const auth = t.app.kernel.auth;
    [admin, alice, vera] = await Promise.all([auth.authenticateToken(t.tokens.admin), auth.authenticateToken(t.tokens.alice), auth.authenticateToken(t.tokens.vera)]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const createdEvents = async (fullName: string) =>
    (await t.app.kernel.ledger.query({ kinds: ['git.repository.created'], subject: `repository:${fullName}` }, 100)).length;

  it('creating a repository twice changes nothing', async () => {
    const first = await t.app.git.createRepository(alice, 'team-a', 'twice');
    const second = await t.app.git.createRepository(alice, 'team-a', 'twice');
    expect(first.created).toBe(true);
    expect(second).toEqual({ repository: first.repository, created: false });
    expect(first.repository).toMatchObject({ owner: 'team-a', name: 'twice', fullName: 'team-a/twice', ownerRef: 'group:default/team-a', defaultBranch: 'main', createdBy: 'user:default/alice' });
    expect(await createdEvents('team-a/twice')).toBe(1);
    expect(readFileSync(join(reposDir(), 'team-a', 'twice.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
  });

  it('creates a repository once when several callers race to create it', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => t.app.git.createRepository(alice, 'team-a', 'raced', { defaultBranch: 'trunk' })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.repository.createdAt)).size).toBe(1);
    expect(await createdEvents('team-a/raced')).toBe(1);
    expect(readFileSync(join(reposDir(), 'team-a', 'raced.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/trunk\n');
  });

  it('refuses to change the default branch of an existing repository', async () => {
    await t.app.git.createRepository(alice, 'team-a', 'branchy');
    await expect(t.app.git.createRepository(alice, 'team-a', 'branchy', { defaultBranch: 'develop' })).rejects.toMatchObject({ name: 'ConflictError' });
  });

  it('takes the owner from the catalog: a group, the caller’s own name, or a catalog user', async () => {
    expect((await t.app.git.createRepository(alice, 'alice', 'scratch')).repository.ownerRef).toBe('user:default/alice');
    expect((await t.app.git.createRepository(admin, 'team-b', 'by-admin')).repository.ownerRef).toBe('group:default/team-b');
    expect((await t.app.git.createRepository(admin, 'bob', 'for-bob')).repository.ownerRef).toBe('user:default/bob');
    await expect(t.app.git.createRepository(alice, 'nobody', 'x')).rejects.toMatchObject({ name: 'InputError', message: expect.stringContaining('neither your username nor a Group') });
  });

  it('lets only the owning team (and admins) create, and never viewers', async () => {
    await expect(t.app.git.createRepository(alice, 'team-b', 'not-mine')).rejects.toMatchObject({ name: 'NotAllowedError', message: expect.stringContaining('group:default/team-b') });
    await expect(t.app.git.createRepository(vera, 'vera', 'mine')).rejects.toMatchObject({ name: 'NotAllowedError' });
    // An existing repository is not handed out to someone who could not have created it either.
    await expect(t.app.git.createRepository(alice, 'team-b', 'by-admin')).rejects.toMatchObject({ name: 'NotAllowedError' });
  });

  it('refuses names that would leave the repositories folder before touching anything', async () => {
    const before = readdirSync(reposDir()).sort();
    for (const [owner, name] of [['..', 'x'], ['team-a', '..'], ['team-a', '../../etc'], ['team-a/..', 'x'], ['.hooks', 'x'], ['team-a', '-x'], ['team-a', 'a..b']] as const) {
      await expect(t.app.git.createRepository(admin, owner, name), `${owner}/${name}`).rejects.toMatchObject({ name: 'InputError' });
    }
    expect(readdirSync(reposDir()).sort()).toEqual(before);
    await expect(t.app.git.getRepository(admin, '..', 'x')).rejects.toMatchObject({ name: 'InputError' });
  });

  it('deletes only for platform admins; a repository created again under the name starts empty', async () => {
    await t.app.git.createRepository(alice, 'team-a', 'doomed');
    const gitDir = join(reposDir(), 'team-a', 'doomed.git');
    await pushCommit(t.workDir, gitDir, 'main');
    await expect(t.app.git.deleteRepository(alice, 'team-a', 'doomed')).rejects.toMatchObject({ name: 'NotAllowedError' });
    await t.app.git.deleteRepository(admin, 'team-a', 'doomed');
    expect(existsSync(gitDir)).toBe(false);
    await expect(t.app.git.getRepository(alice, 'team-a', 'doomed')).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(t.app.git.deleteRepository(admin, 'team-a', 'doomed')).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(await t.app.kernel.ledger.query({ kinds: ['git.repository.deleted'], subject: 'repository:team-a/doomed' }, 10)).toHaveLength(1);
    await t.app.git.createRepository(alice, 'team-a', 'doomed');
    await expect(t.app.git.resolveRef(alice, { owner: 'team-a', name: 'doomed', ref: 'main' })).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('lists repositories by owner and name, a page at a time', async () => {
    for (const name of ['list-c', 'list-a', 'list-b']) await t.app.git.createRepository(admin, 'team-b', name);
    const all = (await t.app.git.listRepositories(vera, { owner: 'team-b', limit: 500 })).items.map((r) => r.fullName);
    expect(all.filter((n) => n.startsWith('team-b/list-'))).toEqual(['team-b/list-a', 'team-b/list-b', 'team-b/list-c']);
    expect(all).toEqual([...all].sort());
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.app.git.listRepositories(vera, { owner: 'team-b', limit: 2, cursor });
      paged.push(...page.items.map((r) => r.fullName));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(paged).toEqual(all);
    const everyone = (await t.app.git.listRepositories(vera)).items.map((r) => r.owner);
    expect(new Set(everyone)).toEqual(new Set(['alice', 'bob', 'team-a', 'team-b']));
  });

  describe('reading files and folders', () => {
    let head: string;
    beforeAll(async () => {
      await t.app.git.createRepository(alice, 'team-a', 'readme');
      head = await pushCommit(t.workDir, join(reposDir(), 'team-a', 'readme.git'), 'main', { 'README.md': '# Hello\n', 'docs/index.md': 'docs\n', 'docs/big.bin': 'x'.repeat(5000) });
    });

    it('reads a file at a branch or a sha, as any reader (viewers included)', async () => {
      const file = await t.app.git.readFile(vera, { owner: 'team-a', name: 'readme', ref: 'main', path: 'README.md' });
      expect(file).toMatchObject({ commit: head, path: 'README.md', size: 8 });
      expect(file.content.toString()).toBe('# Hello\n');
      expect((await t.app.git.readFile(system, { owner: 'team-a', name: 'readme', ref: head, path: '/docs/index.md' })).content.toString()).toBe('docs\n');
      expect(await t.app.git.resolveRef(system, { owner: 'team-a', name: 'readme', ref: 'refs/heads/main' })).toBe(head);
    });

    it('lists a folder', async () => {
      const root = await t.app.git.readTree(vera, { owner: 'team-a', name: 'readme', ref: 'main' });
      expect(root.entries.map((e) => [e.path, e.type])).toEqual([['README.md', 'blob'], ['docs', 'tree']]);
      const docs = await t.app.git.readTree(vera, { owner: 'team-a', name: 'readme', ref: 'main', path: 'docs' });
      expect(docs.entries.map((e) => [e.path, e.size])).toEqual([['docs/big.bin', 5000], ['docs/index.md', 5]]);
    });

    it('says what is wrong with a read', async () => {
      const at = { owner: 'team-a', name: 'readme' };
      await expect(t.app.git.readFile(vera, { ...at, ref: 'main', path: 'nope.md' })).rejects.toMatchObject({ name: 'NotFoundError' });
      await expect(t.app.git.readFile(vera, { ...at, ref: 'main', path: 'docs' })).rejects.toMatchObject({ name: 'InputError', message: expect.stringContaining('is a folder') });
      await expect(t.app.git.readTree(vera, { ...at, ref: 'main', path: 'README.md' })).rejects.toMatchObject({ name: 'InputError' });
      await expect(t.app.git.readFile(vera, { ...at, ref: 'main', path: '../../../etc/passwd' })).rejects.toMatchObject({ name: 'InputError' });
      await expect(t.app.git.readFile(vera, { ...at, ref: '--output=/tmp/x', path: 'README.md' })).rejects.toMatchObject({ name: 'InputError' });
      await expect(t.app.git.readFile(vera, { ...at, ref: 'no-such-branch', path: 'README.md' })).rejects.toMatchObject({ name: 'NotFoundError' });
      await expect(t.app.git.readFile(vera, { ...at, ref: 'main', path: 'docs/big.bin' }, { maxBytes: 1000 })).rejects.toMatchObject({ name: 'PayloadTooLargeError' });
      await expect(t.app.git.readFile(vera, { owner: 'team-a', name: 'missing', ref: 'main', path: 'README.md' })).rejects.toMatchObject({ name: 'NotFoundError' });
    });
  });
});

/** Commits files in a scratch clone and pushes straight into the bare repository's folder; returns the sha. */
async function pushCommit(workRoot: string, gitDir: string, branch: string, files: Record<string, string> = { 'a.txt': 'a\n' }): Promise<string> {
  const work = join(workRoot, `work-${Math.random().toString(36).slice(2)}`);
  mkdirSync(work);
  const git = async (...args: string[]) => {
    const result = await runGitClient(args, { cwd: work });
    if (result.code !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  await git('init', '-q', '-b', branch);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    writeFileSync(join(work, path), text);
  }
  await git('add', '.');
  await git('commit', '-q', '-m', 'content');
  await git('push', '-q', gitDir, branch);
  return git('rev-parse', 'HEAD');
}
