import type { Catalog } from '../catalog/index.js';
import {
  authorize,
  ConflictError,
  InputError,
  NotFoundError,
  PayloadTooLargeError,
  newId,
  principalRef,
  toIso,
  userRef,
  type Kernel,
  type Principal,
  type Subscription,
} from '../kernel/index.js';
import { authorizeOwned } from './access.js';
import { createRepositoryDisk } from './disk.js';
import { requireGit } from './git-process.js';
import {
  branchProblem,
  checkRepositoryPath,
  gitPermissions,
  parseTreePath,
  REF_PUSHED,
  RefPushedPayload,
  repositorySubject,
  revisionProblem,
  type RefPush,
  type Repository,
  type TreeEntry,
} from './model/index.js';
import { readBlob, readTreeAt, resolveCommit } from './reader.js';
import * as q from './store.js';
import { createTransport, type GitOptions, type GitTransport } from './transport.js';

/** Where a file or folder is read: a repository, a branch, tag or commit sha, and a path in its tree. */
export interface TreeLocation {
  owner: string;
  name: string;
  ref: string;
  /** Path from the repository root; "" or omitted is the root folder. */
  path?: string;
}

export interface FileContent {
  /** The commit the ref resolved to, so callers can record exactly what they read. */
  commit: string;
  path: string;
  /** The blob's object id. */
  sha: string;
  size: number;
  content: Buffer;
}

/** Hosted git repositories: created here, served over smart HTTP, read and watched by other layers. */
export interface Git {
  /** Creates the repository, or returns the existing one (`created: false`): calling it twice changes nothing. */
  createRepository(principal: Principal, owner: string, name: string, options?: { defaultBranch?: string }): Promise<{ repository: Repository; created: boolean }>;
  getRepository(principal: Principal, owner: string, name: string): Promise<Repository>;
  listRepositories(principal: Principal, query?: { owner?: string; limit?: number; cursor?: string }): Promise<{ items: Repository[]; nextCursor: string | null }>;
  /** Deletes the repository and its history (platform admins). */
  deleteRepository(principal: Principal, owner: string, name: string): Promise<void>;
  /** The commit sha a branch, tag, `HEAD` or sha names; NotFoundError when none. */
  resolveRef(principal: Principal, at: Omit<TreeLocation, 'path'>): Promise<string>;
  /** A file's bytes at a ref; PayloadTooLargeError beyond `maxBytes` (default 10 MiB). */
  readFile(principal: Principal, at: TreeLocation, options?: { maxBytes?: number }): Promise<FileContent>;
  /** The entries of a folder at a ref. */
  readTree(principal: Principal, at: TreeLocation): Promise<{ commit: string; path: string; entries: TreeEntry[] }>;
  /**
   * Delivers `git.ref.pushed` events as RefPush values in ledger order: with `afterSeq`, those after it
   * first (0 for all of history; remember `seq` to resume after a restart), then live ones; without it,
   * live ones only. `repository` (`owner/name`) narrows to one repository.
   */
  subscribePushes(filter: { afterSeq?: number; repository?: string }, listener: (push: RefPush) => void): Subscription;
  readonly transport: GitTransport;
  /** Prepares the repositories folder and the hooks. */
  start(): Promise<void>;
  /** Waits (bounded) for running pushes to record their events. */
  stop(): Promise<void>;
}

const SYSTEM: Principal = { kind: 'system', name: 'git' };
const defaultReadBytes = 10 * 1024 * 1024;
/** The row id stays inside the layer. */
const withoutId = ({ id: _id, ...repository }: q.StoredRepository): Repository => repository;

