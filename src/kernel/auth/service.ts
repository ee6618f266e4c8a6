import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { newId, newSecret, toIso } from '../clock.js';
import { AuthenticationError, NotAllowedError, TooManyRequestsError } from '../errors.js';
import type { Ledger } from '../ledger/service.js';
import type { Store } from '../store/index.js';
import { createLoginLimiter } from './login-limiter.js';
import {
  authorize,
  principalRef,
  scopesForRole,
  userRef,
  type CreateTokenInput,
  type CreateUserInput,
  type CreatedToken,
  type Permission,
  type Principal,
  type TokenScope,
  type TokenView,
  type UpdateUserInput,
  type UserView,
} from './model.js';
import { hashPassword, verifyAgainstNothing, verifyPassword } from './passwords.js';
import * as q from './store.js';

export const TOKEN_PREFIX = 'plinth_';

/** Notified (in every replica) when a token is revoked or a user changes, so cached principals go. */
const AUTH_CHANGED_CHANNEL = 'plinth_auth_changed';
/** How long a token's principal is reused; bounds how stale catalog group memberships can be. */
const TOKEN_CACHE_TTL_MS = 5000;
const TOKEN_CACHE_MAX = 10_000;

/** Resolves extra ownership refs (the catalog feeds group memberships) for a user. */
export type OwnershipResolver = (user: { username: string; ref: string }) => Promise<readonly string[]>;

export const authPermissions = {
  manageUsers: { name: 'manage users', verb: 'admin' },
  manageAllTokens: { name: 'manage every user\u2019s tokens', verb: 'admin' },
  manageOwnTokens: { name: 'manage API tokens', verb: 'read' },
  readAudit: { name: 'read the audit log', verb: 'admin' },
} satisfies Record<string, Permission>;

export interface LoginResult {
  user: UserView;
  /** The cookie value; only its hash is stored. */
  sessionSecret: string;
  csrfToken: string;
  expiresAt: string;
}

export interface Auth {
  /** Creates the first admin when there are no users; returns the credentials to print once. */
  bootstrapAdmin(password: string | undefined): Promise<{ username: string; password: string; generated: boolean } | undefined>;
  login(input: { username: string; password: string }, ip: string): Promise<LoginResult>;
  logout(principal: Principal): Promise<void>;
  authenticateSession(sessionSecret: string): Promise<{ principal: Principal; csrfToken: string }>;
  authenticateToken(secret: string): Promise<Principal>;
  useOwnershipResolver(resolver: OwnershipResolver): void;
  me(principal: Principal): Promise<UserView>;
  listUsers(principal: Principal): Promise<UserView[]>;
  createUser(principal: Principal, input: CreateUserInput): Promise<UserView>;
  updateUser(principal: Principal, id: string, input: UpdateUserInput): Promise<UserView>;
  listTokens(principal: Principal, options: { all: boolean }): Promise<TokenView[]>;
  createToken(principal: Principal, input: CreateTokenInput): Promise<CreatedToken>;
  revokeToken(principal: Principal, id: string): Promise<void>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const publicUser = (u: q.UserRecord): UserView => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  email: u.email,
  role: u.role,
  disabled: u.disabled,
  createdAt: u.createdAt,
});

