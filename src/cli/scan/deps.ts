import { access, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import {
  auditablePackages,
  failsAt,
  findingsOf,
  formatFinding,
  indexAdvisories,
  loadOsvPaths,
  matchPackages,
  MAX_PURLS_PER_AUDIT,
  parseVex,
  resolveProject,
  severities,
  summarize,
  toSarif,
  VEX_FILE,
  type DependencyTree,
  type PackageMatch,
  type Severity,
  type VexDocument,
} from '../../security/index.js';
import type { Cli } from '../context.js';
import { CliError, UsageError } from '../errors.js';

interface ScanDepsOptions {
  json?: boolean;
  sarif?: boolean;
  advisories?: string[];
  vex?: string;
  failOn?: string;
}

/** Matches through the server's advisory store, in batches the audit endpoint accepts. */
async function serverMatches(cli: Cli, cmd: Command, trees: readonly DependencyTree[]): Promise<PackageMatch[]> {
  const purls = auditablePackages(trees);
  if (purls.length === 0) return [];
  const { client } = await cli.connect(cmd);
  const out: PackageMatch[] = [];
  for (let i = 0; i < purls.length; i += MAX_PURLS_PER_AUDIT) {
    const res = await client.json<{ matches: PackageMatch[] }>('POST', '/api/security/audit', { body: { packages: purls.slice(i, i + MAX_PURLS_PER_AUDIT) } });
    out.push(...res.matches);
  }
  return out;
}

/** Matches against OSV files on disk, with no server. */
async function localMatches(dirs: readonly string[], trees: readonly DependencyTree[]): Promise<PackageMatch[]> {
  const { advisories } = await loadOsvPaths(dirs);
  return matchPackages(trees.flatMap((t) => t.packages), indexAdvisories(advisories));
}

async function readVex(root: string, explicit: string | undefined): Promise<{ doc: VexDocument; source: string } | undefined> {
  const folder = (await stat(root)).isDirectory() ? root : join(root, '..');
  const path = explicit ?? join(folder, VEX_FILE);
  if (explicit === undefined && !(await access(path).then(() => true, () => false))) return undefined;
  const text = await readFile(path, 'utf8').catch(() => {
    throw new CliError(`${path}: cannot read the VEX document`, 2);
  });
  return { doc: parseVex(text, explicit ?? VEX_FILE), source: explicit ?? VEX_FILE };
}

/** `plinth scan deps PATH`: resolves lockfiles locally, matches them on the server (or against --advisories), applies VEX. */
export function registerScanDeps(scan: Command, cli: Cli): void {
  scan
    .command('deps')
    .description('audit the dependencies in lockfiles (npm, poetry/Pipfile/requirements, go.mod) for known vulnerabilities; exits 1 on findings')
    .argument('<path>', 'a project folder (searched for lockfiles) or one lockfile')
    .option('--json', 'print the report as JSON ({ findings: [...] })')
    .option('--sarif', 'print the report as SARIF 2.1.0')
    .option('--advisories <dir...>', 'match against OSV advisory files in these folders instead of the server')
    .option('--vex <file>', `an OpenVEX document marking findings not affected (default: PATH/${VEX_FILE} when present)`)
    .option('--fail-on <severity>', `exit 1 only for findings at or above this severity (${severities.filter((s) => s !== 'unknown').join(', ')}); default: any finding`)
    .action(async (path: string, opts: ScanDepsOptions, cmd: Command) => {
      if (opts.json === true && opts.sarif === true) throw new UsageError('choose one of --json and --sarif');
      const failOn = opts.failOn;
      if (failOn !== undefined && !severities.includes(failOn as Severity)) throw new UsageError(`--fail-on: "${failOn}" is not one of ${severities.join(', ')}`);
      if (!(await access(path).then(() => true, () => false))) throw new CliError(`${path}: no such file or directory`, 2);
      const project = await resolveProject(path);
      const vex = await readVex(path, opts.vex);
      const matches = opts.advisories !== undefined ? await localMatches(opts.advisories, project.trees) : await serverMatches(cli, cmd, project.trees);
      const findings = findingsOf(project.trees, matches, vex);
      const summary = summarize(findings);
      const warnings = project.trees.flatMap((t) => t.warnings.map((w) => `${t.file}: ${w}`));
      if (opts.json === true) {
        cli.printJson({ findings, summary, lockfiles: project.trees.map((t) => ({ file: t.file, ecosystem: t.ecosystem, packages: t.packages.length })), errors: project.errors, warnings });
      } else if (opts.sarif === true) {
        cli.printJson(toSarif(findings, scan.parent?.version() ?? 'unknown'));
      } else {
        for (const f of findings) cli.out(formatFinding(f));
        const packages = project.trees.reduce((n, t) => n + t.packages.length, 0);
        const counts = (Object.entries(summary.bySeverity) as [Severity, number][]).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');
        cli.err(`${summary.total} vulnerable dependenc${summary.total === 1 ? 'y' : 'ies'}${counts ? ` (${counts})` : ''} in ${packages} packages from ${project.trees.length} lockfile(s)${summary.suppressed > 0 ? `; ${summary.suppressed} suppressed by VEX` : ''}`);
      }
      for (const w of warnings) cli.err(`warning: ${w}`);
      for (const e of project.errors) cli.err(`error: ${e.message}`);
      if (project.trees.length === 0 && project.errors.length === 0) cli.err(`no lockfile found under ${basename(path) || path} (package-lock.json, npm-shrinkwrap.json, poetry.lock, Pipfile.lock, requirements.txt, go.mod, go.sum)`);
      if (project.errors.length > 0) cli.exitCode = 2;
      else if (failOn !== undefined ? failsAt(findings, failOn as Severity) : summary.total > 0) cli.exitCode = 1;
    });
}
