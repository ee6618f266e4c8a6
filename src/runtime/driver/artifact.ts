import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, mkdir, readdir, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import type { Artifact } from '../model/index.js';

/** Checks an artifact before it runs. Signature verification (security layer) plugs in here. */
export type ArtifactVerifier = (artifact: Artifact) => Promise<void>;

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The digest of a directory tree: sha256 over "<relative path>\0<sha256 of content>\n" of every file
 * in path order, so it does not depend on timestamps or the file system's listing order.
 */
export async function digestDirectory(root: string): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  await walk(root);
  files.sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${relative(root, f)}\0${await hashFile(f)}\n`);
  return `sha256:${hash.digest('hex')}`;
}

export async function digestArtifact(artifact: Pick<Artifact, 'kind' | 'path'>): Promise<string> {
  return artifact.kind === 'directory' ? digestDirectory(artifact.path) : `sha256:${await hashFile(artifact.path)}`;
}

/** The default verifier: the artifact exists and its content has the digest the release names. */
export const verifyDigest: ArtifactVerifier = async (artifact) => {
  const info = await stat(artifact.path).catch(() => undefined);
  if (!info || (artifact.kind === 'directory' ? !info.isDirectory() : !info.isFile())) {
    throw new Error(`artifact ${artifact.path}: no such ${artifact.kind}`);
  }
  const actual = await digestArtifact(artifact);
  if (actual !== artifact.digest) throw new Error(`artifact ${artifact.path}: digest is ${actual}, the release names ${artifact.digest}; refusing a changed artifact`);
};

/** The directory the release runs in: the artifact directory itself, or the tarball unpacked under `into`. */
export async function unpackArtifact(artifact: Artifact, into: string): Promise<string> {
  if (artifact.kind === 'directory') return artifact.path;
  await mkdir(into, { recursive: true });
  await new Promise<void>((ok, fail) => {
    const tar = spawn('tar', ['-xf', artifact.path, '-C', into], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    tar.stderr.on('data', (c: Buffer) => (err += c.toString()));
    tar.on('error', fail);
    tar.on('close', (code) => (code === 0 ? ok() : fail(new Error(`could not unpack ${artifact.path}: ${err.trim()}`))));
  });
  return into;
}

/** The executable `command` names, as a shell would find it; undefined when there is none. */
export async function resolveCommand(command: string, cwd: string, path: string): Promise<string | undefined> {
  const candidates = command.includes('/') ? [isAbsolute(command) ? command : resolve(cwd, command)] : path.split(delimiter).filter(Boolean).map((d) => join(d, command));
  for (const c of candidates) {
    const ok = await access(c, constants.X_OK).then(() => stat(c)).then((s) => s.isFile(), () => false);
    if (ok) return c;
  }
  return undefined;
}
