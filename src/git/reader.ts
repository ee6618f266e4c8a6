import { parseLsTree, type TreeEntry } from './model/index.js';
import { runGit } from './git-process.js';

// Reads objects of a bare repository for other layers. Every revision and path has been validated by
// model.ts (no leading "-", no revision syntax, no control characters) before it reaches a git argument.

/** The commit a branch, tag, `HEAD` or sha names, or undefined when it names none. */
export async function resolveCommit(gitDir: string, revision: string): Promise<string | undefined> {
  const { stdout, exitCode } = await runGit(['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { okExitCodes: [0, 1, 128] });
  const sha = stdout.toString('utf8').trim();
  return exitCode === 0 && sha !== '' ? sha : undefined;
}

interface ObjectInfo {
  sha: string;
  type: string;
  size: number;
}

/** `git cat-file --batch-check` of `<commit>:<path>` (or the commit's tree for the root). */
async function objectAt(gitDir: string, commit: string, path: string): Promise<ObjectInfo | undefined> {
  const name = path === '' ? `${commit}^{tree}` : `${commit}:${path}`;
  const { stdout } = await runGit(['--git-dir', gitDir, 'cat-file', '--batch-check'], { input: `${name}\n` });
  const match = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(stdout.toString('utf8').trim());
  return match ? { sha: match[1]!, type: match[2]!, size: Number(match[3]) } : undefined;
}

export type BlobResult =
  | { kind: 'blob'; sha: string; size: number; content: Buffer }
  | { kind: 'missing' }
  | { kind: 'not-a-file'; type: string }
  | { kind: 'too-large'; size: number };

export async function readBlob(gitDir: string, commit: string, path: string, maxBytes: number): Promise<BlobResult> {
  const info = await objectAt(gitDir, commit, path);
  if (!info) return { kind: 'missing' };
  if (info.type !== 'blob') return { kind: 'not-a-file', type: info.type };
  if (info.size > maxBytes) return { kind: 'too-large', size: info.size };
  const { stdout } = await runGit(['--git-dir', gitDir, 'cat-file', 'blob', info.sha], { maxOutputBytes: Math.max(info.size, 1) });
  return { kind: 'blob', sha: info.sha, size: info.size, content: stdout };
}

export type TreeResult = { kind: 'tree'; entries: TreeEntry[] } | { kind: 'missing' } | { kind: 'not-a-folder'; type: string };

export async function readTreeAt(gitDir: string, commit: string, path: string): Promise<TreeResult> {
  const info = await objectAt(gitDir, commit, path);
  if (!info) return { kind: 'missing' };
  if (info.type !== 'tree') return { kind: 'not-a-folder', type: info.type };
  const { stdout } = await runGit(['--git-dir', gitDir, 'ls-tree', '-z', '--long', info.sha]);
  return { kind: 'tree', entries: parseLsTree(stdout.toString('utf8'), path) };
}
