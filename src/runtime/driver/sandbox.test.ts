import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSandboxTools, sandboxArgs, sandboxedArgv, type SandboxMount } from './sandbox.js';

const tools = await findSandboxTools(process.env.PATH ?? '/usr/bin:/bin').catch(() => undefined);
// Under CI the sandbox tests must run: a missing bwrap fails them there instead of hiding them.
const noBwrap = tools === undefined && process.env.CI !== 'true';
const random = () => `plinth-test-${randomBytes(4).toString('hex')}`;
const file = (source: string, target: string): SandboxMount => ({ kind: 'file', source, target, readOnly: true });
const operandCount: Record<string, number> = { '--bind': 2, '--ro-bind': 2, '--symlink': 2, '--tmpfs': 1, '--proc': 1, '--dev': 1, '--perms': 1, '--chdir': 1, '--die-with-parent': 0 };
/** Every bwrap operation that puts something at `path`, as [option, ...operands]. */
function placing(args: string[], path: string): string[][] {
  const found: string[][] = [];
  for (let i = 0; i < args.length; ) {
    const count = operandCount[args[i]!];
    if (count === undefined) throw new Error(`unexpected bwrap argument ${args[i]} at ${i}`);
    const operation = args.slice(i, i + 1 + count);
    if (count > 0 && operation[count] === path && !['--perms', '--chdir'].includes(operation[0]!)) found.push(operation);
    i += 1 + count;
  }
  return found;
}

describe('sandboxArgs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plinth-sandbox-'));
    await writeFile(join(dir, 'content'), 'hello');
    await mkdir(join(dir, 'sub'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('binds every top-level host entry at its own path, with a fresh /proc and /dev and the same process group', () => {
    const target = `/${random()}/a.txt`;
    const args = sandboxArgs({ mounts: [file(join(dir, 'content'), target)], cwd: dir });
    for (const name of readdirSync('/').filter((n) => n !== 'proc' && n !== 'dev')) expect(placing(args, `/${name}`), name).toHaveLength(1);
    expect(placing(args, '/usr')).toEqual([['--bind', '/usr', '/usr']]);
    expect(placing(args, '/bin')).toEqual([['--symlink', 'usr/bin', '/bin']]);
    expect(args.join(' ')).toContain('--proc /proc --dev /dev');
    expect(args).not.toContain('--tmpfs'); // a missing top-level directory is made in bwrap's own root
    expect(args.slice(-5)).toEqual(['--ro-bind', join(dir, 'content'), target, '--chdir', dir]);
    // The driver signals the replica's process group: bwrap must keep the workload in it.
    for (const option of ['--unshare-pid', '--new-session', '--unshare-all']) expect(args).not.toContain(option);
    expect(args).toContain('--die-with-parent');
  });

  it('shadows the deepest existing host directory with a tmpfs holding its entries when the target directory is missing', () => {
    const name = random();
    const args = sandboxArgs({ mounts: [file(join(dir, 'content'), `/usr/share/${name}/x.txt`)], cwd: dir });
    const at = args.indexOf('/usr/share');
    const mode = (statSync('/usr/share').mode & 0o7777).toString(8).padStart(4, '0');
    expect(args.slice(at - 3, at + 1)).toEqual(['--perms', mode, '--tmpfs', '/usr/share']);
    const children = readdirSync('/usr/share');
    expect(children.length).toBeGreaterThan(10);
    for (const child of children) expect(placing(args, `/usr/share/${child}`), child).toHaveLength(1);
    expect(args.indexOf(`/usr/share/${children[0]}`)).toBeGreaterThan(at);
    expect(placing(args, `/usr/share/${name}/x.txt`)).toEqual([['--ro-bind', join(dir, 'content'), `/usr/share/${name}/x.txt`]]);
  });

  it('follows host symlinks to the real place: /bin/<new>/x shadows /usr/bin, never writes through the link', () => {
    const name = random();
    const args = sandboxArgs({ mounts: [file(join(dir, 'content'), `/bin/${name}/x`)], cwd: dir });
    expect(args.join(' ')).toContain('--tmpfs /usr/bin');
    expect(args.slice(-4, -2)).toEqual([join(dir, 'content'), `/usr/bin/${name}/x`]);
  });

  it('binds straight over a target that exists as the same kind, and shadows the parent when the kind differs', () => {
    const content = join(dir, 'content');
    const sub = join(dir, 'sub');
    const same = sandboxArgs({ mounts: [file(dir, content), { kind: 'directory', source: dir, target: sub, readOnly: false }], cwd: dir });
    expect(same).not.toContain('--tmpfs');
    expect(placing(same, content)).toEqual([['--ro-bind', dir, content]]);
    expect(placing(same, sub)).toEqual([['--bind', dir, sub]]);
    const other = sandboxArgs({ mounts: [{ kind: 'directory', source: sub, target: content, readOnly: true }], cwd: dir });
    expect(other.join(' ')).toContain(`--tmpfs ${dir}`);
    expect(placing(other, sub)).toEqual([['--bind', sub, sub]]);
    expect(placing(other, content)).toEqual([['--ro-bind', sub, content]]); // the host file is left out
  });

  it('orders nested shadows parent first', () => {
    const sub = join(dir, 'sub');
    const args = sandboxArgs({ mounts: [file(join(dir, 'content'), join(sub, random(), 'b')), file(join(dir, 'content'), join(dir, random(), 'a'))], cwd: dir });
    expect(placing(args, dir).map((o) => o[0])).toEqual(['--tmpfs']);
    expect(placing(args, sub)).toEqual([['--bind', sub, sub], ['--tmpfs', sub]]);
  });

  it('refuses targets that cannot be placed, saying why', async () => {
    await symlink('/proc', join(dir, 'to-proc'));
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling'));
    const at = (target: string) => () => sandboxArgs({ mounts: [file(join(dir, 'content'), target)], cwd: dir });
    expect(at(join(dir, 'content', 'x'))).toThrow(`${join(dir, 'content', 'x')}: ${join(dir, 'content')} is not a directory on this host`);
    expect(at(join(dir, 'to-proc', 'x'))).toThrow(/leads to \/proc\/x on this host, where nothing may be placed/);
    expect(at(join(dir, 'dangling', 'x'))).toThrow(/is a symbolic link to nothing/);
    expect(() => sandboxArgs({ mounts: [{ kind: 'directory', source: dir, target: dir, readOnly: false }], cwd: join(dir, 'sub') })).toThrow(`${dir}: would hide the release's own directory ${join(dir, 'sub')}`);
    const name = random();
    expect(() => sandboxArgs({ mounts: [file(dir, `/bin/${name}`), file(dir, `/usr/bin/${name}`)], cwd: dir })).toThrow(`/usr/bin/${name} and /bin/${name} overlap on this host`);
  });
});

