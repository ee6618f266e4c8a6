import { z } from 'zod';
import { NotAllowedError } from '../errors.js';

/** Platform roles, from most to least powerful. */
export const roles = ['platform-admin', 'member', 'viewer'] as const;
export type Role = (typeof roles)[number];

/** API token scopes: `read` reads, `write` also changes what the user may change, `admin` also administers. */
export const tokenScopes = ['read', 'write', 'admin'] as const;
export type TokenScope = (typeof tokenScopes)[number];

/** Who is acting. `system` is the platform itself (jobs, controllers). */
export type Principal =
  | {
      kind: 'user';
      userId: string;
      username: string;
      role: Role;
      authMethod: 'session' | 'token';
      /** Scopes of the token used; a session carries every scope of the role. */
      scopes: readonly TokenScope[];
      /** Entity refs the user owns through: `user:default/<name>` and, once the catalog feeds it, their groups. */
      ownershipRefs: readonly string[];
      sessionId?: string;
      tokenId?: string;
    }
  | { kind: 'system'; name: string };

export type AccessVerb = 'read' | 'write' | 'admin';

/** A named permission a service checks: `write` changes things members may change, `admin` is for platform admins. */
export interface Permission {
  name: string;
  verb: AccessVerb;
}

/** What the action is on; `ownerRef` makes it subject to ownership rules. */
export interface ResourceRef {
  type: string;
  id?: string;
  ownerRef?: string;
}

export function userRef(username: string): string {
  return `user:default/${username.toLowerCase()}`;
}

/** The ledger's and audit log's name for who acted: `user:default/alice` or `system:jobs`. */
export function principalRef(principal: Principal): string {
  return principal.kind === 'user' ? userRef(principal.username) : `system:${principal.name}`;
}

const verbScope: Record<AccessVerb, TokenScope> = { read: 'read', write: 'write', admin: 'admin' };

export function scopesForRole(role: Role): TokenScope[] {
  if (role === 'platform-admin') return ['read', 'write', 'admin'];
  if (role === 'member') return ['read', 'write'];
  return ['read'];
}

/**
 * The one authorization decision (principal × permission × resource), pure so every rule is unit-tested.
 * Returns the reason for a refusal, or undefined when allowed.
 */
export function decideAccess(principal: Principal, permission: Permission, resource?: ResourceRef): string | undefined {
  if (principal.kind === 'system') return undefined;
  if (permission.verb === 'admin' && principal.role !== 'platform-admin') return `${permission.name} needs the platform-admin role`;
  if (permission.verb === 'write' && principal.role === 'viewer') return `viewers cannot ${permission.name}`;
  if (!principal.scopes.includes(verbScope[permission.verb])) {
    return `this token lacks the "${verbScope[permission.verb]}" scope needed to ${permission.name}`;
  }
  if (principal.role === 'platform-admin' || permission.verb === 'read') return undefined;
  if (resource?.ownerRef !== undefined && !principal.ownershipRefs.includes(resource.ownerRef.toLowerCase())) {
    return `${permission.name} on ${resource.type}${resource.id ? ` ${resource.id}` : ''} is reserved to its owner ${resource.ownerRef}`;
  }
  return undefined;
}

/** Throws NotAllowedError unless the principal may perform the permission on the resource. */
export function authorize(principal: Principal, permission: Permission, resource?: ResourceRef): void {
  const refusal = decideAccess(principal, permission, resource);
  if (refusal !== undefined) throw new NotAllowedError(refusal);
}

// ---- API shapes -------------------------------------------------------------------------------

export const usernameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'use 1-63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit');
export const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters');

export const LoginInput = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
export type LoginInput = z.infer<typeof LoginInput>;

export const CreateUserInput = z.strictObject({
  username: usernameSchema,
  displayName: z.string().min(1).max(200).optional(),
  email: z.email().max(254).optional(),
  role: z.enum(roles).default('member'),
  password: passwordSchema,
});
export type CreateUserInput = z.infer<typeof CreateUserInput>;

export const UpdateUserInput = z.strictObject({
  displayName: z.string().min(1).max(200).optional(),
  email: z.email().max(254).optional(),
  role: z.enum(roles).optional(),
  disabled: z.boolean().optional(),
  password: passwordSchema.optional(),
});
export type UpdateUserInput = z.infer<typeof UpdateUserInput>;

export const CreateTokenInput = z.strictObject({
  name: z.string().min(1).max(100),
  scopes: z.array(z.enum(tokenScopes)).min(1).max(3).optional(),
  /** Days until the token expires; omitted means 90 days; 0 means never. */
  expiresInDays: z.number().int().min(0).max(3650).optional(),
});
export type CreateTokenInput = z.infer<typeof CreateTokenInput>;

export const UserView = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  role: z.enum(roles),
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type UserView = z.infer<typeof UserView>;

export const TokenView = z.object({
  id: z.string(),
  userId: z.string(),
  username: z.string(),
  name: z.string(),
  /** The first characters of the secret, to recognise it. */
  prefix: z.string(),
  scopes: z.array(z.enum(tokenScopes)),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenView = z.infer<typeof TokenView>;

export const CreatedToken = z.object({ token: TokenView, secret: z.string() });
export type CreatedToken = z.infer<typeof CreatedToken>;

export const MeView = z.object({
  user: UserView,
  authMethod: z.enum(['session', 'token']),
  scopes: z.array(z.enum(tokenScopes)),
  ownershipRefs: z.array(z.string()),
  /** Send as the `x-csrf-token` header on state-changing requests (session auth only). */
  csrfToken: z.string().optional(),
});
export type MeView = z.infer<typeof MeView>;

export const LoginView = z.object({ user: UserView, csrfToken: z.string(), expiresAt: z.string() });
export type LoginView = z.infer<typeof LoginView>;
