import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { GitCommandError, runGit } from '../../git/index.js';
import { parseTestReport, type RepositoryFacts, type TestResult, type Toolchain } from '../model/index.js';

/** git through the git layer's client; the output (or git's message) goes to the run's log. */
async function git(args: string[], cwd: string, env?: Record<string, string>): Promise<{ code: number | null; output: string }> {
  try {
    const { stdout, exitCode } = await runGit(args, { cwd, ...(env !== undefined ? { extraEnv: env } : {}) });
    return { code: exitCode, output: stdout.toString('utf8') };
  } catch (err) {
    if (err instanceof GitCommandError) return { code: err.exitCode, output: err.stderr };
    return { code: null, output: (err as Error).message };
  }
}

/**
 * Checks the commit out into a fresh workspace with a real `git clone` of the bare repository.
 * `--no-local` copies objects through git's transport instead of hard-linking the platform's object
 * files, so nothing a step does in its workspace can touch the hosted repository.
 */
export async function checkout(input: { source: string; env?: Record<string, string> | undefined; sha: string; workspace: string; log: (line: string) => void }): Promise<boolean> {
  await rm(input.workspace, { recursive: true, force: true });
  await mkdir(input.workspace, { recursive: true });
  // A URL (an external repository) clones over its transport; `--no-local` only matters for a path.
  const cloned = await git(['clone', '--no-local', '--no-checkout', '--quiet', '--', input.source, '.'], input.workspace, input.env);
  if (cloned.code !== 0) {
    input.log(`git clone failed: ${cloned.output.trim()}`);
    return false;
  }
  const checkedOut = await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', input.sha, '--'], input.workspace);
  if (checkedOut.code !== 0) {
    input.log(`git checkout ${input.sha} failed: ${checkedOut.output.trim()}`);
    return false;
  }
  input.log(`checked out ${input.sha}`);
  return true;
}

const readOptional = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
};

export async function repositoryFacts(workspace: string, available: ReadonlySet<Toolchain>): Promise<RepositoryFacts & { plinthYaml?: string }> {
  const rootFiles = new Set(await readdir(workspace));
  const packageJson = rootFiles.has('package.json') ? await readOptional(join(workspace, 'package.json')) : undefined;
  const plinthYaml = rootFiles.has('plinth.yaml') ? await readOptional(join(workspace, 'plinth.yaml')) : undefined;
  return { rootFiles, available, ...(packageJson !== undefined ? { packageJson } : {}), ...(plinthYaml !== undefined ? { plinthYaml } : {}) };
}

const reportPatterns = ['**/*junit*.xml', '**/TEST-*.xml', '**/test-results*.{xml,json}', '**/test-report*.{xml,json}', '**/vitest-report*.json', '**/reports/**/*.xml'];
const maxReportBytes = 20 * 1024 * 1024;

/**
 * Test reports written (or rewritten) in the workspace since `sinceMs`, parsed. `claimed` holds the report files (by path, mtime and size)
 * already taken by a step of this run: steps running side by side both see a report written while
 * they ran, and the first to finish keeps it, so a test is never recorded twice.
 */
export async function collectTestReports(workspace: string, sinceMs: number, claimed: Set<string>): Promise<TestResult[]> {
  const files = await glob(reportPatterns, { cwd: workspace, ignore: ['**/node_modules/**', '.git/**'], absolute: true, followSymbolicLinks: false });
  const results: TestResult[] = [];
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || info.mtimeMs < sinceMs || info.size > maxReportBytes) continue;
    const key = `${file}\0${info.mtimeMs}\0${info.size}`;
    if (claimed.has(key)) continue;
    claimed.add(key);
    const text = await readOptional(file);
    if (text !== undefined) results.push(...parseTestReport(text));
  }
  return results;
}