/** Runs `script` with node in a sandbox showing `mounts`, in its own process group as the driver does. */
function runSandboxed(mounts: SandboxMount[], script: string) {
  const argv = sandboxedArgv(tools!, sandboxArgs({ mounts, cwd: tmpdir() }), [process.execPath, '-e', script]);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const said = (text: string) => new Promise<void>((resolve) => {
    const check = () => (out.includes(text) ? resolve() : setTimeout(check, 20));
    check();
  });
  return { child, exited, said, output: () => out };
}
/** A zombie counts as gone: in a container nobody may reap an orphan. */
const isAlive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe.skipIf(noBwrap)('a process in the sandbox (real bwrap; skipped without bwrap: apt-get install bubblewrap)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plinth-sandbox-run-'));
    await writeFile(join(dir, 'content'), 'seen inside');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('sees files at missing host paths while the host stays untouched', async () => {
    const top = random();
    const share = random();
    const run = runSandboxed([file(join(dir, 'content'), `/${top}/a.txt`), file(join(dir, 'content'), `/usr/share/${share}/x.txt`)],
      `const fs = require('fs'); console.log(fs.readFileSync('/${top}/a.txt', 'utf8'), fs.readFileSync('/usr/share/${share}/x.txt', 'utf8'), fs.existsSync('/usr/share/doc'))`);
    expect(await run.exited, run.output()).toEqual({ code: 0, signal: null });
    expect(run.output().trim()).toBe(`seen inside seen inside ${existsSync('/usr/share/doc')}`);
    expect(existsSync(`/${top}`)).toBe(false);
    expect(existsSync(`/usr/share/${share}`)).toBe(false);
  });

  it('SIGTERM to the process group reaches the workload, which drains; SIGKILL to the group ends bwrap and workload', async () => {
    const marker = join(dir, `drained-${random()}`);
    const script = (drain: boolean) => `process.on('SIGTERM', () => { ${drain ? `setTimeout(() => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(0); }, 300)` : ''} }); console.log('pid=' + process.pid); setInterval(() => {}, 1000);`;
    const mounts = [file(join(dir, 'content'), `/${random()}/a.txt`)];

    const graceful = runSandboxed(mounts, script(true));
    await graceful.said('pid=');
    const workload = Number(/pid=(\d+)/.exec(graceful.output())![1]);
    process.kill(-graceful.child.pid!, 'SIGTERM');
    expect(await graceful.exited).toEqual({ code: 0, signal: null });
    expect(await readFile(marker, 'utf8')).toBe('x');
    expect(isAlive(workload)).toBe(false);

    const stubborn = runSandboxed(mounts, script(false));
    await stubborn.said('pid=');
    const ignoring = Number(/pid=(\d+)/.exec(stubborn.output())![1]);
    process.kill(-stubborn.child.pid!, 'SIGKILL');
    expect((await stubborn.exited).signal).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(ignoring)).toBe(false);
  });
});
