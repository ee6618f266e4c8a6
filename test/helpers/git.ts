import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/kernel/index.js';
import type { AppOptions } from '../../src/app.js';
import { startTestApp, type TestApp } from './app.js';
import type { DialectName } from './dialects.js';

/**
 * The real `git` client for tests, independent of the machine's git config: no global or system config,
 * no prompts (a missing credential fails instead of waiting), a fixed author.
 */
export function gitClientEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    LANG: 'C',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_AUTHOR_NAME: 'Ada Lovelace',
    GIT_AUTHOR_EMAIL: 'ada@example.com',
    GIT_COMMITTER_NAME: 'Ada Lovelace',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
  };
}

export interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs git asynchronously (the server under test runs in this same process, so never execFileSync). */
export function runGitClient(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args], { cwd: options.cwd, env: options.env ?? gitClientEnv(options.cwd), stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A clone URL carrying an API token as the HTTP Basic password. */
export function cloneUrl(baseUrl: string, token: string | undefined, fullName: string): string {
  const url = new URL(`${baseUrl}/git/${fullName}.git`);
  if (token !== undefined) {
    url.username = 'x';
    url.password = token;
  }
  return url.toString();
}

const organisation = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-b }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: alice }
spec: { memberOf: [team-a] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: bob }
spec: { memberOf: [team-b] }
`;

export interface GitTestApp extends TestApp {
  /** alice (member of team-a), bob (member of team-b), vera (a viewer): API tokens. */
  tokens: { admin: string; alice: string; bob: string; vera: string };
  /** A scratch folder for clones. */
  workDir: string;
}

/**
 * The real app with a small organisation in its catalog: groups team-a and team-b, users alice (team-a),
 * bob (team-b) and vera (viewer role), so ownership comes from the catalog as in production.
 */
export async function startGitTestApp(options: { dialect: DialectName; listen?: boolean; config?: Partial<Config>; app?: AppOptions }): Promise<GitTestApp> {
  const catalogDir = mkdtempSync(join(tmpdir(), 'plinth-git-org-'));
  writeFileSync(join(catalogDir, 'org.yaml'), organisation);
  const t = await startTestApp({
    dialect: options.dialect,
    listen: options.listen,
    config: { ...options.config, catalog: { fileRoot: catalogDir, refreshIntervalS: 3600 } },
    app: options.app,
  });
  let users;
  try {
    await t.app.catalog.addLocation({ kind: 'system', name: 'test' }, { type: 'file', target: join(catalogDir, 'org.yaml') }, { dryRun: false });
    users = await Promise.all([t.createUser('alice', 'member'), t.createUser('bob', 'member'), t.createUser('vera', 'viewer')]);
  } catch (err) {
    // The test's afterAll never sees a half-started app: drop its database here.
    await t.close();
    rmSync(catalogDir, { recursive: true, force: true });
    throw err;
  }
  const [alice, bob, vera] = users;
  const workDir = mkdtempSync(join(tmpdir(), 'plinth-git-work-'));
  return {
    ...t,
    tokens: { admin: t.adminToken, alice: alice.token, bob: bob.token, vera: vera.token },
    workDir,
    async close() {
      await t.close();
      for (const dir of [catalogDir, workDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}
