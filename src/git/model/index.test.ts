import { describe, expect, it } from 'vitest';
import {
  basicAuthPassword,
  branchProblem,
  checkRepositoryPath,
  CreateRepositoryInput,
  GitPathParams,
  gitProtocolOf,
  isProtocolV2,
  ownerProblem,
  parseLogOutput,
  parseLsTree,
  parseRefUpdates,
  parseTreePath,
  pktLine,
  repositoryNameProblem,
  revisionProblem,
} from './index.js';

const sha1 = 'a'.repeat(40);
const sha2 = 'b'.repeat(40);
const zero = '0'.repeat(40);

describe('owner and repository names', () => {
  it('accepts lowercase names with dots, dashes and underscores', () => {
    for (const name of ['svc', 'team-a', 'payments.api', 'a_b', '0day', 'x'.repeat(63)]) expect(ownerProblem(name)).toBeUndefined();
    for (const name of ['svc', 'payments.api', 'my_repo-2', 'x'.repeat(100)]) expect(repositoryNameProblem(name)).toBeUndefined();
  });

  it('refuses anything that could leave the repositories folder or become a git option', () => {
    for (const bad of ['..', '../etc', 'a/b', 'a..b', '.hidden', '-upload-pack=x', 'Team-A', '', ' svc', 'svc ', 'a%2fb', 'a\\b', 'x'.repeat(64)]) {
      expect(ownerProblem(bad), bad).toBeDefined();
    }
    for (const bad of ['..', '../../etc/passwd', 'a/b', 'a..b', '.git', '-x', 'Svc', 'svc.git', 'x'.repeat(101), 'a\0b']) {
      expect(repositoryNameProblem(bad), bad).toBeDefined();
    }
  });

  it('names the failing field', () => {
    expect(() => checkRepositoryPath('..', 'svc')).toThrow(/^owner: /);
    expect(() => checkRepositoryPath('team-a', '..')).toThrow(/^name: /);
    expect(() => checkRepositoryPath('team-a', 'svc')).not.toThrow();
  });

  it('validates the create body strictly', () => {
    expect(CreateRepositoryInput.safeParse({ owner: 'team-a', name: 'svc' }).success).toBe(true);
    expect(CreateRepositoryInput.safeParse({ owner: 'external', name: 'svc' }).error?.issues[0]?.message).toMatch(/is reserved/);
    expect(CreateRepositoryInput.safeParse({ owner: 'team-a', name: 'svc', defaultBranch: 'release/1.x' }).success).toBe(true);
    expect(CreateRepositoryInput.safeParse({ owner: 'team-a', name: 'svc', private: true }).success).toBe(false);
    expect(CreateRepositoryInput.safeParse({ owner: 'team-a', name: 'svc', defaultBranch: '-main' }).success).toBe(false);
  });

  it('takes the repository segment of a git URL with or without .git', () => {
    expect(GitPathParams.parse({ owner: 'team-a', repo: 'svc.git' })).toEqual({ owner: 'team-a', repo: 'svc' });
    expect(GitPathParams.parse({ owner: 'team-a', repo: 'svc' })).toEqual({ owner: 'team-a', repo: 'svc' });
    expect(GitPathParams.safeParse({ owner: 'team-a', repo: '...git' }).success).toBe(false);
    expect(GitPathParams.safeParse({ owner: '..', repo: 'svc.git' }).success).toBe(false);
  });
});

describe('branches, revisions and paths', () => {
  it('accepts branch names git accepts and refuses the rest', () => {
    for (const ok of ['main', 'trunk', 'release/1.x', 'feature_x-2']) expect(branchProblem(ok), ok).toBeUndefined();
    for (const bad of ['-main', 'a..b', 'a//b', 'a/', 'a.lock', 'a/.b', 'a b', 'a~1', 'a^', 'a:b', '@{-1}', '']) expect(branchProblem(bad), bad).toBeDefined();
  });

  it('accepts names, full refs and shas as revisions, but no revision syntax or options', () => {
    for (const ok of ['main', 'HEAD', 'refs/heads/main', 'v1.2.3', sha1]) expect(revisionProblem(ok), ok).toBeUndefined();
    for (const bad of ['--output=/tmp/x', 'main~1', 'main^', 'HEAD:secret', 'main@{1}', 'a..b', '']) expect(revisionProblem(bad), bad).toBeDefined();
  });

  it('normalises tree paths and refuses traversal and control characters', () => {
    expect(parseTreePath('')).toBe('');
    expect(parseTreePath('/')).toBe('');
    expect(parseTreePath('docs/index.md')).toBe('docs/index.md');
    expect(parseTreePath('/docs/')).toBe('docs');
    for (const bad of ['../x', 'a/../b', 'a//b', './a', 'a/\nb', 'a\0b']) expect(() => parseTreePath(bad), bad).toThrow(/^path: /);
  });
});

