import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { startTestServer } from '../../test/helpers/app.js';

// The real `plinth` command as a child process against a real listening server.

const root = fileURLToPath(new URL('../..', import.meta.url));
const mainTs = join(root, 'src/cli/main.ts');

let server: Awaited<ReturnType<typeof startTestServer>>;
let url: string;

beforeAll(async () => {
  server = await startTestServer({ dialect: 'sqlite' });
  url = server.url.replace(/\/$/, '');
});
afterAll(async () => {
  await server?.close();
});

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  stdin?: string;
  env?: Record<string, string | undefined>;
}

/** A fresh config dir per test, so logins never leak between tests. */
async function configDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'plinth-cli-it-'));
}

function childEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, PLINTH_URL: undefined, PLINTH_TOKEN: undefined, NO_COLOR: '1' };
  return Object.fromEntries(Object.entries({ ...base, ...env }).filter(([, v]) => v !== undefined));
}

function start(args: string[], options: RunOptions = {}): ChildProcess & { output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], { cwd: root, env: childEnv(options.env), stdio: 'pipe' });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (output.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output.stderr += c.toString()));
  child.stdin.end(options.stdin ?? '');
  return Object.assign(child, { output });
}

function exited(child: ReturnType<typeof start>): Promise<Result> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, ...child.output }));
  });
}

async function plinth(args: string[], options: RunOptions = {}): Promise<Result> {
  return exited(start(args, options));
}

async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

interface SavedFile {
  version: number;
  logins: { server: string; username: string; token: string; tokenId: string }[];
}

async function readSaved(dir: string): Promise<SavedFile> {
  return JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8')) as SavedFile;
}

