import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { detectSecrets } from './detect.js';
import type { Finding, FragmentSource, SecretsConfig, Skipped } from './model.js';
import { capLongLines } from './scan-tree.js';

export interface GitScanOptions {
  maxHunkBytes?: number;
  maxLineChars?: number;
  signal?: AbortSignal;
}

export interface GitScanOutput {
  findings: Finding[];
  skipped: Skipped[];
  commitsScanned: number;
  bytesScanned: number;
}

/** Raised when git cannot list the range (not a repository, unknown revision). */
export class GitRangeError extends Error {
  override readonly name = 'GitRangeError';
}

const COMMIT_MARK = '\x1e';

/** A revision range as `git log` takes it; rejects anything git could read as an option. */
export function checkRange(range: string): string | undefined {
  if (range.trim() === '' || range.startsWith('-') || /\s/.test(range)) return `"${range}" is not a revision range; use e.g. main..HEAD or a1b2c3d`;
  return undefined;
}

/**
 * Scans the lines each commit in `range` added, as `gitleaks git` does: `git log -p -U0` is streamed
 * and parsed, so a long history never sits in memory. Merge commits show no diff (their changes
 * are scanned in the commits that made them).
 */
export async function scanGitRange(repoDir: string, range: string, config: SecretsConfig, options: GitScanOptions = {}): Promise<GitScanOutput> {
  const problem = checkRange(range);
  if (problem) throw new GitRangeError(problem);
  const maxHunk = options.maxHunkBytes ?? 10 * 1024 * 1024;
  const maxLine = options.maxLineChars ?? 20_000;
  const args = ['-c', 'core.quotePath=false', 'log', '-p', '-U0', '--no-color', '--no-ext-diff', '--no-textconv', `--format=${COMMIT_MARK}%H%x00%an%x00%ae%x00%aI`, '--end-of-options', range, '--'];
  const child = spawn('git', args, { cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });

  const out: GitScanOutput = { findings: [], skipped: [], commitsScanned: 0, bytesScanned: 0 };
  let commit: Omit<FragmentSource, 'file'> | undefined;
  let file: string | undefined;
  let hunkStart = 0;
  let hunk: string[] = [];
  let hunkBytes = 0;
  let oversized = false;
  const flush = () => {
    if (commit && file !== undefined && hunk.length > 0) {
      if (oversized) out.skipped.push({ file: `${commit.commit!.slice(0, 12)}:${file}`, reason: `added lines larger than ${maxHunk} bytes` });
      else {
        const capped = capLongLines(hunk.join('\n'), maxLine);
        out.bytesScanned += hunkBytes;
        for (const f of detectSecrets(config, capped.text, { ...commit, file }, hunkStart)) out.findings.push(f);
      }
    }
    hunk = [];
    hunkBytes = 0;
    oversized = false;
  };
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (line.startsWith(COMMIT_MARK)) {
      flush();
      // The commit message is left out of findings: it could itself hold a secret.
      const [sha, author, email, date] = line.slice(1).split('\0');
      commit = { commit: sha, author, email, date };
      file = undefined;
      out.commitsScanned++;
    } else if (line.startsWith('diff --git ')) {
      flush();
      file = undefined;
    } else if (line.startsWith('+++ ')) {
      const target = line.slice(4);
      file = target === '/dev/null' ? undefined : target.replace(/^"?b\//, '').replace(/"$/, '');
    } else if (line.startsWith('@@ ')) {
      flush();
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)/.exec(line);
      hunkStart = m ? Number(m[1]) : 1;
    } else if (line.startsWith('+') && file !== undefined) {
      hunkBytes += line.length;
      if (hunkBytes > maxHunk) oversized = true;
      else hunk.push(line.slice(1));
    }
  }
  flush();
  const code = await exited;
  if (code !== 0) throw new GitRangeError(`git log ${range} failed (exit ${code ?? 'signal'}): ${stderr.trim().split('\n')[0] ?? ''}`);
  return out;
}