export function createGit(kernel: Kernel, deps: { catalog: Pick<Catalog, 'getEntityByRef'>; options?: GitOptions }): Git {
  const { store, ledger, clock } = kernel;
  const log = kernel.logger.child({ layer: 'git' });
  const limits: Required<GitOptions> = { maxPackBytes: 512 * 1024 * 1024, maxFetchRequestBytes: 10 * 1024 * 1024, ...deps.options };
  const disk = createRepositoryDisk(kernel.config.dataDir);
  const running = new Set<Promise<unknown>>();

  /** Whose repository `owner` names: the caller's own (personal), else a catalog Group, else a catalog User. */
  async function ownerRefOf(principal: Principal, owner: string): Promise<string> {
    if (principal.kind === 'user' && principal.username === owner) return userRef(owner);
    if (await deps.catalog.getEntityByRef(SYSTEM, `group:default/${owner}`)) return `group:default/${owner}`;
    if (await deps.catalog.getEntityByRef(SYSTEM, `user:default/${owner}`)) return userRef(owner);
    throw new InputError(`owner: "${owner}" is neither your username nor a Group in the catalog; register the team's Group first, or use your username for a personal repository`);
  }

  /** The repository for a reader: read permission first, so nobody learns what exists without it. */
  async function readable(principal: Principal, owner: string, name: string): Promise<q.StoredRepository> {
    checkRepositoryPath(owner, name);
    authorize(principal, gitPermissions.read);
    return q.selectRepository(store, owner, name);
  }

  async function commitAt(principal: Principal, at: Omit<TreeLocation, 'path'>) {
    const repository = await readable(principal, at.owner, at.name);
    const problem = revisionProblem(at.ref);
    if (problem !== undefined) throw new InputError(`ref: ${problem}`);
    const gitDir = await disk.ensure(repository.owner, repository.name, repository.defaultBranch);
    const commit = await resolveCommit(gitDir, at.ref);
    if (commit === undefined) throw new NotFoundError(`no branch, tag or commit "${at.ref}" in ${repository.fullName}`);
    return { repository, gitDir, commit };
  }

  const transport = createTransport({
    limits,
    disk,
    ledger,
    log,
    running,
    authenticateToken: (secret) => kernel.auth.authenticateToken(secret),
    readable: async (principal, owner, name) => withoutId(await readable(principal, owner, name)),
  });

  return {
    transport,

    async createRepository(principal, owner, name, options = {}) {
      checkRepositoryPath(owner, name);
      const defaultBranch = options.defaultBranch ?? 'main';
      const problem = branchProblem(defaultBranch);
      if (problem !== undefined) throw new InputError(`defaultBranch: ${problem}`);
      const existing = await q.findRepository(store, owner, name);
      const ownerRef = existing?.ownerRef ?? (await ownerRefOf(principal, owner));
      authorizeOwned(principal, gitPermissions.create, { type: 'repository', id: `${owner}/${name}`, ownerRef }, `repositories under ${owner} belong to ${ownerRef}; only its members and platform admins create them`);
      let repository = existing;
      let created = false;
      if (!repository) {
        const row = { id: newId(), owner, name, owner_ref: ownerRef, default_branch: defaultBranch, created_by: principalRef(principal), created_at: toIso(clock.now()) };
        repository = await store.transaction(async (tx) => {
          const inserted = await q.insertRepository(tx, row);
          if (inserted) {
            await ledger.append(
              { kind: 'git.repository.created', subjects: [repositorySubject(inserted.fullName), ownerRef], actor: principalRef(principal), payload: { repository: inserted.fullName, ownerRef, defaultBranch } },
              { db: tx },
            );
          }
          return inserted;
        });
        created = repository !== undefined;
        // A concurrent creation won the insert: theirs is the repository.
        repository ??= await q.selectRepository(store, owner, name);
      }
      const result = withoutId(repository);
      if (options.defaultBranch !== undefined && options.defaultBranch !== repository.defaultBranch) {
        throw new ConflictError(`repository ${repository.fullName} exists with default branch ${repository.defaultBranch}, not ${options.defaultBranch}`);
      }
      // Also for an existing row: repairs a repository whose folder a crash left uncreated.
      await disk.ensure(owner, name, repository.defaultBranch);
      return { repository: result, created };
    },

    getRepository: async (principal, owner, name) => withoutId(await readable(principal, owner, name)),

    async listRepositories(principal, query = {}) {
      authorize(principal, gitPermissions.read);
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 500);
      const [afterOwner, afterName] = query.cursor?.split('/') ?? [];
      const after = afterOwner !== undefined && afterName !== undefined ? { owner: afterOwner, name: afterName } : undefined;
      const rows = await q.selectRepositories(store, { owner: query.owner, after, limit: limit + 1 });
      const items = rows.slice(0, limit).map(withoutId);
      return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.fullName : null };
    },

    async deleteRepository(principal, owner, name) {
      checkRepositoryPath(owner, name);
      authorize(principal, gitPermissions.delete);
      const repository = await q.selectRepository(store, owner, name);
      // The folder goes first: a row without a folder is recreated empty, but a folder left behind by a
      // deleted row would come back to life under a new repository of the same name.
      await disk.remove(owner, name);
      await store.transaction(async (tx) => {
        if (!(await q.deleteRepository(tx, repository.id))) return;
        await ledger.append(
          { kind: 'git.repository.deleted', subjects: [repositorySubject(repository.fullName), repository.ownerRef], actor: principalRef(principal), payload: { repository: repository.fullName } },
          { db: tx },
        );
      });
    },

    async resolveRef(principal, at) {
      return (await commitAt(principal, at)).commit;
    },

    async readFile(principal, at, options = {}) {
      const path = parseTreePath(at.path ?? '');
      if (path === '') throw new InputError('path: name a file; the root is a folder (use readTree)');
      const { repository, gitDir, commit } = await commitAt(principal, at);
      const maxBytes = options.maxBytes ?? defaultReadBytes;
      const blob = await readBlob(gitDir, commit, path, maxBytes);
      switch (blob.kind) {
        case 'missing':
          throw new NotFoundError(`no file ${path} at ${at.ref} in ${repository.fullName}`);
        case 'not-a-file':
          throw new InputError(`path: ${path} at ${at.ref} in ${repository.fullName} is a ${blob.type === 'tree' ? 'folder' : blob.type}, not a file`);
        case 'too-large':
          throw new PayloadTooLargeError(`${path} at ${at.ref} in ${repository.fullName} is ${blob.size} bytes, more than the ${maxBytes} this read allows`);
        default:
          return { commit, path, sha: blob.sha, size: blob.size, content: blob.content };
      }
    },

    async readTree(principal, at) {
      const path = parseTreePath(at.path ?? '');
      const { repository, gitDir, commit } = await commitAt(principal, at);
      const tree = await readTreeAt(gitDir, commit, path);
      if (tree.kind === 'missing') throw new NotFoundError(`no folder ${path} at ${at.ref} in ${repository.fullName}`);
      if (tree.kind === 'not-a-folder') throw new InputError(`path: ${path} at ${at.ref} in ${repository.fullName} is a ${tree.type === 'blob' ? 'file' : tree.type}, not a folder`);
      return { commit, path, entries: tree.entries };
    },

    subscribePushes(filter, listener) {
      return ledger.subscribe(
        { kinds: [REF_PUSHED], afterSeq: filter.afterSeq, subject: filter.repository !== undefined ? repositorySubject(filter.repository) : undefined },
        (event) => {
          // Ledger payloads read back are input like any other (STYLE §4).
          const payload = RefPushedPayload.safeParse(event.payload);
          if (!payload.success) return log.warn({ seq: event.seq }, 'skipping a malformed git.ref.pushed event');
          listener({ ...payload.data, seq: event.seq, time: event.time });
        },
      );
    },

    async start() {
      const version = await requireGit();
      await disk.prepare();
      log.debug({ version }, 'hosted git ready');
    },

    async stop() {
      const pending = Promise.allSettled([...running]);
      await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    },
  };
}
