import { InvalidArgumentError, type Command } from 'commander';
import type { Cli } from './context.js';
import { formatTable, formatTime } from './format.js';
import type { CreatedToken, TokenView } from '../kernel/index.js';

const scopeNames = ['read', 'write', 'admin'];

/** `read,write` → ['read', 'write']; unknown or repeated scopes are usage errors. */
export function parseScopes(value: string): string[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (scopes.length === 0) throw new InvalidArgumentError('give at least one scope, e.g. read,write');
  for (const scope of scopes) {
    if (!scopeNames.includes(scope)) throw new InvalidArgumentError(`"${scope}" is not a scope; use ${scopeNames.join(', ')}`);
  }
  return [...new Set(scopes)];
}

/** A whole number of days, 0 meaning "never expires". */
export function parseDays(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a whole number of days (0 means never)`);
  return Number(value);
}

/** `plinth token create|list|revoke`. */
export function registerTokenCommands(program: Command, cli: Cli): void {
  const token = program.command('token').description('manage API tokens');

  token
    .command('create')
    .description('create an API token and print its secret once')
    .requiredOption('--name <name>', 'what the token is for, e.g. "ci"')
    .option('--scopes <list>', 'comma-separated scopes: read, write, admin (default: all of your role)', parseScopes)
    .option('--expires-in-days <days>', 'days until it expires, 0 for never (default 90)', parseDays)
    .option('--json', 'print the token and its secret as JSON')
    .action(async (opts: { name: string; scopes?: string[]; expiresInDays?: number; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const created = await client.json<CreatedToken>('POST', '/api/auth/tokens', {
        body: { name: opts.name, scopes: opts.scopes, expiresInDays: opts.expiresInDays },
      });
      if (opts.json === true) return cli.printJson(created);
      // The secret alone on stdout, so `plinth token create --name ci > secret.txt` captures only it.
      cli.out(created.secret);
      cli.err(
        `Created token ${created.token.id} "${created.token.name}" (${created.token.scopes.join(',')}, expires ${formatTime(created.token.expiresAt, 'never')}). ` +
          'Copy the secret now: it will not be shown again.',
      );
    });

  token
    .command('list')
    .description('list your API tokens (--all: every user’s, for platform admins)')
    .option('--all', 'tokens of all users')
    .option('--json', 'print the server response as JSON')
    .action(async (opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const { client, target } = await cli.connect(cmd);
      const body = await client.json<{ items: TokenView[] }>('GET', '/api/auth/tokens', {
        query: { all: opts.all === true ? 'true' : undefined },
      });
      if (opts.json === true) return cli.printJson(body);
      cli.out(tokenTable(body.items, { showUser: opts.all === true, ownTokenId: target.tokenSource === 'saved' ? target.login?.tokenId : undefined }));
    });

  token
    .command('revoke')
    .description('revoke an API token')
    .argument('<id>', 'token id (see plinth token list)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      await client.json('DELETE', `/api/auth/tokens/${encodeURIComponent(id)}`);
      cli.out(`Revoked token ${id}`);
    });
}

/** The token table; the token this CLI itself uses says so after its name. */
export function tokenTable(tokens: readonly TokenView[], options: { showUser: boolean; ownTokenId: string | undefined }): string {
  const headers = ['ID', ...(options.showUser ? ['USER'] : []), 'NAME', 'PREFIX', 'SCOPES', 'EXPIRES', 'LAST USED', 'REVOKED'];
  const rows = tokens.map((t) => [
    t.id,
    ...(options.showUser ? [t.username] : []),
    t.id === options.ownTokenId ? `${t.name} (this login)` : t.name,
    t.prefix,
    t.scopes.join(','),
    formatTime(t.expiresAt, 'never'),
    formatTime(t.lastUsedAt, 'never'),
    formatTime(t.revokedAt, '-'),
  ]);
  return formatTable(headers, rows);
}
