import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { findKyvernoTestFiles, runKyvernoTestFile, type TestFileReport } from '../../policy/index.js';
import type { Cli } from '../context.js';
import { CliError } from '../errors.js';
import { formatReports, totalsOf } from './model.js';

/** The test files a path names: the file itself, or every kyverno-test.yaml below a folder (hidden ones included). */
async function testFilesAt(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`${path}: no such file or directory`, 2);
  }
  if (info.isFile()) return [path];
  const files = await findKyvernoTestFiles(path);
  if (files.length === 0) throw new CliError(`${path}: no kyverno-test.yaml found (hidden .kyverno-test/ folders are searched too)`, 1);
  return files;
}

/** `plinth policy test`: runs Kyverno CLI test files locally, without a server. */
export function registerPolicyCommands(program: Command, cli: Cli): void {
  const policy = program.command('policy').description('guardrails: Kyverno-compatible policies');

  policy
    .command('test')
    .description('run Kyverno test files (kyverno-test.yaml) against the built-in engine, locally; exits 1 when a result differs')
    .argument('<dir>', 'a folder to search for kyverno-test.yaml files, or one such file')
    .option('--json', 'print the reports as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const root = resolve(dir);
      const reports: TestFileReport[] = [];
      for (const file of await testFilesAt(root)) reports.push(await runKyvernoTestFile(file));
      const totals = totalsOf(reports);
      if (opts.json === true) cli.printJson({ ...totals, reports });
      else for (const line of formatReports(reports, (file) => relative(process.cwd(), file) || file)) cli.out(line);
      if (totals.failed > 0) cli.exitCode = 1;
    });
}
