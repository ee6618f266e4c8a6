import { access, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { cyclonedxSbom, resolveProject, spdxSbom } from '../security/index.js';
import type { Cli } from './context.js';
import { CliError, UsageError } from './errors.js';

const formats = ['cyclonedx', 'spdx'] as const;

/** `plinth sbom PATH --format cyclonedx|spdx`: an SBOM of the folder's lockfiles on stdout, made locally. */
export function registerSbomCommand(program: Command, cli: Cli): void {
  program
    .command('sbom')
    .description('print a software bill of materials of a project’s lockfiles (CycloneDX 1.6 or SPDX 2.3 JSON)')
    .argument('<path>', 'a project folder (searched for lockfiles) or one lockfile')
    .option('--format <format>', `${formats.join(' or ')}`, 'cyclonedx')
    .action(async (path: string, opts: { format: string }) => {
      if (!formats.includes(opts.format as (typeof formats)[number])) throw new UsageError(`--format: "${opts.format}" is not one of ${formats.join(', ')}`);
      if (!(await access(path).then(() => true, () => false))) throw new CliError(`${path}: no such file or directory`, 2);
      const project = await resolveProject(path);
      // An SBOM that silently leaves out a lockfile would misdescribe the software: refuse instead.
      if (project.errors.length > 0) throw new CliError(project.errors.map((e) => e.message).join('\n'), 2);
      if (project.trees.length === 0) throw new CliError(`${path}: no lockfile found (package-lock.json, npm-shrinkwrap.json, poetry.lock, Pipfile.lock, requirements.txt, go.mod, go.sum)`, 2);
      const folder = resolve((await stat(path)).isDirectory() ? path : resolve(path, '..'));
      const options = { folderName: basename(folder), toolVersion: program.version() ?? 'unknown' };
      cli.out(opts.format === 'spdx' ? spdxSbom(project.trees, options) : cyclonedxSbom(project.trees, options));
    });
}