/** Logs in as admin with --password-stdin into `dir`. */
async function login(dir: string): Promise<Result> {
  const result = await plinth(['login', '--server', url, '--username', server.adminUsername, '--password-stdin'], {
    stdin: `${server.adminPassword}\n`,
    env: { PLINTH_CONFIG_DIR: dir },
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result;
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Each case runs several CLI processes through tsx: generous time on a loaded two-core machine.
describe('plinth against a running server', { timeout: 90_000 }, () => {
  it('logs in with --password-stdin, saves a 0600 token and whoami reports the user', async () => {
    const dir = await configDir();
    const result = await login(dir);
    expect(result.stdout).toBe(`Logged in to ${url} as admin\n`);

    const saved = await readSaved(dir);
    expect(saved.logins).toHaveLength(1);
    expect(saved.logins[0]).toMatchObject({ server: url, username: 'admin' });
    expect((await stat(join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);

    // The saved secret is a real API token named after this machine.
    const tokens = await api<{ items: { id: string; name: string }[] }>('GET', '/api/auth/tokens', server.adminToken);
    expect(tokens.body.items.find((t) => t.id === saved.logins[0]?.tokenId)?.name).toBe(`cli@${hostname()}`);

    const whoami = await plinth(['whoami'], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toMatch(/^user\s+admin/m);
    expect(whoami.stdout).toMatch(/^role\s+platform-admin$/m);
    expect(whoami.stdout).toMatch(/^auth\s+token$/m);
    expect(whoami.stdout).toMatch(/^scopes\s+read, write, admin$/m);
    expect(whoami.stdout).toMatch(new RegExp(`^server\\s+${url}$`, 'm'));

    const json = await plinth(['whoami', '--json'], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(JSON.parse(json.stdout)).toMatchObject({ user: { username: 'admin', role: 'platform-admin' }, authMethod: 'token' });
  });

  it('refuses a wrong password with one clear line and saves nothing', async () => {
    const dir = await configDir();
    const result = await plinth(['login', '--server', url, '--username', 'admin', '--password-stdin'], {
      stdin: 'not-the-password\n',
      env: { PLINTH_CONFIG_DIR: dir },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^error: login to ${url} failed: .+\\n$`));
    expect(result.stderr).not.toMatch(/\n\s+at /);
    await expect(stat(join(dir, 'credentials.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('creates, lists and revokes tokens; a revoked token is refused afterwards', async () => {
    const dir = await configDir();
    await login(dir);
    const env = { PLINTH_CONFIG_DIR: dir };

    const created = await plinth(['token', 'create', '--name', 'ci-read', '--scopes', 'read', '--expires-in-days', '7', '--json'], { env });
    expect(created.code).toBe(0);
    const { token, secret } = JSON.parse(created.stdout) as { token: { id: string; name: string; scopes: string[]; expiresAt: string }; secret: string };
    expect(token).toMatchObject({ name: 'ci-read', scopes: ['read'] });
    expect(new Date(token.expiresAt).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);

    // Human output: the secret alone on stdout, the warning on stderr.
    const human = await plinth(['token', 'create', '--name', 'scratch'], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^\S+\n$/);
    expect(human.stderr).toContain('it will not be shown again');

    const list = await plinth(['token', 'list'], { env });
    expect(list.code).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+PREFIX\s+SCOPES\s+EXPIRES\s+LAST USED\s+REVOKED$/);
    expect(rows.find((r) => r.startsWith(token.id))).toMatch(/\sci-read\s+\S+\s+read\s/);
    expect(rows.some((r) => r.includes('(this login)'))).toBe(true);

    const listJson = await plinth(['token', 'list', '--all', '--json'], { env });
    expect((JSON.parse(listJson.stdout) as { items: { id: string }[] }).items.map((t) => t.id)).toContain(token.id);

    const withToken = await plinth(['whoami'], { env: { ...env, PLINTH_TOKEN: secret } });
    expect(withToken.stdout).toMatch(/^auth\s+token \(PLINTH_TOKEN\)$/m);
    expect(withToken.stdout).toMatch(/^scopes\s+read$/m);

    const revoke = await plinth(['token', 'revoke', token.id], { env });
    expect(revoke).toMatchObject({ code: 0, stdout: `Revoked token ${token.id}\n` });
    expect((await api('GET', '/api/auth/me', secret)).status).toBe(401);

    const refused = await plinth(['whoami'], { env: { ...env, PLINTH_TOKEN: secret } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^error: PLINTH_TOKEN was refused by ${url} \\(expired or revoked\\?\\): .+\\n$`));

    const revokedRow = (await plinth(['token', 'list'], { env })).stdout.split('\n').find((r) => r.startsWith(token.id));
    expect(revokedRow).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d$/);
  });

  it('explains a scope the token lacks with the server’s message', async () => {
    const created = await api<{ secret: string }>('POST', '/api/auth/tokens', server.adminToken, { name: 'read-only', scopes: ['read'] });
    const env = { PLINTH_CONFIG_DIR: await configDir(), PLINTH_TOKEN: created.body.secret };
    const all = await plinth(['token', 'list', '--all', '--server', url], { env });
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/^error: .*"admin" scope.* \(NotAllowedError\)\n$/);
    const wider = await plinth(['token', 'create', '--name', 'x', '--scopes', 'read,write', '--server', url], { env });
    expect(wider.code).toBe(1);
    expect(wider.stderr).toMatch(/^error: .*write.* \(NotAllowedError\)\n$/);
  });

  it('shows status with and without a login, as text and as JSON', async () => {
    const dir = await configDir();
    const anonymous = await plinth(['status', '--server', url], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(anonymous.code).toBe(0);
    expect(anonymous.stdout).toMatch(/^health\s+ok$/m);
    expect(anonymous.stdout).toContain(`Not logged in: run plinth login --server ${url}`);
    expect(anonymous.stdout).not.toMatch(/^version/m);

    await login(dir);
    const text = await plinth(['status'], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^server\\s+${url}$`, 'm'));
    expect(text.stdout).toMatch(/^health\s+ok$/m);
    expect(text.stdout).toMatch(/^version\s+\d+\.\d+\.\d+/m);
    expect(text.stdout).toMatch(/^database\s+sqlite$/m);
    expect(text.stdout).toMatch(/^uptime\s+\d+[smhd]/m);
    expect(text.stdout).toMatch(/^queue\s+\d+ queued, \d+ running, \d+ dead$/m);

    const json = await plinth(['status', '--json'], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { server: string; health: { ok: boolean }; loggedIn: boolean; status: { dialect: string; queue: object; ledger: { lastSeq: number } } };
    expect(parsed).toMatchObject({ server: url, health: { ok: true }, loggedIn: true, status: { dialect: 'sqlite' } });
    expect(parsed.status.ledger.lastSeq).toBeGreaterThan(0);
  });

  it('tails events: prints an event appended while it runs and stops cleanly on Ctrl-C', async () => {
    const dir = await configDir();
    const env = { PLINTH_CONFIG_DIR: dir, PLINTH_TOKEN: server.adminToken };
    const { body: status } = await api<{ ledger: { lastSeq: number } }>('GET', '/api/status', server.adminToken);

    // Without --since-seq the tail starts where the ledger ends when it starts; with it, right after N.
    const text = start(['events', 'tail', '--server', url, '--kind', 'kernel.token.created'], { env });
    const json = start(['events', 'tail', '--server', url, '--kind', 'kernel.user.created', '--since-seq', String(status.ledger.lastSeq), '--json'], { env });
    const username = `tail-${Date.now()}`;
    await api('POST', '/api/users', server.adminToken, { username, role: 'member', password: 'a-long-password' });
    // The plain tail only sees events appended after it started, and a child process takes a moment to
    // start: append token events until one arrives.
    for (let attempt = 0; !text.output.stdout.includes('kernel.token.created'); attempt++) {
      if (attempt > 60) throw new Error(`no event from the tail; stderr: ${text.output.stderr}`);
      await api('POST', '/api/auth/tokens', server.adminToken, { name: 'from-tail-test' });
      await new Promise((r) => setTimeout(r, 250));
    }
    await until(() => json.output.stdout.includes('\n'), 'the user event');
    text.kill('SIGINT');
    json.kill('SIGINT');
    const [textResult, jsonResult] = await Promise.all([exited(text), exited(json)]);

    expect(textResult).toMatchObject({ code: 0, stderr: '' });
    const line = textResult.stdout.split('\n').find((l) => l.includes('from-tail-test'));
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}kernel\.token\.created {2}\S+ {2}by user:default\/admin {2}\{.*"name":"from-tail-test"/);

    expect(jsonResult).toMatchObject({ code: 0, stderr: '' });
    const events = jsonResult.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; kind: string; payload: { username?: string } });
    expect(events.every((e) => e.kind === 'kernel.user.created' && e.seq > status.ledger.lastSeq)).toBe(true);
    expect(events.map((e) => e.payload.username)).toContain(username);
  });

  it('logs out: revokes the saved token on the server and forgets it', async () => {
    const dir = await configDir();
    await login(dir);
    const saved = (await readSaved(dir)).logins[0]!;
    expect((await api('GET', '/api/auth/me', saved.token)).status).toBe(200);

    const result = await plinth(['logout'], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(result).toMatchObject({ code: 0, stdout: `Logged out of ${url}\n`, stderr: '' });
    expect((await readSaved(dir)).logins).toEqual([]);
    expect((await api('GET', '/api/auth/me', saved.token)).status).toBe(401);

    const whoami = await plinth(['whoami', '--server', url], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(whoami.code).toBe(1);
    expect(whoami.stderr).toBe(`error: not logged in to ${url}: run plinth login --server ${url}\n`);
  });

  it('says to log in again when the saved token was revoked elsewhere, and logout still works', async () => {
    const dir = await configDir();
    await login(dir);
    const saved = (await readSaved(dir)).logins[0]!;
    expect((await api('DELETE', `/api/auth/tokens/${saved.tokenId}`, server.adminToken)).status).toBe(204);

    const whoami = await plinth(['whoami'], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(whoami.code).toBe(1);
    expect(whoami.stderr).toBe(`error: not logged in to ${url} (or the token expired): run plinth login --server ${url}\n`);

    const logout = await plinth(['logout'], { env: { PLINTH_CONFIG_DIR: dir } });
    expect(logout).toMatchObject({ code: 0, stderr: '' });
    expect((await readSaved(dir)).logins).toEqual([]);
  });

  it('a second login to the same server replaces the saved token and revokes the old one', async () => {
    const dir = await configDir();
    await login(dir);
    const first = (await readSaved(dir)).logins[0]!;
    await login(dir);
    const saved = await readSaved(dir);
    expect(saved.logins).toHaveLength(1);
    expect(saved.logins[0]?.tokenId).not.toBe(first.tokenId);
    expect((await api('GET', '/api/auth/me', first.token)).status).toBe(401);
  });

  it('says the server cannot be reached, without a stack trace', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const down = `http://127.0.0.1:${port}`;
    const env = { PLINTH_CONFIG_DIR: await configDir(), PLINTH_TOKEN: 'whatever' };

    for (const args of [['status', '--server', down], ['whoami', '--server', down], ['events', 'tail', '--server', down]]) {
      const result = await plinth(args, { env });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`error: cannot reach Plinth at ${down}: is it running? (npm start)\n`);
    }
    const login = await plinth(['login', '--server', down, '--username', 'admin', '--password-stdin'], { stdin: 'pw\n', env });
    expect(login).toMatchObject({ code: 1, stderr: `error: cannot reach Plinth at ${down}: is it running? (npm start)\n` });
  });

  it('runs through bin/plinth.js as installed by npm', async () => {
    const child = spawn(process.execPath, [join(root, 'bin/plinth.js'), 'status', '--server', url, '--json'], {
      cwd: root,
      env: childEnv({ PLINTH_CONFIG_DIR: await configDir() }),
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ server: url, health: { ok: true }, loggedIn: false, status: null });
  });
});
