import { z } from 'zod';
import type { Permission } from '../../kernel/index.js';
import { branchSchema, nameSchema, ownerSchema } from './names.js';

// ---- Repositories ----------------------------------------------------------------------------

/** A hosted repository. */
export interface Repository {
  owner: string;
  name: string;
  /** `owner/name`, the repository's id in events and URLs. */
  fullName: string;
  /** Who pushes: `group:default/<owner>` for a team's repository, `user:default/<owner>` for a personal one. */
  ownerRef: string;
  defaultBranch: string;
  createdBy: string;
  createdAt: string;
}

export const gitPermissions = {
  read: { name: 'read repositories', verb: 'read' },
  create: { name: 'create a repository', verb: 'write' },
  push: { name: 'push', verb: 'write' },
  delete: { name: 'delete a repository', verb: 'admin' },
} satisfies Record<string, Permission>;

export const repositoryResource = (repository: Repository) => ({ type: 'repository', id: repository.fullName, ownerRef: repository.ownerRef });

/** The ledger subject of everything that happens to a repository. */
export const repositorySubject = (fullName: string): string => `repository:${fullName}`;

// ---- API shapes -------------------------------------------------------------------------------

/** Owners no hosted repository may have: pipeline runs of registered external repositories are named `external/<name>`. */
export const reservedOwners: readonly string[] = ['external'];

export const CreateRepositoryInput = z.strictObject({
  owner: ownerSchema.refine((owner) => !reservedOwners.includes(owner), { message: 'is reserved: runs of external repositories are named external/<name>; choose another owner' }),
  name: nameSchema,
  /** The branch HEAD points at, protected from force-push and deletion; default `main`. */
  defaultBranch: branchSchema.optional(),
});
export type CreateRepositoryInput = z.infer<typeof CreateRepositoryInput>;

export const RepositoryParams = z.strictObject({ owner: ownerSchema, name: nameSchema });

export const ListRepositoriesQuery = z.strictObject({
  owner: ownerSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(200).regex(/^[a-z0-9._-]+\/[a-z0-9._-]+$/, 'a cursor is the nextCursor of the previous page').optional(),
});
export type ListRepositoriesQuery = z.infer<typeof ListRepositoriesQuery>;

export const RepositoryView = z.object({
  owner: z.string(),
  name: z.string(),
  fullName: z.string(),
  ownerRef: z.string(),
  defaultBranch: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  /** Clone with an API token as the password: `git clone http://x:$PLINTH_TOKEN@host/git/<owner>/<name>.git`. */
  cloneUrl: z.string(),
});
export type RepositoryView = z.infer<typeof RepositoryView>;

// ---- Reading trees ----------------------------------------------------------------------------

export interface TreeEntry {
  /** Path from the repository root. */
  path: string;
  name: string;
  type: 'blob' | 'tree' | 'commit';
  /** Git file mode: 100644, 100755, 120000 (symlink), 040000 (folder), 160000 (submodule). */
  mode: string;
  sha: string;
  /** Bytes, for blobs. */
  size: number | null;
}

/** Parses `git ls-tree -z --long` output; entries under `parent` get their full path. */
export function parseLsTree(output: string, parent: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of output.split('\0')) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    const match = /^(\d{6}) (blob|tree|commit) ([0-9a-f]{40,64}) +(-|\d+)$/.exec(record.slice(0, tab));
    if (tab < 0 || !match) continue;
    const name = record.slice(tab + 1);
    entries.push({
      path: parent === '' ? name : `${parent}/${name}`,
      name,
      type: match[2] as TreeEntry['type'],
      mode: match[1]!,
      sha: match[3]!,
      size: match[4] === '-' ? null : Number(match[4]),
    });
  }
  return entries;
}
