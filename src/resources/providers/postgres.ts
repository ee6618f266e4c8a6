/**
 * PostgreSQL provider: a database owned by a login role with a generated password, a connection
 * limit, PUBLIC's access revoked, optional extensions; final backups with pg_dump.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { newSecret } from '../../kernel/index.js';
import { TerminalProvisioningError, type Provider, type ProvisionContext } from './provider.js';

const run = promisify(execFile);
const DUPLICATE_OBJECT = '42710';
const DUPLICATE_DATABASE = '42P04';

const codeOf = (err: unknown) => (err as { code?: string }).code;
const ident = (name: string) => pg.Client.prototype.escapeIdentifier(name);
const literal = (value: string) => pg.Client.prototype.escapeLiteral(value);

/**
 * Whether a SCRAM-SHA-256 verifier (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, as in
 * pg_authid) was made from `password` (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key"))).
 */
export function scramMatches(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!match) return false;
  const salted = pbkdf2Sync(password.normalize('NFKC'), Buffer.from(match[2]!, 'base64'), Number(match[1]), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return createHash('sha256').update(clientKey).digest().equals(Buffer.from(match[3]!, 'base64'));
}

export function createPostgresProvider(adminUrl: string): Provider {
  const admin = new URL(adminUrl);
  const host = admin.hostname;
  const port = admin.port || '5432';
  let pool: pg.Pool | undefined;
  const db = () => (pool ??= new pg.Pool({ connectionString: adminUrl, max: 4, connectionTimeoutMillis: 3000 }));
  const urlFor = (database: string, user?: string, password?: string) => {
    const url = new URL(adminUrl);
    url.username = user ?? admin.username;
    url.password = password ?? admin.password;
    url.pathname = `/${database}`;
    return url.toString();
  };
  /** A short-lived admin connection to the claim's own database (extensions, schema grants). */
  async function inDatabase<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: urlFor(database), connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const generate = (ctx: ProvisionContext) => {
    const password = newSecret(24);
    return { username: ctx.names.identifier, password, url: urlFor(ctx.names.identifier, ctx.names.identifier, password) };
  };
  const credentials = (ctx: ProvisionContext) => ctx.secrets.ensureClaimSecret({ name: ctx.names.secretName, ownerRef: ctx.claim.owner, claimId: ctx.claim.id }, () => generate(ctx));
  /** What the catalog shows that differs from the claim: role or database missing, another owner, CONNECT for PUBLIC. */
  async function catalogProblems(name: string): Promise<string[]> {
    const problems: string[] = [];
    const role = await db().query('select 1 from pg_roles where rolname = $1', [name]);
    if (role.rowCount === 0) problems.push(`role ${name} does not exist`);
    const database = await db().query<{ owner: string; public_connect: boolean }>(
      `select pg_get_userbyid(datdba) as owner, has_database_privilege('public', datname, 'CONNECT') as public_connect from pg_database where datname = $1`,
      [name],
    );
    const row = database.rows[0];
    if (!row) problems.push(`database ${name} does not exist`);
    else {
      if (row.owner !== name) problems.push(`database ${name} is owned by ${row.owner}, not ${name}`);
      if (row.public_connect) problems.push(`database ${name} grants CONNECT to PUBLIC`);
    }
    return problems;
  }
  /** The role as it must be: login, no privileges, the stored password, the connection limit (absolute, not incremental). */
  async function setRole(ctx: ProvisionContext) {
    const { password } = await credentials(ctx);
    const role = ident(ctx.names.identifier);
    const limit = Number(ctx.claim.inputs.connectionLimit ?? -1);
    const options = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal(password!)} CONNECTION LIMIT ${Math.trunc(limit)}`;
    try {
      await db().query(`CREATE ROLE ${role} ${options}`);
    } catch (err) {
      // Created by an earlier attempt: set it to what it must be.
      if (codeOf(err) !== DUPLICATE_OBJECT) throw err;
      await db().query(`ALTER ROLE ${role} ${options}`);
    }
  }

  return {
    name: 'postgres',
    async unavailable() {
      try {
        await db().query('select 1');
        return undefined;
      } catch (err) {
        return `PostgreSQL at ${host}:${port} is unreachable (${(err as Error).message})`;
      }
    },
    steps: [
      { name: 'credentials', run: async (ctx) => void (await credentials(ctx)) },
      { name: 'role', run: setRole },
      {
        name: 'database',
        async run(ctx) {
          const name = ident(ctx.names.identifier);
          try {
            await db().query(`CREATE DATABASE ${name} OWNER ${name}`);
          } catch (err) {
            if (codeOf(err) !== DUPLICATE_DATABASE) throw err;
            await db().query(`ALTER DATABASE ${name} OWNER TO ${name}`);
          }
          await db().query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
          await db().query(`GRANT ALL ON DATABASE ${name} TO ${name}`);
        },
      },
      {
        name: 'schema',
        async run(ctx) {
          const role = ident(ctx.names.identifier);
          const extensions = Array.isArray(ctx.claim.inputs.extensions) ? (ctx.claim.inputs.extensions as string[]) : [];
          await inDatabase(ctx.names.identifier, async (client) => {
            await client.query(`REVOKE ALL ON SCHEMA public FROM PUBLIC`);
            await client.query(`ALTER SCHEMA public OWNER TO ${role}`);
            // The module's schema restricts extensions to an allow-list; quoting keeps it an identifier anyway.
            for (const extension of extensions) await client.query(`CREATE EXTENSION IF NOT EXISTS ${ident(extension)}`);
          });
        },
      },
    ],
    async outputs(ctx) {
      const database = ctx.names.identifier;
      return {
        host,
        port,
        database,
        username: database,
        passwordRef: `${ctx.names.secretName}/password`,
        urlRef: `${ctx.names.secretName}/url`,
        url: `postgres://${database}@${host}:${port}/${database}`,
      };
    },
    async observe(ctx) {
      const name = ctx.names.identifier;
      const problems = await catalogProblems(name);
      if (problems.length > 0) return problems;
      const { password } = await credentials(ctx);
      // Compared with the stored verifier first: a server that trusts loopback logins would accept any password.
      const verifier = await db().query<{ rolpassword: string | null }>('select rolpassword from pg_authid where rolname = $1', [name]).catch(() => undefined);
      const stored = verifier?.rows[0]?.rolpassword;
      if (stored?.startsWith('SCRAM-SHA-256$') && !scramMatches(stored, password!)) problems.push(`role ${name}'s password is not the stored one (changed outside Plinth)`);
      const client = new pg.Client({ connectionString: urlFor(name, name, password), connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
      } catch (err) {
        // A change made while checking (owner, database dropped) also refuses the login: name the change.
        const changed = await catalogProblems(name);
        problems.push(...(changed.length > 0 ? changed : [`role ${name} cannot log in with the stored password (${(err as Error).message})`]));
      } finally {
        await client.end().catch(() => undefined);
      }
      return problems;
    },
    async backup(ctx, file) {
      const name = ctx.names.identifier;
      const exists = await db().query('select 1 from pg_database where datname = $1', [name]);
      if (exists.rowCount === 0) return undefined;
      try {
        await run('pg_dump', ['--format=custom', '--no-owner', `--file=${file}`, `--dbname=${urlFor(name)}`], { timeout: 10 * 60_000 });
      } catch (err) {
        if (codeOf(err) === 'ENOENT') throw new Error('pg_dump is not installed (install the PostgreSQL client tools); the database is kept until a backup can be taken', { cause: err });
        // pg_dump's stderr may hold the connection URL's host and user, never a password (the admin URL's, if any, is redacted).
        throw new Error(`pg_dump of ${name} failed: ${((err as { stderr?: string }).stderr ?? '').replaceAll(admin.password || '\u0000', '***').trim()}`, { cause: err });
      }
      return { path: file, bytes: (await stat(file)).size };
    },
    async restore(ctx, file) {
      const name = ctx.names.identifier;
      try {
        // One transaction, stopping at the first error: the database is either restored or unchanged.
        // Objects are created as the claim's role (--role), so the claim owns what it gets back.
        await run('pg_restore', ['--single-transaction', '--exit-on-error', '--clean', '--if-exists', '--no-owner', '--no-privileges', `--role=${name}`, `--dbname=${urlFor(name)}`, file], { timeout: 30 * 60_000 });
      } catch (err) {
        if (codeOf(err) === 'ENOENT') throw new TerminalProvisioningError('pg_restore is not installed (install the PostgreSQL client tools)', { cause: err });
        const stderr = ((err as { stderr?: string }).stderr ?? '').replaceAll(admin.password || '\u0000', '***').trim();
        throw new TerminalProvisioningError(`pg_restore into ${name} failed; the database is unchanged: ${stderr.split('\n').slice(0, 5).join(' ')}`, { cause: err });
      }
    },
    rotation: {
      generate,
      // PostgreSQL keeps one password per role: new logins need the new one at once; open sessions stay until revoke.
      apply: setRole,
      async revoke(ctx, rotatedAt) {
        const closed = await db().query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1 and backend_start < $2', [ctx.names.identifier, rotatedAt]);
        return { closedSessions: closed.rowCount ?? 0 };
      },
    },
    async inventory() {
      const databases = await db().query<{ name: string }>(`select datname as name from pg_database where datname like 'pl\\_%'`);
      const roles = await db().query<{ name: string }>(`select rolname as name from pg_roles where rolname like 'pl\\_%'`);
      return [...databases.rows.map((r) => ({ kind: 'database', name: r.name })), ...roles.rows.map((r) => ({ kind: 'role', name: r.name }))];
    },
    async destroy(ctx) {
      const name = ident(ctx.names.identifier);
      await db().query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await db().query(`DROP ROLE IF EXISTS ${name}`);
    },
    async close() {
      await pool?.end();
      pool = undefined;
    },
  };
}
