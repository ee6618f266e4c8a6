import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AuthenticationError } from '../errors.js';
import { SESSION_COOKIE } from '../http/server.js';
import { errorResponses, idParam } from '../http/schemas.js';
import {
  CreateTokenInput,
  CreateUserInput,
  CreatedToken,
  LoginInput,
  LoginView,
  MeView,
  TokenView,
  UpdateUserInput,
  UserView,
} from './model.js';
import type { Auth } from './service.js';

/** `/api/auth/*` and `/api/users/*`. */
export function authRoutes(auth: Auth, secureCookies: boolean): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/auth/login',
      {
        config: { auth: 'public', audit: 'auth.login' },
        schema: { tags: ['auth'], summary: 'Start a portal session', body: LoginInput, response: { 200: LoginView, ...errorResponses } },
      },
      async (request, reply) => {
        request.auditActor = `user:default/${request.body.username.toLowerCase().slice(0, 64)}`;
        const result = await auth.login(request.body, request.ip);
        reply.setCookie(SESSION_COOKIE, result.sessionSecret, {
          path: '/',
          httpOnly: true,
          sameSite: 'lax',
          secure: secureCookies,
          expires: new Date(result.expiresAt),
        });
        return { user: result.user, csrfToken: result.csrfToken, expiresAt: result.expiresAt };
      },
    );

    app.post(
      '/auth/logout',
      { config: { audit: 'auth.logout' }, schema: { tags: ['auth'], summary: 'End the portal session', response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        await auth.logout(request.principal!);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/auth/me',
      { schema: { tags: ['auth'], summary: 'Who am I', response: { 200: MeView, ...errorResponses } } },
      async (request) => {
        const principal = request.principal;
        if (principal?.kind !== 'user') throw new AuthenticationError('not signed in');
        const csrfToken = request.csrfToken;
        return {
          user: await auth.me(principal),
          authMethod: principal.authMethod,
          scopes: [...principal.scopes],
          ownershipRefs: [...principal.ownershipRefs],
          ...(csrfToken ? { csrfToken } : {}),
        };
      },
    );

    app.get(
      '/auth/tokens',
      {
        schema: {
          tags: ['auth'],
          summary: 'List API tokens (own; all=true for every user\u2019s, admins only)',
          querystring: z.strictObject({ all: z.enum(['true', 'false']).default('false') }),
          response: { 200: z.object({ items: z.array(TokenView) }), ...errorResponses },
        },
      },
      async (request) => ({ items: await auth.listTokens(request.principal!, { all: request.query.all === 'true' }) }),
    );

    app.post(
      '/auth/tokens',
      {
        config: { audit: 'auth.token.create' },
        schema: { tags: ['auth'], summary: 'Create an API token (the secret is shown once)', body: CreateTokenInput, response: { 201: CreatedToken, ...errorResponses } },
      },
      async (request, reply) => reply.code(201).send(await auth.createToken(request.principal!, request.body)),
    );

    app.delete(
      '/auth/tokens/:id',
      {
        config: { audit: 'auth.token.revoke' },
        schema: { tags: ['auth'], summary: 'Revoke an API token', params: idParam, response: { 204: z.null(), ...errorResponses } },
      },
      async (request, reply) => {
        await auth.revokeToken(request.principal!, request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/users',
      { schema: { tags: ['users'], summary: 'List users (admins)', response: { 200: z.object({ items: z.array(UserView) }), ...errorResponses } } },
      async (request) => ({ items: await auth.listUsers(request.principal!) }),
    );

    app.post(
      '/users',
      {
        config: { audit: 'users.create' },
        schema: { tags: ['users'], summary: 'Create a user (admins)', body: CreateUserInput, response: { 201: UserView, ...errorResponses } },
      },
      async (request, reply) => reply.code(201).send(await auth.createUser(request.principal!, request.body)),
    );

    app.patch(
      '/users/:id',
      {
        config: { audit: 'users.update' },
        schema: { tags: ['users'], summary: 'Change a user (admins)', params: idParam, body: UpdateUserInput, response: { 200: UserView, ...errorResponses } },
      },
      async (request) => auth.updateUser(request.principal!, request.params.id, request.body),
    );
  };
}

