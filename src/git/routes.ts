import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorResponses } from '../kernel/index.js';
import { CreateRepositoryInput, ListRepositoriesQuery, RepositoryParams, RepositoryView, type Repository } from './model/index.js';

/** `…/contents/<ref>/<path>`: the ref is one path segment (branch names with / are read by sha or tag). */
const ContentsParams = RepositoryParams.extend({ ref: z.string().min(1).max(255), '*': z.string().max(4096) });
import type { Git } from './service.js';

/** Where `/api/git/repos/<owner>/<name>/contents/<ref>/<path>` points, or undefined for any other path. */
export function contentsLocationOf(pathname: string): { owner: string; name: string; ref: string; path: string } | undefined {
  const match = /^\/api\/git\/repos\/([^/]+)\/([^/]+)\/contents\/([^/]+)\/(.+)$/.exec(pathname);
  if (!match) return undefined;
  const [, owner, name, ref, path] = match.map((part) => decodeURIComponent(part ?? ''));
  return { owner: owner!, name: name!, ref: ref!, path: path! };
}

/** The clone URL as this request reached the server (host and scheme as the client sees them). */
const viewOf = (request: FastifyRequest, repository: Repository): RepositoryView => ({
  ...repository,
  cloneUrl: `${request.protocol}://${request.host}/git/${repository.owner}/${repository.name}.git`,
});

/** `/api/git/repos`: create, list, show and delete hosted repositories. */
export function gitRoutes(git: Git): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/repos',
      {
        schema: {
          tags: ['git'],
          summary: 'List hosted repositories, by owner and name',
          querystring: ListRepositoriesQuery,
          response: { 200: z.object({ items: z.array(RepositoryView), nextCursor: z.string().nullable() }), ...errorResponses },
        },
      },
      async (request) => {
        const page = await git.listRepositories(request.principal!, request.query);
        return { items: page.items.map((r) => viewOf(request, r)), nextCursor: page.nextCursor };
      },
    );

    app.post(
      '/repos',
      {
        config: { audit: 'git.repository.create' },
        schema: {
          tags: ['git'],
          summary: 'Create a repository (201), or return the existing one unchanged (200)',
          body: CreateRepositoryInput,
          response: { 200: RepositoryView, 201: RepositoryView, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { owner, name, defaultBranch } = request.body;
        const { repository, created } = await git.createRepository(request.principal!, owner, name, { defaultBranch });
        return reply.code(created ? 201 : 200).send(viewOf(request, repository));
      },
    );

    app.get(
      '/repos/:owner/:name',
      { schema: { tags: ['git'], summary: 'Show a repository', params: RepositoryParams, response: { 200: RepositoryView, ...errorResponses } } },
      async (request) => viewOf(request, await git.getRepository(request.principal!, request.params.owner, request.params.name)),
    );

    app.get(
      '/repos/:owner/:name/contents/:ref/*',
      {
        schema: {
          tags: ['git'],
          summary: 'A file at a branch, tag or commit, as raw bytes (what url catalog locations and templates read)',
          params: ContentsParams,
          response: { 200: z.unknown(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { owner, name, ref } = request.params;
        const file = await git.readFile(request.principal!, { owner, name, ref, path: request.params['*'] });
        return reply
          .header('content-type', 'application/octet-stream')
          .header('x-git-commit', file.commit)
          .header('etag', `"${file.sha}"`)
          .send(file.content);
      },
    );

    app.delete(
      '/repos/:owner/:name',
      {
        config: { audit: 'git.repository.delete' },
        schema: { tags: ['git'], summary: 'Delete a repository and its history (platform admins)', params: RepositoryParams, response: { 204: z.null(), ...errorResponses } },
      },
      async (request, reply) => {
        await git.deleteRepository(request.principal!, request.params.owner, request.params.name);
        return reply.code(204).send(null);
      },
    );
  };
}
