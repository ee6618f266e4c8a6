import { spawnOffThread } from '../kernel/index.js';

/**
 * The environment of every git child process. It is the process environment a spawned program needs
 * (PATH to find git and what hooks run, HOME, TMPDIR, locale), not configuration, so it is read here
 * rather than through kernel/config. Everything else is left out: a GIT_DIR or GIT_* variable of the
 * server's own environment must never steer the hosted repositories, and neither may the system or
 * the user's global git config (a global core.hooksPath would silently replace Plinth's hooks).
 */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
}

/** The sanitised environment plus `extraEnv`, for git started elsewhere (spawnOffThread). */
export const gitEnv = (extraEnv: Record<string, string> = {}): Record<string, string> => ({ ...baseEnv(), ...extraEnv });

/** A git command that failed; `stderr` is kept for the log, never sent to clients. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.slice(0, 3).join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim().slice(0, 500)}`);
    this.name = 'GitCommandError';
  }
}

/** The output exceeded `maxOutputBytes`; the process was killed. */
export class GitOutputTooLargeError extends Error {
  constructor(readonly maxOutputBytes: number) {
    super(`git output exceeded ${maxOutputBytes} bytes`);
    this.name = 'GitOutputTooLargeError';
  }
}

export interface RunGitOptions {
  cwd?: string;
  /** Added to the sanitised environment (author identity, …). */
  extraEnv?: Record<string, string>;
  signal?: AbortSignal;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Kills git and rejects once stdout grows past this (default 16 MiB). */
  maxOutputBytes?: number;
  /** Exit codes that are answers rather than failures (e.g. 1 of `merge-base --is-ancestor`). */
  okExitCodes?: readonly number[];
}

/** Runs git to completion and returns stdout and the exit code; rejects with GitCommandError otherwise. */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<{ stdout: Buffer; exitCode: number }> {
  const maxOutputBytes = options.maxOutputBytes ?? 16 * 1024 * 1024;
  const okExitCodes = options.okExitCodes ?? [0];
  return new Promise((resolve, reject) => {
    // Off the event loop: a server pushing, cloning and reading repositories for many runs spawns git often.
    const child = spawnOffThread('git', args, { cwd: options.cwd, env: gitEnv(options.extraEnv), signal: options.signal, input: options.input ?? '' });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let tooLarge = false;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxOutputBytes) {
        tooLarge = true;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code: number | null) => {
      if (tooLarge) return reject(new GitOutputTooLargeError(maxOutputBytes));
      if (code !== null && okExitCodes.includes(code)) return resolve({ stdout: Buffer.concat(chunks), exitCode: code });
      reject(new GitCommandError(args, code, stderr));
    });
  });
}

/**
 * Throws unless git 2.32 or later is on PATH: GIT_CONFIG_GLOBAL (2.32), `log --diff-merges` (2.31) and
 * the unborn-HEAD advertisement that lets an empty repository's clone start on its default branch (2.31).
 */
export async function requireGit(): Promise<string> {
  let version: string;
  try {
    version = (await runGit(['--version'])).stdout.toString('utf8').trim();
  } catch (err) {
    throw new Error('git is not installed or not on PATH; Plinth hosts repositories with it (install git 2.32 or later)', { cause: err });
  }
  const match = /git version (\d+)\.(\d+)/.exec(version);
  if (!match || Number(match[1]) * 1000 + Number(match[2]) < 2032) throw new Error(`Plinth needs git 2.32 or later to host repositories; found "${version}"`);
  return version;
}