export function createAuth(deps: { store: Store; ledger: Ledger; clock: Clock; sessionIdleS: number }): Auth {
  const { store, ledger, clock, sessionIdleS } = deps;
  const limiter = createLoginLimiter({ maxFailures: 10, windowMs: 15 * 60_000 });
  let ownershipResolver: OwnershipResolver = async () => [];
  const nowIso = () => toIso(clock.now());

  // API clients send the same token on every request: its principal (three queries: token, user,
  // memberships) is kept for a few seconds. Revocations and user changes clear it at once everywhere;
  // a lookup that raced with one does not store its result (the generation moved on).
  const tokenCache = new Map<string, { principal: Principal; expiresAt: string | null; until: number }>();
  let authGeneration = 0;
  store.listen(AUTH_CHANGED_CHANNEL, () => {
    authGeneration += 1;
    tokenCache.clear();
  });

  async function principalFor(
    user: q.UserRecord,
    method: 'session' | 'token',
    scopes: readonly TokenScope[],
    ids: { sessionId?: string; tokenId?: string },
  ): Promise<Principal> {
    const ref = userRef(user.username);
    const extra = await ownershipResolver({ username: user.username, ref });
    const allowed = scopesForRole(user.role);
    return {
      kind: 'user',
      userId: user.id,
      username: user.username,
      role: user.role,
      authMethod: method,
      scopes: scopes.filter((s) => allowed.includes(s)),
      ownershipRefs: [...new Set([ref, ...extra.map((r) => r.toLowerCase())])],
      ...ids,
    };
  }

  const requireUser = (p: Principal) => {
    if (p.kind !== 'user') throw new NotAllowedError('this action needs a signed-in user');
    return p;
  };

  return {
    async bootstrapAdmin(password) {
      if ((await q.countUsers(store)) > 0) return undefined;
      const generated = password === undefined;
      const chosen = password ?? newSecret(15);
      const t = nowIso();
      const user = await q.insertUser(store, store.dialect, {
        id: newId(),
        username: 'admin',
        display_name: 'Platform admin',
        email: null,
        role: 'platform-admin',
        password_hash: await hashPassword(chosen),
        disabled: 0,
        created_at: t,
        updated_at: t,
      });
      await ledger.append({
        kind: 'kernel.user.created',
        subjects: [userRef(user.username)],
        actor: 'system:bootstrap',
        payload: { userId: user.id, username: user.username, role: user.role },
      });
      return { username: user.username, password: chosen, generated };
    },

    async login({ username, password }, ip) {
      const nowMs = clock.now().getTime();
      const keys = [`ip:${ip}`, `user:${username.toLowerCase()}`];
      const wait = Math.max(...keys.map((k) => limiter.retryAfterS(k, nowMs)));
      if (wait > 0) throw new TooManyRequestsError(`too many failed logins; try again in ${wait} s`, wait);
      const user = await q.selectUserByName(store, username.toLowerCase());
      const ok = user ? await verifyPassword(user.passwordHash, password) : (await verifyAgainstNothing(password), false);
      if (!user || !ok || user.disabled) {
        for (const k of keys) limiter.recordFailure(k, nowMs);
        throw new AuthenticationError(user?.disabled && ok ? 'this account is disabled; ask a platform admin' : 'wrong username or password');
      }
      limiter.reset(`user:${user.username}`);
      const sessionSecret = newSecret(32);
      const csrfToken = newSecret(24);
      const expiresAt = toIso(new Date(nowMs + sessionIdleS * 1000));
      await store.transaction(async (tx) => {
        await q.insertSession(tx, { id_hash: sha256(sessionSecret), user_id: user.id, csrf_token: csrfToken, created_at: toIso(new Date(nowMs)), expires_at: expiresAt, ip });
        await ledger.append(
          { kind: 'kernel.session.started', subjects: [userRef(user.username)], actor: userRef(user.username), payload: { userId: user.id, username: user.username } },
          { db: tx },
        );
      });
      return { user: publicUser(user), sessionSecret, csrfToken, expiresAt };
    },

    async logout(principal) {
      if (principal.kind === 'user' && principal.sessionId) await q.deleteSession(store, principal.sessionId);
    },

    async authenticateSession(sessionSecret) {
      const idHash = sha256(sessionSecret);
      const session = await q.selectSession(store, idHash);
      const now = clock.now();
      if (!session) throw new AuthenticationError('not signed in, or the session ended; log in again');
      if (session.expires_at <= toIso(now)) {
        await q.deleteSession(store, idHash);
        throw new AuthenticationError('session expired; log in again');
      }
      const user = await q.selectUserById(store, session.user_id);
      if (user.disabled) throw new AuthenticationError('this account is disabled; ask a platform admin');
      // Sliding expiry, written at most once per half idle period.
      const remainingMs = Date.parse(session.expires_at) - now.getTime();
      if (remainingMs < (sessionIdleS * 1000) / 2) await q.extendSession(store, idHash, toIso(new Date(now.getTime() + sessionIdleS * 1000)));
      const principal = await principalFor(user, 'session', scopesForRole(user.role), { sessionId: idHash });
      return { principal, csrfToken: session.csrf_token };
    },

    async authenticateToken(secret) {
      if (!secret.startsWith(TOKEN_PREFIX)) throw new AuthenticationError('malformed API token; tokens start with "plinth_"');
      const hash = sha256(secret);
      const now = clock.now();
      const cached = tokenCache.get(hash);
      if (cached && cached.until > now.getTime() && (!cached.expiresAt || cached.expiresAt > toIso(now))) return cached.principal;
      const generation = authGeneration;
      const token = await q.selectTokenBySecretHash(store, hash);
      if (!token) throw new AuthenticationError('unknown API token');
      if (token.revokedAt) throw new AuthenticationError(`API token "${token.name}" was revoked`);
      if (token.expiresAt && token.expiresAt <= toIso(now)) throw new AuthenticationError(`API token "${token.name}" expired at ${token.expiresAt}`);
      const user = await q.selectUserById(store, token.userId);
      if (user.disabled) throw new AuthenticationError('this account is disabled; ask a platform admin');
      if (!token.lastUsedAt || now.getTime() - Date.parse(token.lastUsedAt) > 60_000) await q.touchToken(store, token.id, toIso(now));
      const principal = await principalFor(user, 'token', token.scopes, { tokenId: token.id });
      if (generation === authGeneration) {
        if (tokenCache.size >= TOKEN_CACHE_MAX) tokenCache.clear();
        tokenCache.set(hash, { principal, expiresAt: token.expiresAt, until: now.getTime() + TOKEN_CACHE_TTL_MS });
      }
      return principal;
    },

    useOwnershipResolver(resolver) {
      ownershipResolver = resolver;
    },

    async me(principal) {
      return publicUser(await q.selectUserById(store, requireUser(principal).userId));
    },

    async listUsers(principal) {
      authorize(principal, authPermissions.manageUsers);
      return (await q.selectUsers(store)).map(publicUser);
    },

    async createUser(principal, input) {
      authorize(principal, authPermissions.manageUsers);
      const t = nowIso();
      const passwordHash = await hashPassword(input.password);
      return store.transaction(async (tx) => {
        const user = await q.insertUser(tx, store.dialect, {
          id: newId(),
          username: input.username,
          display_name: input.displayName ?? input.username,
          email: input.email ?? null,
          role: input.role,
          password_hash: passwordHash,
          disabled: 0,
          created_at: t,
          updated_at: t,
        });
        await ledger.append(
          { kind: 'kernel.user.created', subjects: [userRef(user.username)], actor: principalRef(principal), payload: { userId: user.id, username: user.username, role: user.role } },
          { db: tx },
        );
        return publicUser(user);
      });
    },

    async updateUser(principal, id, input) {
      authorize(principal, authPermissions.manageUsers);
      const existing = await q.selectUserById(store, id);
      if (principal.kind === 'user' && principal.userId === id && (input.disabled === true || (input.role && input.role !== 'platform-admin'))) {
        throw new NotAllowedError('you cannot disable yourself or drop your own admin role; ask another admin');
      }
      const changes: Partial<q.NewUserRow> = { updated_at: nowIso() };
      if (input.displayName !== undefined) changes.display_name = input.displayName;
      if (input.email !== undefined) changes.email = input.email;
      if (input.role !== undefined) changes.role = input.role;
      if (input.disabled !== undefined) changes.disabled = input.disabled ? 1 : 0;
      if (input.password !== undefined) changes.password_hash = await hashPassword(input.password);
      return store.transaction(async (tx) => {
        const user = await q.updateUser(tx, id, changes);
        // A disabled user or a new password ends every session.
        if (input.disabled === true || input.password !== undefined) await q.deleteSessionsOfUser(tx, id);
        await tx.notify(AUTH_CHANGED_CHANNEL);
        await ledger.append(
          {
            kind: 'kernel.user.updated',
            subjects: [userRef(existing.username)],
            actor: principalRef(principal),
            payload: { userId: id, username: existing.username, changes: Object.keys(input) },
          },
          { db: tx },
        );
        return publicUser(user);
      });
    },

    async listTokens(principal, { all }) {
      const user = requireUser(principal);
      authorize(principal, all ? authPermissions.manageAllTokens : authPermissions.manageOwnTokens);
      return q.selectTokens(store, all ? undefined : user.userId);
    },

    async createToken(principal, input) {
      const user = requireUser(principal);
      authorize(principal, authPermissions.manageOwnTokens);
      const roleScopes = scopesForRole(user.role);
      const scopes = input.scopes ?? user.scopes.filter((s) => roleScopes.includes(s));
      const beyond = scopes.filter((s) => !user.scopes.includes(s));
      if (beyond.length > 0) throw new NotAllowedError(`scopes ${beyond.join(', ')} exceed what you have (${user.scopes.join(', ')})`);
      const secret = TOKEN_PREFIX + newSecret(32);
      const now = clock.now();
      const days = input.expiresInDays ?? 90;
      const id = newId();
      const row: q.NewTokenRow = {
        id,
        user_id: user.userId,
        name: input.name,
        prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
        secret_hash: sha256(secret),
        scopes: JSON.stringify([...new Set(scopes)]),
        created_at: toIso(now),
        expires_at: days === 0 ? null : toIso(new Date(now.getTime() + days * 86_400_000)),
        last_used_at: null,
        revoked_at: null,
      };
      await store.transaction(async (tx) => {
        await q.insertToken(tx, row);
        await ledger.append(
          { kind: 'kernel.token.created', subjects: [userRef(user.username)], actor: principalRef(principal), payload: { tokenId: id, userId: user.userId, name: input.name, scopes } },
          { db: tx },
        );
      });
      return { token: await q.selectToken(store, id), secret };
    },

    async revokeToken(principal, id) {
      const user = requireUser(principal);
      const token = await q.selectToken(store, id);
      authorize(principal, token.userId === user.userId ? authPermissions.manageOwnTokens : authPermissions.manageAllTokens);
      if (token.revokedAt) return;
      await store.transaction(async (tx) => {
        await q.revokeToken(tx, id, nowIso());
        await tx.notify(AUTH_CHANGED_CHANNEL);
        await ledger.append(
          { kind: 'kernel.token.revoked', subjects: [userRef(token.username)], actor: principalRef(principal), payload: { tokenId: id, userId: token.userId } },
          { db: tx },
        );
      });
    },
  };
}
