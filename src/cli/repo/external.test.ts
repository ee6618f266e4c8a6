import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitTestApp, type GitTestApp } from '../../../test/helpers/git.js';
import { run } from '../main.js';
import { memoryIo } from '../memory-io.js';

// `plinth repo external …` in-process against a real listening server.

let t: GitTestApp;

beforeAll(async () => {
  t = await startGitTestApp({ dialect: 'sqlite', listen: true });
});
afterAll(async () => {
  await t?.close();
});

async function plinth(token: string, argv: string[], stdin = '') {
  const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: token, PLINTH_CONFIG_DIR: t.workDir }, stdin);
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('plinth repo external', () => {
  it('registers a repository with the token from stdin and prints the webhook URL and secret once', async () => {
    const token = 'glpat-cli-token-0123456789';
    const added = await plinth(t.tokens.alice, ['repo', 'external', 'add', 'billing', '--owner', 'group:default/team-a', '--url', 'https://gitlab.example.com/acme/billing.git', '--provider', 'gitlab', '--username', 'oauth2', '--token-stdin'], `${token}\n`);
    expect(added.code, added.stderr).toBe(0);
    const lines = added.stdout.split('\n');
    expect(lines[0]).toBe('Registered external repository billing; its runs are listed as external/billing');
    expect(lines[1]).toMatch(new RegExp(`^Webhook URL: {4}${t.url}/api/pipelines/webhooks/gitlab/[0-9a-f-]{36}$`));
    expect(lines[2]).toMatch(/^Webhook secret: [A-Za-z0-9_-]{43}$/);
    expect(added.stdout).not.toContain(token);
    const shown = await t.app.pipelines.external.get({ kind: 'system', name: 'test' }, 'billing');
    expect(shown).toMatchObject({ username: 'oauth2', hasToken: true, provider: 'gitlab' });
  });

  it('lists and removes repositories', async () => {
    const listed = await plinth(t.tokens.vera, ['repo', 'external', 'list']);
    expect(listed.stdout.split('\n')[0]).toMatch(/^NAME +PROVIDER +CLONE URL +BRANCH +OWNER +CREATED$/);
    expect(listed.stdout).toContain('billing  gitlab    https://gitlab.example.com/acme/billing.git  main');
    expect(await plinth(t.tokens.bob, ['repo', 'external', 'remove', 'billing'])).toMatchObject({ code: 1, stderr: 'error: register or remove external repositories on external repository billing is reserved to its owner group:default/team-a (NotAllowedError)\n' });
    expect(await plinth(t.tokens.alice, ['repo', 'external', 'remove', 'billing'])).toEqual({ code: 0, stdout: 'Removed external repository billing\n', stderr: '' });
    expect((await plinth(t.tokens.vera, ['repo', 'external', 'list', '--json'])).stdout).toBe('[]\n');
  });

  it('reports bad arguments as usage errors and server refusals as one line', async () => {
    const half = await plinth(t.tokens.alice, ['repo', 'external', 'add', 'x', '--owner', 'group:default/team-a', '--url', 'https://h/x.git', '--provider', 'github', '--username', 'bot']);
    expect(half).toMatchObject({ code: 2, stderr: expect.stringContaining('--username and --token-stdin go together') });
    const provider = await plinth(t.tokens.alice, ['repo', 'external', 'add', 'x', '--owner', 'group:default/team-a', '--url', 'https://h/x.git', '--provider', 'svn']);
    expect(provider.code).toBe(2);
    const url = await plinth(t.tokens.alice, ['repo', 'external', 'add', 'x', '--owner', 'group:default/team-a', '--url', 'ftp://h/x.git', '--provider', 'github']);
    expect(url).toMatchObject({ code: 1, stderr: expect.stringContaining('ftp: is not supported; use https://, http:// or file://') });
  });
});
