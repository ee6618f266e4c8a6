import { spawn } from 'node:child_process';
import { spawnOffThread } from '../../kernel/index.js';
import { createLineMasker } from '../model/index.js';

/** Limits applied to every step process (STYLE: quantities carry units). */
export interface StepLimits {
  /** RLIMIT_CPU: CPU seconds the step's processes may each use. */
  cpuSeconds: number;
  /**
   * RLIMIT_DATA: memory a process may allocate. Not RLIMIT_AS: V8 reserves far more address space than it
   * uses (a WebAssembly instance — undici's HTTP parser behind every `fetch()` — reserves ~10 GiB), so an
   * address-space limit broke the node-service template's own tests (as in the runtime's local driver).
   */
  dataBytes: number;
  /** RLIMIT_NPROC: processes of the runner's user; not enforced for root (the kernel exempts it). */
  processes: number;
  /**
   * The steps' CPU priority (nice value, 0–19; 0 leaves it): steps share the machine with the server or
   * runner that streams their logs and serves the API, which must stay responsive while they compile.
   */
  niceness: number;
}

/** Default limits of a step (the embedded runner's and `plinth runner`'s). */
export const defaultStepLimits: StepLimits = { cpuSeconds: 3600, dataBytes: 4 * 1024 ** 3, processes: 1024, niceness: 10 };

/** How steps are confined on this machine, found once at start. */
export interface Sandbox {
  prlimit: string | undefined;
  bwrap: string | undefined;
  nice: string | undefined;
}

/** Finds the confinement tools of this machine (once, at start). */
export async function findSandbox(env: NodeJS.ProcessEnv): Promise<Sandbox> {
  const [prlimit, bwrap, nice] = await Promise.all(['prlimit', 'bwrap', 'nice'].map((tool) => findExecutable(tool, env)));
  return { prlimit, bwrap, nice };
}

export function findExecutable(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `command -v ${name}`], { env: { PATH: env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 && out.trim() !== '' ? out.trim() : undefined));
  });
}

/**
 * The argv that runs `command` confined: bubblewrap (when installed) gives the step a read-only view of
 * the system, the data directory replaced by an empty tmpfs and only its own workspace writable; prlimit
 * sets the resource limits. Without either, the step still gets a clean env, its cwd and the time limit.
 */
export function confinedArgv(sandbox: Sandbox, limits: StepLimits, input: { command: string; workspace: string; home: string; dataDir: string }): string[] {
  const shell = ['/bin/sh', '-c', input.command];
  const prioritized = sandbox.nice !== undefined && limits.niceness > 0 ? [sandbox.nice, '-n', String(limits.niceness), ...shell] : shell;
  const limited = sandbox.prlimit !== undefined
    ? [sandbox.prlimit, `--cpu=${limits.cpuSeconds}`, `--data=${limits.dataBytes}`, `--nproc=${limits.processes}`, '--', ...prioritized]
    : prioritized;
  if (sandbox.bwrap === undefined) return limited;
  return [
    sandbox.bwrap, '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp',
    '--tmpfs', input.dataDir, '--bind', input.workspace, input.workspace, '--bind', input.home, input.home,
    '--unshare-pid', '--unshare-ipc', '--die-with-parent', '--new-session', '--chdir', input.workspace, '--', ...limited,
  ];
}

export interface ProcessOutcome {
  exitCode: number | null;
  timedOut: boolean;
  cancelled: boolean;
}

/**
 * Runs one step process in its own process group and streams masked lines. At the time limit or on
 * cancellation the whole group is killed (SIGTERM, then SIGKILL after a grace period), so children a
 * step forked die with it.
 */
export function runProcess(input: {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  maskPatterns: readonly string[];
  signal: AbortSignal;
  onLine: (stream: 'stdout' | 'stderr', text: string) => void;
}): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const [file, ...args] = input.argv;
    // From a worker thread: a fork of the server blocks whoever calls spawn (issue 5).
    const child = spawnOffThread(file!, args, { cwd: input.cwd, env: input.env, detached: true });
    let timedOut = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => child.killGroup(signal);
    const stop = () => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), 2000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, input.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      stop();
    };
    input.signal.addEventListener('abort', onAbort, { once: true });
    if (input.signal.aborted) onAbort();
    for (const stream of ['stdout', 'stderr'] as const) {
      const masker = createLineMasker(input.maskPatterns);
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => masker.push(chunk).forEach((line) => input.onLine(stream, line)));
      child[stream].on('end', () => masker.end().forEach((line) => input.onLine(stream, line)));
    }
    let settled = false;
    const finish = (exitCode: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      input.signal.removeEventListener('abort', onAbort);
      // Grandchildren may still hold the group: kill it whatever the exit.
      killGroup('SIGKILL');
      if (killTimer) clearTimeout(killTimer);
      resolve({ exitCode, timedOut, cancelled });
    };
    child.on('error', (err: Error) => {
      input.onLine('stderr', `could not start the step: ${err.message}`);
      finish(null);
    });
    // A background process left holding stdout would keep 'close' from firing: the step is over when its shell exits.
    child.on('exit', () => killGroup('SIGKILL'));
    child.on('close', (code: number | null) => finish(code));
  });
}
