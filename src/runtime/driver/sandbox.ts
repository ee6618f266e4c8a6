import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { chmod, mkdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { WorkloadFile, WorkloadVolume } from '../model/index.js';
import { resolveCommand } from './artifact.js';

/** Something a sandboxed replica sees at `target`: a file Plinth wrote, or a volume directory. */
export interface SandboxMount {
  kind: 'file' | 'directory';
  /** The host path shown at `target`. */
  source: string;
  /** Absolute, normalized path inside the sandbox. */
  target: string;
  readOnly: boolean;
}

export type HostEntryKind = 'directory' | 'file' | 'symlink' | 'other';

export interface HostEntry {
  name: string;
  kind: HostEntryKind;
  /** What a symlink points to, as written. */
  linkTarget: string | undefined;
}

/** The few questions `sandboxArgs` asks the host file system; `hostFileSystem` answers them from the real one. */
export interface HostFileSystem {
  /** What is at `path` (a final symlink not followed); undefined when nothing is. */
  lstat(path: string): { kind: HostEntryKind; mode: number } | undefined;
  list(dir: string): HostEntry[];
  /** Throws when the path does not resolve (a dangling symlink). */
  realpath(path: string): string;
}

const kindOf = (s: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): HostEntryKind =>
  s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';

export const hostFileSystem: HostFileSystem = {
  lstat(path) {
    const s = lstatSync(path, { throwIfNoEntry: false });
    return s === undefined ? undefined : { kind: kindOf(s), mode: s.mode & 0o7777 };
  },
  list(dir) {
    return readdirSync(dir)
      .sort()
      .map((name) => {
        const path = posix.join(dir, name);
        const kind = kindOf(lstatSync(path));
        return { name, kind, linkTarget: kind === 'symlink' ? readlinkSync(path) : undefined };
      });
  },
  realpath: (path) => realpathSync(path),
};

/** Where a target lands on this host: its real path (symlinks on the way resolved), the deepest part that exists, and what is there. */
interface Placement {
  real: string;
  existing: string;
  found: HostEntryKind | undefined;
}

function placeTarget(target: string, host: HostFileSystem): Placement {
  const parts = target.split('/').filter(Boolean);
  let at = '/';
  for (const [i, part] of parts.entries()) {
    let next = posix.join(at, part);
    let info = host.lstat(next);
    if (info === undefined) return { real: posix.join(at, ...parts.slice(i)), existing: at, found: undefined };
    if (info.kind === 'symlink') {
      try {
        next = host.realpath(next);
      } catch {
        throw new Error(`${target}: ${next} is a symbolic link to nothing; choose another target`);
      }
      info = host.lstat(next)!;
    }
    if (i < parts.length - 1 && info.kind !== 'directory') throw new Error(`${target}: ${next} is not a directory on this host, so nothing can be placed under it`);
    at = next;
    if (i === parts.length - 1) return { real: at, existing: at, found: info.kind };
  }
  throw new Error(`${target}: not a path below "/"`);
}

const kernelFileSystems = /^\/(proc|dev|sys)(\/|$)/;
const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
const depth = (path: string) => path.split('/').length;

/** The bwrap options that recreate `entry` of host directory `dir` at the same path. */
function rebind(dir: string, entry: HostEntry, fileOption: '--bind' | '--ro-bind'): string[] {
  const path = posix.join(dir, entry.name);
  if (entry.kind === 'symlink') return ['--symlink', entry.linkTarget!, path];
  return [entry.kind === 'directory' ? '--bind' : fileOption, path, path];
}

/**
 * The bwrap options (before `--`) that show a replica the host as it is — writable host directories,
 * the same /tmp, network, uid and process group — plus `mounts` at their targets, without creating
 * anything on the host. The root is bwrap's own tmpfs with every top-level host entry bound at the
 * same path; a target whose directories do not exist under an existing host directory A gets A
 * replaced by a tmpfs holding A's entries, so bwrap creates the missing directories in that tmpfs.
 */
export function sandboxArgs(input: { mounts: readonly SandboxMount[]; cwd: string }, host: HostFileSystem = hostFileSystem): string[] {
  const placed = input.mounts.map((mount) => {
    const place = placeTarget(mount.target, host);
    if (place.real === '/' || kernelFileSystems.test(place.real)) throw new Error(`${mount.target}: leads to ${place.real} on this host, where nothing may be placed`);
    if (input.cwd === place.real || input.cwd.startsWith(`${place.real}/`)) throw new Error(`${mount.target}: would hide the release's own directory ${input.cwd}; choose another target`);
    return { mount, place };
  });
  for (const [i, a] of placed.entries()) {
    const clash = placed.slice(0, i).find((b) => overlaps(a.place.real, b.place.real));
    if (clash) throw new Error(`${a.mount.target} and ${clash.mount.target} overlap on this host (${a.place.real}, ${clash.place.real}); give each its own place`);
  }
  // Directory → names of its entries to leave out (a target of another kind stands there).
  const shadows = new Map<string, Set<string>>();
  const shadow = (dir: string, omit?: string) => {
    const omitted = shadows.get(dir) ?? new Set<string>();
    if (omit !== undefined) omitted.add(omit);
    shadows.set(dir, omitted);
  };
  for (const { mount, place } of placed) {
    if (place.found === undefined) {
      if (place.existing !== '/') shadow(place.existing); // the root is bwrap's tmpfs already
    } else if (place.found !== mount.kind) {
      shadow(posix.dirname(place.real), posix.basename(place.real));
    }
  }
  const rootOmitted = shadows.get('/') ?? new Set<string>();
  shadows.delete('/');
  const args = ['--die-with-parent'];
  for (const entry of host.list('/')) {
    if (entry.name === 'proc' || entry.name === 'dev' || rootOmitted.has(entry.name)) continue;
    args.push(...rebind('/', entry, '--ro-bind'));
  }
  args.push('--proc', '/proc', '--dev', '/dev');
  // Parents first: a deeper shadow is a tmpfs over an entry its parent's shadow re-bound.
  for (const [dir, omitted] of [...shadows].sort(([a], [b]) => depth(a) - depth(b))) {
    const mode = host.lstat(dir)!.mode;
    args.push('--perms', mode.toString(8).padStart(4, '0'), '--tmpfs', dir);
    for (const entry of host.list(dir)) if (!omitted.has(entry.name)) args.push(...rebind(dir, entry, '--bind'));
  }
  for (const { mount, place } of placed) args.push(mount.readOnly ? '--ro-bind' : '--bind', mount.source, place.real);
  args.push('--chdir', input.cwd);
  return args;
}

/** The programs a sandboxed replica needs on the server. */
export interface SandboxTools {
  bwrap: string;
  /** GNU env (coreutils 8.31+), for its signal options. */
  env: string;
}

const signalOptionsWork = (env: string) =>
  new Promise<boolean>((resolve) => {
    const child = spawn(env, ['--ignore-signal=TERM', '--default-signal=TERM', '--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });

/** Finds bwrap and env in `path` (or bwrap at `bwrapPath`); throws saying what to install. */
export async function findSandboxTools(path: string, bwrapPath?: string): Promise<SandboxTools> {
  const bwrap = await resolveCommand(bwrapPath ?? 'bwrap', '/', path);
  if (bwrap === undefined) throw new Error(`files and volumes need bubblewrap (bwrap) on the server: apt-get install bubblewrap (looked ${bwrapPath !== undefined ? `at ${bwrapPath}` : `in PATH=${path}`})`);
  const env = await resolveCommand('env', '/', path);
  if (env === undefined || !(await signalOptionsWork(env))) throw new Error(`files and volumes need GNU env with --ignore-signal (coreutils 8.31 or later) in PATH=${path}`);
  return { bwrap, env };
}

/**
 * The argv that runs `command` in the sandbox. bwrap dies at SIGTERM without passing it on, and
 * --die-with-parent then SIGKILLs the workload, which would end every graceful drain; so bwrap ignores
 * SIGTERM (the workload, in the same process group, gets it directly) and the workload starts with
 * the default disposition again. SIGKILL still takes both.
 */
export function sandboxedArgv(tools: SandboxTools, args: readonly string[], command: readonly string[]): string[] {
  // env takes a leading NAME=VALUE word as an assignment, not as the program.
  if (command[0]!.includes('=')) throw new Error(`command "${command[0]}": a sandboxed command's path may not contain "="; rename it`);
  return [tools.env, '--ignore-signal=TERM', tools.bwrap, ...args, '--', tools.env, '--default-signal=TERM', ...command];
}

/** The argv prefix that runs an exec probe in the same sandbox view as the replica. */
export const probeWrapper = (tools: SandboxTools, args: readonly string[]): string[] => [tools.bwrap, ...args, '--'];

/** Writes each file's content to `<dir>/<n>` with its mode (default 0444), replacing what an earlier start left. */
export async function writeMountFiles(files: readonly WorkloadFile[], dir: string): Promise<SandboxMount[]> {
  await rm(dir, { recursive: true, force: true }); // a 0444 file from an earlier start could not be rewritten
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return Promise.all(
    files.map(async (file, n): Promise<SandboxMount> => {
      const source = join(dir, String(n));
      await writeFile(source, Buffer.from(file.content, 'base64'));
      await chmod(source, parseInt(file.mode ?? '0444', 8));
      return { kind: 'file', source, target: file.target, readOnly: true };
    }),
  );
}

/** The volume's real directory; it must lie strictly inside the volume root, symlinks resolved. */
export async function resolveVolume(volume: WorkloadVolume, volumeRoot: string | undefined): Promise<SandboxMount> {
  const what = `volume "${volume.name}" at ${volume.target}`;
  if (volumeRoot === undefined) throw new Error(`${what}: this runtime has no volume root, so it accepts no volumes; set the local driver's volumeRoot`);
  const root = await realpath(volumeRoot).catch(() => {
    throw new Error(`${what}: the volume root ${volumeRoot} does not exist; create it`);
  });
  const real = await realpath(volume.source).catch(() => {
    throw new Error(`${what}: ${volume.source} does not exist; create the directory under the volume root ${volumeRoot}`);
  });
  if (!real.startsWith(root === '/' ? '/' : `${root}/`) || real === root) {
    const found = real === volume.source ? volume.source : `${volume.source} resolves to ${real}, which`;
    throw new Error(`${what}: ${found} is not inside the volume root ${volumeRoot}; use a directory under it`);
  }
  if (!(await stat(real)).isDirectory()) throw new Error(`${what}: ${volume.source} is not a directory`);
  return { kind: 'directory', source: real, target: volume.target, readOnly: volume.readOnly };
}
