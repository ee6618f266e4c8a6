import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readTar, type ReadTarEntry } from '../../pipelines/index.js';
import { toPurl } from '../deps/purl.js';
import { compareSeverity, type PackageMatch, type Severity } from '../model.js';
import { formatFinding as formatSecretFinding } from '../secrets/report.js';
import { scanSecrets } from '../secrets/scan.js';

// The artifact scan looks at what ships, not at the source: the packages bundled under node_modules/
// (matched against the advisory store like the dependency audit), secrets in any packed file (the
// secrets scan over the unpacked files), and entries that are dangerous once unpacked on a host.

export const artifactFindingKinds = ['vulnerable-package', 'secret', 'file-mode', 'link'] as const;
export type ArtifactFindingKind = (typeof artifactFindingKinds)[number];

export interface ArtifactFinding {
  kind: ArtifactFindingKind;
  severity: Severity;
  /** The entry inside the artifact. */
  path: string;
  rule: string;
  message: string;
  /** The line, for a secret. */
  line: number | null;
  /** For a vulnerable package: what is bundled and the lowest fixed version (null: no fix known). */
  package: { name: string; version: string; purl: string; fixVersion: string | null } | null;
  /** What the finding is about, stable across builds: `<ecosystem>\0<name>\0<advisory>`, the secret's fingerprint, or `<rule>\0<path>`. */
  key: string;
}

export interface ArtifactScanResult {
  entries: number;
  bundledPackages: number;
  findings: ArtifactFinding[];
}

/** Mode and type findings: setuid/setgid are critical (a privilege escalation on the host), world-writable and links high. */
export function entryFindings(entries: readonly ReadTarEntry[]): ArtifactFinding[] {
  const findings: ArtifactFinding[] = [];
  const add = (kind: ArtifactFindingKind, severity: Severity, path: string, rule: string, message: string) =>
    findings.push({ kind, severity, path, rule, message, line: null, package: null, key: `${rule}\0${path}` });
  for (const e of entries) {
    if (e.mode & 0o4000) add('file-mode', 'critical', e.path, 'setuid', `${e.path} is setuid (mode ${e.mode.toString(8)})`);
    if (e.mode & 0o2000) add('file-mode', 'critical', e.path, 'setgid', `${e.path} is setgid (mode ${e.mode.toString(8)})`);
    if (e.mode & 0o002 && !(e.type === 'directory' && e.mode & 0o1000)) add('file-mode', 'high', e.path, 'world-writable', `${e.path} is world-writable (mode ${e.mode.toString(8)})`);
    if (e.type === 'symlink' || e.type === 'hardlink') add('link', 'high', e.path, e.type, `${e.path} is a ${e.type} to ${e.linkName}; an artifact should carry files`);
    if (e.type === 'other') add('link', 'high', e.path, 'special-file', `${e.path} is a device, FIFO or other special entry`);
    if (e.path.startsWith('/') || e.path.split('/').includes('..')) add('link', 'critical', e.path, 'path-traversal', `${e.path} would unpack outside its folder`);
  }
  return findings;
}

/** Packages bundled in the artifact: every node_modules/<name>/package.json with a name and version. */
export function bundledPackages(entries: readonly ReadTarEntry[]): { path: string; name: string; version: string; purl: string }[] {
  const out: { path: string; name: string; version: string; purl: string }[] = [];
  for (const e of entries) {
    if (e.type !== 'file' || !/(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(e.path)) continue;
    try {
      const pkg = JSON.parse(e.content.toString('utf8')) as { name?: unknown; version?: unknown };
      if (typeof pkg.name === 'string' && typeof pkg.version === 'string') out.push({ path: e.path, name: pkg.name, version: pkg.version, purl: toPurl('npm', pkg.name, pkg.version) });
    } catch {
      // A package.json that is not JSON names no package; the scan goes on.
    }
  }
  return out;
}

/** Writes regular files (safe relative paths only) under `into` for the secrets scan. */
async function unpackFiles(entries: readonly ReadTarEntry[], into: string): Promise<void> {
  for (const e of entries) {
    if (e.type !== 'file' || e.path.startsWith('/') || e.path.split('/').includes('..') || e.path === '') continue;
    const target = join(into, e.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, e.content, { mode: 0o600 });
  }
}

/** Scans a .tgz; `audit` matches purls against the advisory store. */
export async function scanArtifact(archive: Buffer, audit: (purls: string[]) => Promise<PackageMatch[]>, signal?: AbortSignal): Promise<ArtifactScanResult> {
  const entries = readTar(archive);
  const findings = entryFindings(entries);
  const bundled = bundledPackages(entries);
  const matches = bundled.length > 0 ? await audit([...new Set(bundled.map((b) => b.purl))]) : [];
  for (const m of matches) {
    for (const b of bundled.filter((x) => x.purl === m.purl)) {
      findings.push({
        kind: 'vulnerable-package', severity: m.severity, path: b.path, rule: m.advisoryId,
        message: `${m.name}@${m.version} is affected by ${m.advisoryId}: ${m.summary}${m.fixed.length > 0 ? ` (fixed in ${m.fixed[0]})` : ''}`,
        line: null, package: { name: m.name, version: m.version, purl: m.purl, fixVersion: m.fixed[0] ?? null }, key: `${m.ecosystem}\0${m.name}\0${m.advisoryId}`,
      });
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'plinth-artifact-scan-'));
  try {
    await unpackFiles(entries, dir);
    const secrets = await scanSecrets({ path: dir, ...(signal ? { signal } : {}) });
    // A secret that ships inside a deployable artifact is exposed wherever it runs: critical.
    for (const f of secrets.findings) findings.push({ kind: 'secret', severity: 'critical', path: f.file, rule: f.rule, message: formatSecretFinding(f), line: f.line, package: null, key: f.fingerprint });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  findings.sort((a, b) => compareSeverity(a.severity, b.severity) || a.path.localeCompare(b.path));
  return { entries: entries.length, bundledPackages: bundled.length, findings };
}
