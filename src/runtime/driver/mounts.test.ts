import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkloadSpec, type WorkloadSpecInput } from '../model/index.js';
import { digestArtifact, digestDirectory } from './artifact.js';
import { createLocalDriver, type RuntimeDriver } from './local.js';
import { findSandboxTools } from './sandbox.js';

const tools = await findSandboxTools(process.env.PATH ?? '/usr/bin:/bin').catch(() => undefined);
// Under CI these must run: a missing bwrap fails them there instead of hiding them.
const noBwrap = tools === undefined && process.env.CI !== 'true';
const random = () => `plinth-test-${randomBytes(4).toString('hex')}`;
const base64 = (text: string) => Buffer.from(text).toString('base64');

/** A replica that reads and writes the paths it is asked about, and marks a graceful drain. */
const server = `
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
createServer((req, res) => {
  const url = new URL(req.url, 'http://replica');
  const path = url.searchParams.get('path');
  try {
    if (url.pathname === '/read') return res.end(readFileSync(path));
    if (url.pathname === '/write') { writeFileSync(path, url.searchParams.get('text')); return res.end('written'); }
    if (url.pathname === '/pid') return res.end(String(process.pid));
    if (url.pathname === '/cwd') return res.end(process.cwd());
    res.statusCode = 404; res.end();
  } catch (err) { res.statusCode = 500; res.end(err.code); }
}).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { writeFileSync(process.env.DRAIN_MARKER, 'drained'); process.exit(0); });
`;

