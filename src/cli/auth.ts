import type { Command } from 'commander';
import { ApiError, UnreachableError, type Client } from './client.js';
import type { Cli } from './context.js';
import { readCredentials, withLogin, withoutLogin, writeCredentials } from './credentials.js';
import { CliError, UsageError } from './errors.js';
import { formatFields } from './format.js';
import { prompt, readPasswordFromStdin } from './prompt.js';
import type { CreatedToken, LoginView, MeView } from '../kernel/index.js';

/** `plinth login`, `plinth logout`, `plinth whoami`. */
export function registerAuthCommands(program: Command, cli: Cli): void {
  program
    .command('login')
    .description('log in and save an API token for this machine (interactive unless --password-stdin)')
    .option('--username <name>', 'user to log in as (prompted when omitted)')
    .option('--password-stdin', 'read the password from standard input, for scripts')
    .action(async (opts: { username?: string; passwordStdin?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd, { requireToken: false });
      const { username, password } = await askCredentials(cli, opts);
      const { login, secret, tokenId } = await createCliToken(client, username, password, cli.io.hostname);
      const path = cli.credentialsPath;
      const file = await readCredentials(path);
      const previous = file.logins.find((l) => l.server === client.server);
      await writeCredentials(path, withLogin(file, { server: client.server, username: login.user.username, token: secret, tokenId, savedAt: new Date().toISOString() }));
      // The token of an earlier login on this machine is no longer used by anyone: revoke it, best effort.
      if (previous !== undefined && previous.tokenId !== tokenId) await revokeQuietly(client, previous.token, previous.tokenId);
      cli.out(`Logged in to ${client.server} as ${login.user.username}`);
    });

  program
    .command('logout')
    .description('revoke the saved token and forget it')
    .action(async (_opts: unknown, cmd: Command) => {
      const { target, client } = await cli.connect(cmd, { requireToken: false });
      const saved = target.login;
      if (saved === undefined) throw new CliError(`not logged in to ${target.server}`);
      let unreachable: UnreachableError | undefined;
      try {
        await client.json('DELETE', `/api/auth/tokens/${encodeURIComponent(saved.tokenId)}`, {
          auth: false,
          headers: { authorization: `Bearer ${saved.token}` },
        });
      } catch (err) {
        // An expired or already revoked token cannot authenticate to revoke itself, and that is fine.
        const alreadyGone = err instanceof ApiError && (err.status === 401 || err.status === 404);
        if (err instanceof UnreachableError) unreachable = err;
        else if (!alreadyGone) throw err;
      }
      const file = await readCredentials(cli.credentialsPath);
      await writeCredentials(cli.credentialsPath, withoutLogin(file, target.server));
      if (unreachable !== undefined) {
        throw new CliError(`${unreachable.message}; removed the saved login, but token ${saved.tokenId} was not revoked on the server`);
      }
      cli.out(`Logged out of ${target.server}`);
    });

  program
    .command('whoami')
    .description('show who the saved login or PLINTH_TOKEN acts as')
    .option('--json', 'print the server response as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { target, client } = await cli.connect(cmd);
      const me = await client.json<MeView>('GET', '/api/auth/me');
      if (opts.json === true) return cli.printJson(me);
      const name = me.user.displayName !== '' && me.user.displayName !== me.user.username ? ` (${me.user.displayName})` : '';
      cli.out(
        formatFields([
          ['user', `${me.user.username}${name}`],
          ['role', me.user.role],
          ['auth', me.authMethod === 'token' ? `token${target.tokenSource === 'env' ? ' (PLINTH_TOKEN)' : ''}` : me.authMethod],
          ['scopes', me.scopes.join(', ')],
          ['server', target.server],
        ]),
      );
    });
}

async function askCredentials(cli: Cli, opts: { username?: string; passwordStdin?: boolean }): Promise<{ username: string; password: string }> {
  const { io } = cli;
  if (opts.passwordStdin === true) {
    if (opts.username === undefined) throw new UsageError('--password-stdin needs --username');
    const password = await readPasswordFromStdin(io.stdin);
    if (password === '') throw new UsageError('--password-stdin: standard input was empty');
    return { username: opts.username, password };
  }
  if (io.stdin.isTTY !== true) {
    throw new UsageError('no terminal to ask for the password: use --username NAME --password-stdin');
  }
  const username = opts.username ?? (await prompt(io, 'Username: ')).trim();
  if (username === '') throw new UsageError('a username is needed');
  const password = await prompt(io, 'Password: ', { hidden: true });
  return { username, password };
}

/**
 * Logs in with a session, creates an API token named `cli@<hostname>` with it, and ends the session:
 * the CLI keeps only the token, which can be listed and revoked like any other.
 */
async function createCliToken(client: Client, username: string, password: string, hostname: string): Promise<{ login: LoginView; secret: string; tokenId: string }> {
  let res: Response;
  try {
    res = await client.send('POST', '/api/auth/login', { body: { username, password }, auth: false });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 400)) {
      throw new CliError(`login to ${client.server} failed: ${err.message}`, 1, { cause: err });
    }
    throw err;
  }
  const login = (await res.json()) as LoginView;
  const cookie = sessionCookie(res.headers.getSetCookie());
  if (cookie === undefined) {
    throw new CliError(`${client.server} answered the login without a plinth_session cookie: is it a Plinth server?`);
  }
  const session = { auth: false, headers: { cookie, 'x-csrf-token': login.csrfToken } };
  try {
    const created = await client.json<CreatedToken>('POST', '/api/auth/tokens', { ...session, body: { name: `cli@${hostname}` } });
    return { login, secret: created.secret, tokenId: created.token.id };
  } finally {
    await client.send('POST', '/api/auth/logout', session).catch(() => undefined);
  }
}

/** `plinth_session=<value>` from the Set-Cookie headers, ready for a Cookie header. */
export function sessionCookie(setCookies: readonly string[]): string | undefined {
  for (const header of setCookies) {
    const pair = header.split(';', 1)[0]?.trim();
    if (pair?.startsWith('plinth_session=') === true && pair.length > 'plinth_session='.length) return pair;
  }
  return undefined;
}

async function revokeQuietly(client: Client, token: string, tokenId: string): Promise<void> {
  await client
    .json('DELETE', `/api/auth/tokens/${encodeURIComponent(tokenId)}`, { auth: false, headers: { authorization: `Bearer ${token}` } })
    .catch(() => undefined);
}
