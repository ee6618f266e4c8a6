import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import type { RepositoryView } from '../../git/index.js';
import { cloneHint, cloneUrlOf, parseRepositoryArg, repoPath, repositoryTable } from './model.js';

describe('plinth repo helpers', () => {
  it('parses owner/name, with or without .git', () => {
    expect(parseRepositoryArg('team-a/payments')).toEqual({ owner: 'team-a', name: 'payments' });
    expect(parseRepositoryArg(' team-a/payments.git ')).toEqual({ owner: 'team-a', name: 'payments' });
  });

  it('refuses anything that is not one owner and one name', () => {
    for (const bad of ['payments', 'team-a/', '/payments', 'a/b/c', '../etc', 'team-a/..', 'Team-A/x', 'team-a/-x', 'team-a/a..b']) {
      expect(() => parseRepositoryArg(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it('builds API paths and clone URLs from the server URL, keeping a path prefix', () => {
    expect(repoPath({ owner: 'team-a', name: 'svc' })).toBe('/api/git/repos/team-a/svc');
    expect(cloneUrlOf('https://plinth.example.com/idp', { owner: 'team-a', name: 'svc' })).toBe('https://plinth.example.com/idp/git/team-a/svc.git');
    expect(cloneHint('http://127.0.0.1:7007/git/team-a/svc.git')).toBe('Clone it with an API token as the password:\n  git clone http://x:$PLINTH_TOKEN@127.0.0.1:7007/git/team-a/svc.git');
  });

  it('prints repositories as a table', () => {
    const repo: RepositoryView = {
      owner: 'team-a',
      name: 'svc',
      fullName: 'team-a/svc',
      ownerRef: 'group:default/team-a',
      defaultBranch: 'main',
      createdBy: 'user:default/alice',
      createdAt: 'not a time',
      cloneUrl: 'http://x/git/team-a/svc.git',
    };
    expect(repositoryTable([repo])).toBe('REPOSITORY  DEFAULT BRANCH  OWNER                 CREATED\nteam-a/svc  main            group:default/team-a  not a time');
  });
});
