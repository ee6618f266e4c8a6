import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { sessionCookie } from './auth.js';
import { readCredentials, writeCredentials } from './credentials.js';
import { run } from './main.js';
import { memoryIo } from './memory-io.js';
import { parseDays, parseScopes, tokenTable } from './tokens.js';
import { upArgv } from './up.js';

async function configDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'plinth-cli-'));
}

describe('run', () => {
  it('prints the version and help with exit code 0', async () => {
    const io = memoryIo({});
    expect(await run(['--version'], io)).toBe(0);
    expect(io.stdoutText()).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = memoryIo({});
    expect(await run(['--help'], help)).toBe(0);
    for (const command of ['up', 'login', 'logout', 'whoami', 'token', 'status', 'events', 'catalog', 'policy', 'repo', 'runs']) expect(help.stdoutText()).toContain(command);
  });

  it('exits 2 with commander’s message for an unknown command or a missing option', async () => {
    const unknown = memoryIo({});
    expect(await run(['whomai'], unknown)).toBe(2);
    expect(unknown.stderrText()).toMatch(/unknown command 'whomai'[\s\S]*Did you mean whoami\?/);
    const missing = memoryIo({});
    expect(await run(['token', 'create'], missing)).toBe(2);
    expect(missing.stderrText()).toContain("required option '--name <name>' not specified");
  });

  it('exits 2 for a bad --server URL, a bad scope and a bad number of days', async () => {
    const env = { PLINTH_CONFIG_DIR: await configDir() };
    const url = memoryIo(env);
    expect(await run(['status', '--server', 'localhost:7007'], url)).toBe(2);
    expect(url.stderrText()).toBe('error: --server: "localhost:7007" is not a URL; use e.g. http://localhost:7007\n');
    const scope = memoryIo(env);
    expect(await run(['token', 'create', '--name', 'x', '--scopes', 'read,root'], scope)).toBe(2);
    expect(scope.stderrText()).toContain('"root" is not a scope');
    const days = memoryIo(env);
    expect(await run(['token', 'create', '--name', 'x', '--expires-in-days', '-1'], days)).toBe(2);
  });

  it('says how to log in, without contacting the server, when there is no token', async () => {
    const env = { PLINTH_CONFIG_DIR: await configDir() };
    for (const argv of [['whoami'], ['token', 'list'], ['events', 'tail']]) {
      const io = memoryIo(env);
      expect(await run(argv, io)).toBe(1);
      expect(io.stderrText()).toBe('error: not logged in to http://127.0.0.1:7007: run plinth login\n');
    }
    const other = memoryIo({ ...env, PLINTH_URL: 'https://plinth.example.com/' });
    expect(await run(['whoami'], other)).toBe(1);
    expect(other.stderrText()).toBe('error: not logged in to https://plinth.example.com: run plinth login --server https://plinth.example.com\n');
  });

  it('refuses a non-interactive login that cannot ask for the password', async () => {
    const env = { PLINTH_CONFIG_DIR: await configDir() };
    const noTty = memoryIo(env);
    expect(await run(['login', '--username', 'admin'], noTty)).toBe(2);
    expect(noTty.stderrText()).toContain('use --username NAME --password-stdin');
    const noUser = memoryIo(env, 'secret\n');
    expect(await run(['login', '--password-stdin'], noUser)).toBe(2);
    expect(noUser.stderrText()).toBe('error: --password-stdin needs --username\n');
    const empty = memoryIo(env, '');
    expect(await run(['login', '--username', 'admin', '--password-stdin'], empty)).toBe(2);
  });

  it('has nothing to log out of when not logged in', async () => {
    const io = memoryIo({ PLINTH_CONFIG_DIR: await configDir() });
    expect(await run(['logout'], io)).toBe(1);
    expect(io.stderrText()).toBe('error: not logged in to http://127.0.0.1:7007\n');
  });
});

describe('logout from a server that is gone', () => {
  it('forgets the login but says the token could not be revoked', async () => {
    const dir = await configDir();
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const server = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const path = join(dir, 'credentials.json');
    await writeCredentials(path, { version: 1, logins: [{ server, username: 'ann', token: 'secret', tokenId: 'tok-1' }] });

    const io = memoryIo({ PLINTH_CONFIG_DIR: dir });
    expect(await run(['logout'], io)).toBe(1);
    expect(io.stderrText()).toBe(
      `error: cannot reach Plinth at ${server}: is it running? (npm start); removed the saved login, but token tok-1 was not revoked on the server\n`,
    );
    expect(await readCredentials(path)).toEqual({ version: 1, logins: [] });
  });
});

describe('option parsing', () => {
  it('parses scope lists and days', () => {
    expect(parseScopes('read, write,read')).toEqual(['read', 'write']);
    expect(() => parseScopes(',')).toThrow(/at least one scope/);
    expect(parseDays('0')).toBe(0);
    expect(() => parseDays('1.5')).toThrow(/whole number/);
  });

  it('turns `plinth up` options back into the flags parseConfig reads', () => {
    expect(upArgv({ demo: true, builtinTemplates: true, embeddedRunner: true })).toEqual([]);
    expect(upArgv({ port: '0', gatewayPort: '0', host: '0.0.0.0', dataDir: 'd', databaseUrl: 'postgres://x/y', config: 'p.yaml', demo: false, builtinTemplates: false, embeddedRunner: false })).toEqual([
      '--port', '0', '--gateway-port', '0', '--host', '0.0.0.0', '--data-dir', 'd', '--database-url', 'postgres://x/y', '--config', 'p.yaml', '--no-demo', '--no-builtin-templates', '--no-embedded-runner',
    ]);
  });
});

describe('sessionCookie', () => {
  it('picks the plinth_session pair out of the Set-Cookie headers', () => {
    expect(sessionCookie(['other=1; Path=/', 'plinth_session=abc.def; Path=/; HttpOnly; SameSite=Lax'])).toBe('plinth_session=abc.def');
    expect(sessionCookie(['plinth_session=; Max-Age=0'])).toBeUndefined();
    expect(sessionCookie([])).toBeUndefined();
  });
});

describe('tokenTable', () => {
  const token = {
    id: 'tok1',
    userId: 'u1',
    username: 'ann',
    name: 'cli@laptop',
    prefix: 'plt_ab',
    scopes: ['read', 'write'] as ('read' | 'write' | 'admin')[],
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
  };

  it('shows id, name, prefix, scopes, expiry, last use and revocation, marking this login’s token', () => {
    const lines = tokenTable([token], { showUser: false, ownTokenId: 'tok1' }).split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+SCOPES\s+EXPIRES\s+LAST USED\s+REVOKED$/);
    expect(lines[1]).toMatch(/^tok1\s+cli@laptop \(this login\)\s+plt_ab\s+read,write\s+never\s+never\s+-$/);
  });

  it('adds the user column for --all', () => {
    expect(tokenTable([token], { showUser: true, ownTokenId: undefined }).split('\n')[1]).toMatch(/^tok1\s+ann\s+cli@laptop\s/);
  });
});