function call(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
/** Retries while the port refuses: a replica made ready by an exec probe may not be listening yet. */
async function callWhenListening(port: number, path: string): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await call(port, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
const q = (path: string) => encodeURIComponent(path);
/** A zombie counts as gone: in a container nobody may reap an orphan. */
const isAlive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('files and volumes in the local driver', () => {
  let work: string;
  let artifact: string;
  let digest: string;
  let volumeRoot: string;
  let driver: RuntimeDriver;
  const spec = (over: Partial<WorkloadSpecInput>) =>
    parseWorkloadSpec({
      service: 'mounts', environment: 'test', version: random(), artifact: { kind: 'directory', path: artifact, digest },
      command: [process.execPath, 'server.mjs'], terminationGraceMs: 3000, ...over,
    });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'plinth-mounts-'));
    artifact = join(work, 'artifact');
    volumeRoot = join(work, 'volumes');
    await mkdir(artifact);
    await mkdir(volumeRoot);
    await writeFile(join(artifact, 'server.mjs'), server);
    digest = await digestDirectory(artifact);
    driver = createLocalDriver({ dataDir: join(work, 'data'), volumeRoot, prlimit: '/usr/bin/prlimit', restart: { initialBackoffMs: 100, maxBackoffMs: 1000 } });
  });
  afterAll(async () => {
    await driver.stopAll();
    await rm(work, { recursive: true, force: true });
  });

  it.skipIf(noBwrap)('shows files and volumes at their targets (exec probe included), writes reach the volume, read-only refuses, the host gets no new paths (needs bwrap)', { timeout: 20_000 }, async () => {
    const top = `/${random()}`;
    const share = `/usr/share/${random()}`;
    const data = `/data-${random()}`;
    const config = `/${random()}`;
    await mkdir(join(volumeRoot, 'data'));
    await mkdir(join(volumeRoot, 'config'));
    await writeFile(join(volumeRoot, 'config', 'settings'), 'from the volume');
    const id = random();
    await driver.start({
      id,
      spec: spec({
        files: [{ target: `${top}/a.txt`, content: base64('file at the top') }, { target: `${share}/x.txt`, content: base64('file in /usr/share'), mode: '0640' }],
        volumes: [{ name: 'data', target: data, source: join(volumeRoot, 'data') }, { name: 'config', target: config, source: join(volumeRoot, 'config'), readOnly: true }],
        readiness: { exec: { command: ['cat', `${top}/a.txt`] }, periodMs: 100, deadlineMs: 10_000 },
        limits: { memory: '1Gi' },
      }),
    }, {});
    expect(driver.replicas(id)[0]!.phase).toBe('ready'); // the exec probe read a file that exists only in the sandbox
    const port = driver.replicas(id)[0]!.port;
    // That probe says nothing of the HTTP server: on a busy machine it may still be starting.
    expect(await callWhenListening(port, `/read?path=${q(`${top}/a.txt`)}`)).toEqual({ status: 200, body: 'file at the top' });
    expect(await call(port, `/read?path=${q(`${share}/x.txt`)}`)).toEqual({ status: 200, body: 'file in /usr/share' });
    expect((await call(port, `/read?path=${q('/usr/share/doc')}`)).body).toBe('EISDIR'); // the rest of /usr/share is still there
    expect(await call(port, `/write?path=${q(`${data}/f`)}&text=kept`)).toEqual({ status: 200, body: 'written' });
    expect(await readFile(join(volumeRoot, 'data', 'f'), 'utf8')).toBe('kept');
    expect(await call(port, `/read?path=${q(`${config}/settings`)}`)).toEqual({ status: 200, body: 'from the volume' });
    expect(await call(port, `/write?path=${q(`${config}/settings`)}&text=changed`)).toEqual({ status: 500, body: 'EROFS' });
    expect(await call(port, `/write?path=${q(`${top}/a.txt`)}&text=changed`)).toEqual({ status: 500, body: 'EROFS' });
    const mounts = join(work, 'data', 'releases', id, 'mounts');
    expect((await stat(join(mounts, '0'))).mode & 0o777).toBe(0o444);
    expect((await stat(join(mounts, '1'))).mode & 0o777).toBe(0o640);
    for (const path of [top, share, data, config]) expect(existsSync(path), path).toBe(false);
    await driver.stop(id);
    expect(existsSync(join(work, 'data', 'releases', id))).toBe(false);
  });

  it.skipIf(noBwrap)('stopping a sandboxed release drains and ends the workload process, not just bwrap (needs bwrap)', { timeout: 20_000 }, async () => {
    const id = random();
    const marker = join(work, `${id}.drained`);
    await driver.start({ id, spec: spec({ files: [{ target: `/${random()}/a`, content: base64('x') }], env: { DRAIN_MARKER: marker } }) }, {});
    const [replica] = driver.replicas(id);
    const workload = Number((await call(replica!.port, '/pid')).body);
    expect(workload).not.toBe(replica!.pid); // bwrap leads the group; the workload is its child
    expect(readFileSync(`/proc/${replica!.pid}/cmdline`, 'utf8')).toContain('bwrap');
    await driver.stop(id);
    expect(await readFile(marker, 'utf8')).toBe('drained');
    expect(isAlive(workload)).toBe(false);
    expect(isAlive(replica!.pid!)).toBe(false);
  });

  it.skipIf(noBwrap)('a tarball release runs in releases/<id>/artifact with its file contents beside it in mounts/, both gone after stop (needs bwrap)', { timeout: 20_000 }, async () => {
    const tarball = join(work, 'artifact.tar');
    await new Promise<void>((resolve, reject) => execFile('tar', ['-cf', tarball, '-C', artifact, 'server.mjs'], (err) => (err ? reject(err) : resolve())));
    const id = random();
    const target = `/${random()}/a`;
    await driver.start({ id, spec: spec({ artifact: { kind: 'tarball', path: tarball, digest: await digestArtifact({ kind: 'tarball', path: tarball }) }, files: [{ target, content: base64('beside') }], env: { DRAIN_MARKER: join(work, `${id}.drained`) } }) }, {});
    const release = join(work, 'data', 'releases', id);
    const port = driver.replicas(id)[0]!.port;
    expect((await call(port, '/cwd')).body).toBe(join(release, 'artifact'));
    expect(await readdir(release)).toEqual(['artifact', 'mounts']);
    expect(await call(port, `/read?path=${q(target)}`)).toEqual({ status: 200, body: 'beside' });
    await driver.stop(id);
    expect(existsSync(release)).toBe(false);
  });

  it('runs a spec without files and volumes exactly as before, without bwrap', { timeout: 20_000 }, async () => {
    const id = random();
    await driver.start({ id, spec: spec({ env: { DRAIN_MARKER: join(work, `${id}.drained`) } }) }, {});
    const [replica] = driver.replicas(id);
    expect(Number((await call(replica!.port, '/pid')).body)).toBe(replica!.pid);
    expect(readFileSync(`/proc/${replica!.pid}/cmdline`, 'utf8')).not.toContain('bwrap');
    await driver.stop(id);
  });

  it('refuses volume sources outside the volume root, through a symlink too, and volumes without a root', async () => {
    const outside = join(work, 'outside');
    await mkdir(outside, { recursive: true });
    await symlink(outside, join(volumeRoot, 'escape'));
    const volume = (source: string) => spec({ volumes: [{ name: 'data', target: '/data', source }] });
    await expect(driver.start({ id: random(), spec: volume(outside) }, {})).rejects.toThrow(`volume "data" at /data: ${outside} is not inside the volume root ${volumeRoot}; use a directory under it`);
    await expect(driver.start({ id: random(), spec: volume(join(volumeRoot, 'escape')) }, {})).rejects.toThrow(`${join(volumeRoot, 'escape')} resolves to ${outside}, which is not inside the volume root`);
    await expect(driver.start({ id: random(), spec: volume(join(volumeRoot, 'missing')) }, {})).rejects.toThrow(/does not exist; create the directory under the volume root/);
    const rootless = createLocalDriver({ dataDir: join(work, 'rootless') });
    await expect(rootless.start({ id: random(), spec: volume(join(volumeRoot, 'data')) }, {})).rejects.toThrow(/this runtime has no volume root/);
    await expect(rootless.start({ id: random(), spec: volume(join(volumeRoot, 'data')) }, {})).rejects.toMatchObject({ name: 'ReleaseStartError' });
  });

  it('says to install bubblewrap when it is not on the server', async () => {
    const emptyPath = join(work, 'empty-path');
    await mkdir(emptyPath, { recursive: true });
    const bare = createLocalDriver({ dataDir: join(work, 'bare'), baseEnv: { PATH: emptyPath } });
    const id = random();
    await expect(bare.start({ id, spec: spec({ files: [{ target: '/etc/x', content: base64('x') }] }) }, {})).rejects.toThrow(
      'files and volumes need bubblewrap (bwrap) on the server: apt-get install bubblewrap',
    );
    expect(existsSync(join(work, 'bare', 'releases', id))).toBe(false);
  });
});
