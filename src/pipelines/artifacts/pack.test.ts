import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactName, packWorkspace } from './pack.js';
import { readTar } from './tar.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'plinth-pack-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const longName = `${'deep/'.repeat(40)}file-with-a-long-name-${'x'.repeat(90)}.js`;

describe('packing the build output', () => {
  it('gives the same digest for the same files whatever their mtimes and creation order', async () => {
    const files = { 'package.json': JSON.stringify({ name: '@team/svc', version: '1.2.3' }), 'dist/main.js': 'console.log(1)', 'src/a.ts': 'export {}', [longName]: 'long' };
    const a = workspace(files);
    const b = workspace(Object.fromEntries(Object.entries(files).reverse()));
    utimesSync(join(b, 'dist/main.js'), new Date('2001-01-01'), new Date('2001-01-01'));
    const [packedA, packedB] = [await packWorkspace(a, 'x'), await packWorkspace(b, 'x')];
    expect(packedA.sha256).toBe(packedB.sha256);
    expect(packedA.name).toBe('team-svc-1.2.3.tgz');
    expect(packedA.files).toBe(4);
  });

  it('writes an archive GNU tar lists with sorted entries, mtime 0, root owner and long paths intact', async () => {
    const root = workspace({ 'package.json': '{"name":"svc","version":"1.0.0"}', 'b.js': 'b', 'a/z.js': 'z', [longName]: 'long' });
    const packed = await packWorkspace(root, 'x');
    const file = join(root, 'out.tgz');
    writeFileSync(file, packed.bytes);
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvzf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual(['a/', 'a/z.js', 'b.js', ...longName.split('/').slice(0, -1).map((_, i, parts) => `${parts.slice(0, i + 1).join('/')}/`), longName, 'package.json']);
    expect(listing.every((l) => /\s0\/0\s/.test(l) && l.includes('1970-01-01 00:00:00'))).toBe(true);
    const out = join(root, 'unpacked');
    mkdirSync(out);
    execFileSync('tar', ['-xzf', file, '-C', out]);
    expect(execFileSync('cat', [join(out, longName)], { encoding: 'utf8' })).toBe('long');
    expect(readTar(packed.bytes).map((e) => e.path)).toContain(longName);
  });

  it('packs only what package.json "files" names (plus package.json, README, LICENSE, lockfile and bundled dependencies)', async () => {
    const root = workspace({
      'package.json': JSON.stringify({ name: 'svc', version: '1.0.0', files: ['dist/', 'bin/run.js'], bundleDependencies: ['left-pad'] }),
      'package-lock.json': '{}', 'README.md': '#', 'LICENSE': 'MIT', 'dist/index.js': '1', 'dist/sub/x.js': '2', 'bin/run.js': '3', 'src/secret-source.ts': 'no',
      'node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.0.0"}', 'node_modules/other/package.json': '{}', '.git/config': 'no',
    });
    const packed = await packWorkspace(root, 'x');
    expect(readTar(packed.bytes).filter((e) => e.type === 'file').map((e) => e.path)).toEqual([
      'LICENSE', 'README.md', 'bin/run.js', 'dist/index.js', 'dist/sub/x.js', 'node_modules/left-pad/package.json', 'package-lock.json', 'package.json',
    ]);
  });

  it('bundles what bundled dependencies need in turn, found as Node resolves them', async () => {
    const manifest = (name: string, dependencies: Record<string, string> = {}, optionalDependencies: Record<string, string> = {}) =>
      JSON.stringify({ name, version: '1.0.0', dependencies, optionalDependencies });
    const root = workspace({
      'package.json': JSON.stringify({ name: 'svc', version: '1.0.0', dependencies: { pg: '^8' }, bundleDependencies: ['pg'] }),
      'dist/main.js': 'import "pg"',
      'node_modules/pg/package.json': manifest('pg', { 'pg-pool': '^3', 'pg-types': '^2' }, { 'pg-native': '^3' }),
      'node_modules/pg/index.js': '',
      // pg's own copy of pg-types wins over the top-level one, which nothing bundled needs.
      'node_modules/pg/node_modules/pg-types/package.json': manifest('pg-types', { '@scope/util': '^1' }),
      'node_modules/pg-types/package.json': manifest('pg-types'),
      'node_modules/pg-pool/package.json': manifest('pg-pool'),
      'node_modules/@scope/util/package.json': manifest('@scope/util'),
      'node_modules/typescript/package.json': manifest('typescript'),
    });
    const packed = await packWorkspace(root, 'x');
    expect(readTar(packed.bytes).filter((e) => e.type === 'file').map((e) => e.path)).toEqual([
      'dist/main.js',
      'node_modules/@scope/util/package.json',
      'node_modules/pg-pool/package.json',
      'node_modules/pg/index.js',
      'node_modules/pg/node_modules/pg-types/package.json',
      'node_modules/pg/package.json',
      'package.json',
    ]);
  });

  it('keeps setuid and world-writable bits for the scan, normalizes the rest, and leaves symlinks out', async () => {
    const root = workspace({ 'run.sh': '#!/bin/sh', 'plain.txt': 'x', 'open.txt': 'x' });
    chmodSync(join(root, 'run.sh'), 0o4775);
    chmodSync(join(root, 'plain.txt'), 0o600);
    chmodSync(join(root, 'open.txt'), 0o666);
    symlinkSync('/etc/passwd', join(root, 'link'));
    const packed = await packWorkspace(root, 'repo-abc');
    const modes = Object.fromEntries(readTar(packed.bytes).map((e) => [e.path, e.mode.toString(8)]));
    expect(modes).toEqual({ 'open.txt': '646', 'plain.txt': '644', 'run.sh': '4755' });
    // The link is not in the archive at all (the walk does not follow or list links).
    expect(Object.keys(modes)).not.toContain('link');
    expect(packed.name).toBe('repo-abc.tgz');
  });

  it('names artifacts as npm does and falls back for projects without a version', () => {
    expect(artifactName({ name: 'svc', version: '2.0.0-rc.1' }, 'f')).toBe('svc-2.0.0-rc.1.tgz');
    expect(artifactName({ name: 'svc' }, 'svc-0123456789ab')).toBe('svc-0123456789ab.tgz');
  });

  it('refuses a package.json that is not JSON, saying what to fix', async () => {
    await expect(packWorkspace(workspace({ 'package.json': '{' }), 'x')).rejects.toThrow('package.json is not valid JSON; fix it so the artifact can be packed');
  });
});

describe('reading archives', () => {
  it('rejects a corrupted header instead of reading garbage', async () => {
    const packed = await packWorkspace(workspace({ 'a.txt': 'a' }), 'x');
    const raw = execFileSync('gzip', ['-dc'], { input: packed.bytes });
    raw[0] = raw[0]! ^ 0xff;
    expect(() => readTar(raw)).toThrow(/bad header checksum at byte 0/);
  });
});
