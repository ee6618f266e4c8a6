import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitTestApp, runGitClient, type GitTestApp } from '../../../test/helpers/git.js';
import { run } from '../main.js';
import { memoryIo } from '../memory-io.js';

// `plinth repo …` in-process against a real listening server, then the printed clone URL used by real git.

let t: GitTestApp;

beforeAll(async () => {
  t = await startGitTestApp({ dialect: 'sqlite', listen: true });
});
afterAll(async () => {
  await t?.close();
});

async function plinth(token: string, ...argv: string[]) {
  const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: token, PLINTH_CONFIG_DIR: t.workDir });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('plinth repo', () => {
  it('creates a repository, and creating it again says it exists', async () => {
    const created = await plinth(t.tokens.alice, 'repo', 'create', 'team-a/cli-made', '--default-branch', 'trunk');
    expect(created).toEqual({
      code: 0,
      stdout: `Created repository team-a/cli-made (default branch trunk)\nClone it with an API token as the password:\n  git clone ${t.url.replace('http://', 'http://x:$PLINTH_TOKEN@')}/git/team-a/cli-made.git\n`,
      stderr: '',
    });
    const again = await plinth(t.tokens.alice, 'repo', 'create', 'team-a/cli-made');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Repository team-a\/cli-made already exists \(default branch trunk\)/);
    const json = await plinth(t.tokens.alice, 'repo', 'create', 'team-a/cli-made', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ fullName: 'team-a/cli-made', ownerRef: 'group:default/team-a' });
  });

  it('reports refusals as one line, and bad arguments as usage errors', async () => {
    expect(await plinth(t.tokens.bob, 'repo', 'create', 'team-a/not-bobs')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: repositories under team-a belong to group:default/team-a; only its members and platform admins create them (NotAllowedError)\n',
    });
    const usage = await plinth(t.tokens.alice, 'repo', 'create', '../etc');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('"../etc" is not a repository; use <owner>/<name>');
    const missing = await plinth(t.tokens.alice, 'repo', 'clone-url', 'team-a/nowhere');
    expect(missing).toMatchObject({ code: 1, stderr: 'error: no repository team-a/nowhere (NotFoundError)\n' });
  });

  it('lists repositories, all of them or one owner’s', async () => {
    await plinth(t.tokens.bob, 'repo', 'create', 'team-b/listed');
    const all = await plinth(t.tokens.vera, 'repo', 'list');
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toBe('REPOSITORY       DEFAULT BRANCH  OWNER                 CREATED');
    expect(all.stdout).toContain('team-a/cli-made  trunk');
    expect(all.stdout).toContain('team-b/listed    main');
    const owned = await plinth(t.tokens.vera, 'repo', 'list', '--owner', 'team-b', '--json');
    expect((JSON.parse(owned.stdout) as { fullName: string }[]).map((r) => r.fullName)).toEqual(['team-b/listed']);
    expect((await plinth(t.tokens.vera, 'repo', 'list', '--owner', 'alice')).stdout).toBe('No repositories owned by alice.\n');
  });

  it('prints a clone URL that git clones from with a token', async () => {
    const printed = await plinth(t.tokens.vera, 'repo', 'clone-url', 'team-a/cli-made.git');
    expect(printed).toEqual({ code: 0, stdout: `${t.url}/git/team-a/cli-made.git\n`, stderr: '' });
    const url = new URL(printed.stdout.trim());
    url.username = 'x';
    url.password = t.tokens.vera;
    const cloned = await runGitClient(['clone', url.toString(), 'cloned'], { cwd: t.workDir });
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(cloned.stderr).toContain('You appear to have cloned an empty repository');
  });
});