describe('git output parsing', () => {
  it('parses ls-tree entries with their full paths', () => {
    const output = [
      `100644 blob ${sha1}      12\tREADME.md`,
      `040000 tree ${sha2}       -\tsrc`,
      `160000 commit ${sha1}       -\tvendor lib`,
      `100755 blob ${sha2}       7\twith\ttab`,
    ].join('\0') + '\0';
    expect(parseLsTree(output, 'sub')).toEqual([
      { path: 'sub/README.md', name: 'README.md', type: 'blob', mode: '100644', sha: sha1, size: 12 },
      { path: 'sub/src', name: 'src', type: 'tree', mode: '040000', sha: sha2, size: null },
      { path: 'sub/vendor lib', name: 'vendor lib', type: 'commit', mode: '160000', sha: sha1, size: null },
      { path: 'sub/with\ttab', name: 'with\ttab', type: 'blob', mode: '100755', sha: sha2, size: 7 },
    ]);
    expect(parseLsTree(output, '')[0]!.path).toBe('README.md');
  });

  it('parses the updates handed to post-receive; created and deleted refs have null shas', () => {
    const text = `${zero} ${sha1} refs/heads/main\n${sha1} ${sha2} refs/heads/dev\n${sha2} ${zero} refs/tags/v1\ngarbage\n${sha1} ${sha2} not-a-ref\n`;
    expect(parseRefUpdates(text)).toEqual([
      { ref: 'refs/heads/main', oldSha: null, newSha: sha1 },
      { ref: 'refs/heads/dev', oldSha: sha1, newSha: sha2 },
      { ref: 'refs/tags/v1', oldSha: sha2, newSha: null },
    ]);
  });

  it('parses git log -z --name-only output, including empty commits, empty subjects and odd paths', () => {
    const header = (sha: string, subject: string) => `\0${sha}\0${'2026-03-01T10:00:00+02:00'}\0${'2026-03-01T11:00:00+02:00'}\0Ada Lovelace\0ada@example.com\0${subject}\0`;
    const output =
      header(sha1, 'Add the thing') + '\na.txt\0dir/b c.txt\0' +
      header(sha2, '') + // an empty commit with an empty subject
      header('c'.repeat(40), 'merge') + '\n\nstarts-with-newline\0';
    const commits = parseLogOutput(output, 10);
    expect(commits.map((c) => [c.sha, c.subject, c.files])).toEqual([
      [sha1, 'Add the thing', ['a.txt', 'dir/b c.txt']],
      [sha2, '', []],
      ['c'.repeat(40), 'merge', ['\nstarts-with-newline']],
    ]);
    expect(commits[0]).toMatchObject({ authorName: 'Ada Lovelace', authorEmail: 'ada@example.com', authoredAt: '2026-03-01T08:00:00.000Z', committedAt: '2026-03-01T09:00:00.000Z', filesTruncated: false });
  });

  it('cuts the file list of a commit at the limit and says so', () => {
    const files = Array.from({ length: 5 }, (_, i) => `f${i}`);
    const output = `\0${sha1}\0${'2026-03-01T10:00:00Z'}\0${'2026-03-01T10:00:00Z'}\0A\0a@b\0s\0\n${files.join('\0')}\0`;
    expect(parseLogOutput(output, 3)[0]).toMatchObject({ files: ['f0', 'f1', 'f2'], filesTruncated: true });
    expect(parseLogOutput('', 3)).toEqual([]);
  });
});

describe('smart HTTP helpers', () => {
  it('reads the token from an HTTP Basic header and ignores the username', () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(basicAuthPassword(basic('x:plinth_abc'))).toBe('plinth_abc');
    expect(basicAuthPassword(basic('anyone:pa:ss'))).toBe('pa:ss');
    expect(basicAuthPassword(basic('nocolon'))).toBeUndefined();
    expect(basicAuthPassword('Bearer plinth_abc')).toBeUndefined();
    expect(basicAuthPassword(undefined)).toBeUndefined();
  });

  it('passes only well-formed Git-Protocol headers and recognises version 2', () => {
    expect(gitProtocolOf('version=2')).toBe('version=2');
    expect(gitProtocolOf('version=2:object-format=sha1')).toBe('version=2:object-format=sha1');
    expect(gitProtocolOf('version=2; rm -rf /')).toBeUndefined();
    expect(gitProtocolOf(['version=2'])).toBeUndefined();
    expect(isProtocolV2('version=2')).toBe(true);
    expect(isProtocolV2('version=1')).toBe(false);
    expect(isProtocolV2(undefined)).toBe(false);
  });

  it('frames pkt-lines with their hex length', () => {
    expect(pktLine('# service=git-upload-pack\n')).toBe('001e# service=git-upload-pack\n');
  });
});
