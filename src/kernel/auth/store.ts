import type { Selectable } from 'kysely';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Db, Dialect } from '../store/index.js';
import type { Role, TokenScope, TokenView, UserView } from './model.js';

interface AuthTables {
  kernel_users: {
    id: string;
    username: string;
    display_name: string;
    email: string | null;
    role: Role;
    password_hash: string;
    disabled: number;
    created_at: string;
    updated_at: string;
  };
  kernel_sessions: { id_hash: string; user_id: string; csrf_token: string; created_at: string; expires_at: string; ip: string };
  kernel_api_tokens: {
    id: string;
    user_id: string;
    name: string;
    prefix: string;
    secret_hash: string;
    scopes: string;
    created_at: string;
    expires_at: string | null;
    last_used_at: string | null;
    revoked_at: string | null;
  };
}
type UserRow = Selectable<AuthTables['kernel_users']>;
type TokenRow = Selectable<AuthTables['kernel_api_tokens']>;
export type NewUserRow = AuthTables['kernel_users'];
export type NewTokenRow = AuthTables['kernel_api_tokens'];
export type SessionRow = AuthTables['kernel_sessions'];

export interface UserRecord extends UserView {
  passwordHash: string;
}

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    role: row.role,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    passwordHash: row.password_hash,
  };
}

function toToken(row: TokenRow & { username: string }): TokenView {
  return {
    id: row.id,
    userId: row.user_id,
    username: row.username,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as TokenScope[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

const t = (db: Db) => db.tables<AuthTables>();

export async function countUsers(db: Db): Promise<number> {
  const row = await t(db).selectFrom('kernel_users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function insertUser(db: Db, dialect: Dialect, row: NewUserRow): Promise<UserRecord> {
  try {
    await t(db).insertInto('kernel_users').values(row).execute();
  } catch (err) {
    if (dialect.isUniqueViolation(err)) throw new ConflictError(`username "${row.username}" is taken`, { cause: err });
    throw err;
  }
  return toUser(row);
}

export async function selectUserById(db: Db, id: string): Promise<UserRecord> {
  const row = await t(db).selectFrom('kernel_users').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`user ${id} does not exist`);
  return toUser(row);
}

export async function selectUserByName(db: Db, username: string): Promise<UserRecord | undefined> {
  const row = await t(db).selectFrom('kernel_users').selectAll().where('username', '=', username).executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function selectUsers(db: Db): Promise<UserRecord[]> {
  const rows = await t(db).selectFrom('kernel_users').selectAll().orderBy('username').limit(10_000).execute();
  return rows.map(toUser);
}

export async function updateUser(db: Db, id: string, changes: Partial<NewUserRow>): Promise<UserRecord> {
  await t(db).updateTable('kernel_users').set(changes).where('id', '=', id).execute();
  return selectUserById(db, id);
}

export async function insertSession(db: Db, row: SessionRow): Promise<void> {
  await t(db).insertInto('kernel_sessions').values(row).execute();
}

export async function selectSession(db: Db, idHash: string): Promise<SessionRow | undefined> {
  return t(db).selectFrom('kernel_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

export async function extendSession(db: Db, idHash: string, expiresAt: string): Promise<void> {
  await t(db).updateTable('kernel_sessions').set({ expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await t(db).deleteFrom('kernel_sessions').where('id_hash', '=', idHash).execute();
}

export async function deleteSessionsOfUser(db: Db, userId: string): Promise<void> {
  await t(db).deleteFrom('kernel_sessions').where('user_id', '=', userId).execute();
}

export async function deleteExpiredSessions(db: Db, now: string): Promise<void> {
  await t(db).deleteFrom('kernel_sessions').where('expires_at', '<', now).execute();
}

export async function insertToken(db: Db, row: NewTokenRow): Promise<void> {
  await t(db).insertInto('kernel_api_tokens').values(row).execute();
}

const tokenWithUser = (db: Db) =>
  t(db)
    .selectFrom('kernel_api_tokens')
    .innerJoin('kernel_users', 'kernel_users.id', 'kernel_api_tokens.user_id')
    .selectAll('kernel_api_tokens')
    .select('kernel_users.username');

export async function selectTokenBySecretHash(db: Db, secretHash: string): Promise<TokenView | undefined> {
  const row = await tokenWithUser(db).where('kernel_api_tokens.secret_hash', '=', secretHash).executeTakeFirst();
  return row ? toToken(row) : undefined;
}

export async function selectToken(db: Db, id: string): Promise<TokenView> {
  const row = await tokenWithUser(db).where('kernel_api_tokens.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`token ${id} does not exist`);
  return toToken(row);
}

export async function selectTokens(db: Db, userId: string | undefined): Promise<TokenView[]> {
  let q = tokenWithUser(db);
  if (userId !== undefined) q = q.where('kernel_api_tokens.user_id', '=', userId);
  const rows = await q.orderBy('kernel_api_tokens.created_at', 'desc').limit(10_000).execute();
  return rows.map(toToken);
}

export async function revokeToken(db: Db, id: string, now: string): Promise<void> {
  await t(db).updateTable('kernel_api_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

export async function touchToken(db: Db, id: string, now: string): Promise<void> {
  await t(db).updateTable('kernel_api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}
