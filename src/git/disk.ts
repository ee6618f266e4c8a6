import { constants } from 'node:fs';
import { access, chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { newId } from '../kernel/index.js';
import { runGit } from './git-process.js';

// Branch protection runs where git can check it atomically: after the pack arrived (the new objects are
// visible, in quarantine) and before any ref moves. Parsing the command list in the server before git
// sees it could refuse a deletion, but not a non-fast-forward update, whose new commits are still in
// the unreceived pack. git then moves each ref only if it still holds the old value the hook checked,
// so a concurrent push cannot slip a rewrite past it. What a hook prints reaches the client as "remote: …".
const preReceiveHook = `#!/bin/sh
# Plinth's pre-receive hook, written by src/git/disk.ts at every start (edits are overwritten).
# The default branch (the one HEAD points at) may not be deleted nor rewritten by a force-push.
default_ref=$(git symbolic-ref -q HEAD) || default_ref=
branch=\${default_ref#refs/heads/}
status=0
while read -r old new ref; do
  [ "$ref" = "$default_ref" ] || continue
  case $new in
    *[!0]*) ;;
    *) echo "plinth: refusing to delete $branch, the default branch of this repository." >&2
       status=1
       continue ;;
  esac
  case $old in
    *[!0]*) ;;
    *) continue ;;
  esac
  # Exit 1 means "not an ancestor"; any other failure refuses too (fail closed).
  if ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
    echo "plinth: refusing to force-push $branch, the default branch: $new does not contain $old." >&2
    echo "plinth: fetch, then merge or rebase onto $branch and push again." >&2
    status=1
  fi
done
exit $status
`;

// git runs post-receive once every ref of the push is updated, with exactly the updates it applied
// (each ref's actual old and new value) on stdin. The hook copies them to the file the server named for
// this one receive-pack process; see recordPush in push-events.ts for why that is right under concurrency.
const postReceiveHook = `#!/bin/sh
# Plinth's post-receive hook, written by src/git/disk.ts at every start (edits are overwritten).
[ -n "$PLINTH_PUSH_REPORT" ] || exit 0
while read -r old new ref; do
  printf '%s %s %s\\n' "$old" "$new" "$ref"
done >> "$PLINTH_PUSH_REPORT"
`;

const staleTempMs = 24 * 3600_000;

/** The bare repositories under `<dataDir>/repos`, and the hooks every receive-pack runs. */
export interface RepositoryDisk {
  /** `<dataDir>/repos/.hooks`, passed to receive-pack as core.hooksPath. */
  readonly hooksDir: string;
  /** Creates the folders, writes the hooks, clears leftovers of earlier runs. */
  prepare(): Promise<void>;
  gitDirOf(owner: string, name: string): string;
  /** Creates the bare repository if its folder is missing; returns its path. Safe to call concurrently. */
  ensure(owner: string, name: string, defaultBranch: string): Promise<string>;
  /** Moves the repository out of the way at once, then deletes it. */
  remove(owner: string, name: string): Promise<void>;
  /** A fresh path for one receive-pack's push report (not created). */
  newReportPath(): string;
}

export function createRepositoryDisk(dataDir: string): RepositoryDisk {
  const root = resolve(dataDir, 'repos');
  // Names starting with "." can never be owners (see ownerProblem), so these never collide with repositories.
  const hooksDir = join(root, '.hooks');
  const tmpDir = join(root, '.tmp');
  const trashDir = join(root, '.trash');

  function gitDirOf(owner: string, name: string): string {
    const dir = join(root, owner, `${name}.git`);
    // Names are validated before they get here; this is the last line against a traversal.
    if (!dir.startsWith(root + sep) || dirname(dirname(dir)) !== root) throw new Error(`repository path escapes ${root}: ${owner}/${name}`);
    return dir;
  }

  async function writeHook(name: string, text: string) {
    const temp = join(hooksDir, `.${name}.${newId()}`);
    await writeFile(temp, text, { mode: 0o755 });
    await chmod(temp, 0o755);
    await rename(temp, join(hooksDir, name));
    // A data directory on a noexec mount would make git skip the hooks (and the protections) silently.
    await access(join(hooksDir, name), constants.X_OK).catch((err: unknown) => {
      throw new Error(`git hook ${join(hooksDir, name)} is not executable; the data directory must allow executing files`, { cause: err });
    });
  }

  async function removeStale(dir: string, olderThanMs: number) {
    const now = Date.now();
    for (const entry of await readdir(dir)) {
      const path = join(dir, entry);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs >= olderThanMs) await rm(path, { recursive: true, force: true });
    }
  }

  return {
    hooksDir,
    gitDirOf,
    async prepare() {
      for (const dir of [root, hooksDir, tmpDir, trashDir]) await mkdir(dir, { recursive: true });
      await writeHook('pre-receive', preReceiveHook);
      await writeHook('post-receive', postReceiveHook);
      // Another replica sharing the folder may be mid-push: only old temporary files are its leftovers.
      await removeStale(tmpDir, staleTempMs);
      await removeStale(trashDir, 0);
    },
    async ensure(owner, name, defaultBranch) {
      const dir = gitDirOf(owner, name);
      if (await stat(join(dir, 'HEAD')).then(() => true, () => false)) return dir;
      // Initialised aside and renamed into place, so a reader never sees a half-made repository.
      const temp = join(tmpDir, `init-${newId()}`);
      await runGit(['init', '--bare', '--quiet', '--template=', `--initial-branch=${defaultBranch}`, temp]);
      await mkdir(dirname(dir), { recursive: true });
      try {
        await rename(temp, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        await rm(temp, { recursive: true, force: true });
        // A concurrent creator won the rename: the repository exists, which is all we wanted.
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
      }
      return dir;
    },
    async remove(owner, name) {
      const trash = join(trashDir, `${owner}-${name}-${newId()}`);
      try {
        await rename(gitDirOf(owner, name), trash);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      await rm(trash, { recursive: true, force: true });
    },
    newReportPath: () => join(tmpDir, `push-${newId()}`),
  };
}
