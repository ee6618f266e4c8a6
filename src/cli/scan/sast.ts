import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatSastFinding, sastSarif, scanSast } from '../../security/index.js';
import type { Cli } from '../context.js';
import { CliError, UsageError } from '../errors.js';

const levels = ['critical', 'high', 'medium', 'low'] as const;

/** `plinth scan sast PATH`: SAST for TypeScript and JavaScript, locally; exits 1 on findings at or above --fail-on. */
export function registerScanSast(scan: Command, cli: Cli): void {
  scan
    .command('sast')
    .description('find injection sinks, weak crypto and disabled TLS checks in TypeScript/JavaScript; exits 1 on findings at or above --fail-on')
    .argument('<path>', 'the folder to scan (node_modules, dist, build and minified files are skipped)')
    .option('--json', 'print the report as JSON ({ findings: [...] })')
    .option('--sarif', 'print the report as SARIF 2.1.0')
    .option('--fail-on <severity>', 'lowest severity that fails: critical, high, medium or low', 'high')
    .action(async (path: string, opts: { json?: boolean; sarif?: boolean; failOn: string }) => {
      if (opts.json === true && opts.sarif === true) throw new UsageError('choose one of --json and --sarif');
      const floor = levels.indexOf(opts.failOn as (typeof levels)[number]);
      if (floor < 0) throw new UsageError(`--fail-on: expected one of ${levels.join(', ')}`);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isDirectory()) throw new CliError(`${path}: not a folder`, 2);
      const result = await scanSast(path);
      if (opts.json === true) cli.printJson({ findings: result.findings, filesScanned: result.filesScanned, skipped: result.skipped, suppressed: result.suppressed });
      else if (opts.sarif === true) cli.printJson(sastSarif(result.findings, scan.parent?.version() ?? 'unknown'));
      else {
        for (const f of result.findings) cli.out(formatSastFinding(f));
        for (const s of result.skipped) cli.err(`skipped ${s.file}: ${s.reason}`);
        cli.err(`${result.findings.length} finding(s) in ${result.filesScanned} file(s)${result.suppressed > 0 ? `; ${result.suppressed} allowed in code` : ''}`);
      }
      if (result.findings.some((f) => levels.indexOf(f.severity) <= floor)) cli.exitCode = 1;
    });
}
