import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { baselineOf, formatSecretFinding as formatFinding, secretsJsonReport as jsonReport, secretsSarifReport as sarifReport, scanSecrets } from '../../security/index.js';
import type { Cli } from '../context.js';
import { UsageError } from '../errors.js';

interface ScanSecretsOptions {
  json?: boolean;
  sarif?: boolean;
  config?: string;
  baseline?: string;
  commits?: string;
  writeBaseline?: string;
  includeNodeModules?: boolean;
  maxFileMb?: string;
}

/** `plinth scan secrets PATH`: the secrets scan, locally and without a server; exits 1 when findings remain. */
export function registerScanSecrets(scan: Command, cli: Cli): void {
  scan
    .command('secrets')
    .description('find credentials in a working tree or in the commits of a range (gitleaks-compatible rules); exits 1 when any remain')
    .argument('<path>', 'the folder (or git repository, with --commits) to scan')
    .option('--json', 'print the report as JSON ({ findings: [...] })')
    .option('--sarif', 'print the report as SARIF 2.1.0')
    .option('--config <file>', 'a gitleaks TOML config (default: PATH/.gitleaks.toml, else the built-in rules)')
    .option('--baseline <file>', 'accepted findings to leave out (default: PATH/.plinth-secrets-baseline.json when present)')
    .option('--commits <range>', 'scan the lines added by each commit in this range (e.g. main..HEAD) instead of the working tree')
    .option('--write-baseline <file>', 'write every current finding to this baseline file, accepting them')
    .option('--include-node-modules', 'scan node_modules folders too')
    .option('--max-file-mb <n>', 'skip files larger than this many MiB (default 10)')
    .action(async (path: string, opts: ScanSecretsOptions) => {
      if (opts.json === true && opts.sarif === true) throw new UsageError('choose one of --json and --sarif');
      const maxFileMb = opts.maxFileMb === undefined ? undefined : Number(opts.maxFileMb);
      if (maxFileMb !== undefined && !(maxFileMb > 0)) throw new UsageError(`--max-file-mb: "${opts.maxFileMb}" is not a positive number`);
      const result = await scanSecrets({
        path,
        configFile: opts.config,
        baselineFile: opts.baseline,
        commits: opts.commits,
        applySuppressions: opts.writeBaseline === undefined,
        tree: { includeNodeModules: opts.includeNodeModules === true, maxFileBytes: maxFileMb === undefined ? undefined : Math.round(maxFileMb * 1024 * 1024) },
      });
      if (opts.writeBaseline !== undefined) {
        await writeFile(opts.writeBaseline, `${JSON.stringify(baselineOf(result.findings, new Date().toISOString()), null, 2)}\n`);
        cli.err(`wrote ${result.findings.length} finding(s) to ${opts.writeBaseline}`);
        return;
      }
      if (opts.json === true) cli.printJson(jsonReport(result));
      else if (opts.sarif === true) cli.printJson(sarifReport(result.findings, result.rules, scan.parent?.version() ?? 'unknown'));
      else {
        for (const f of result.findings) cli.out(formatFinding(f));
        for (const p of result.problems) cli.err(`warning: rule ${p.ruleId} not loaded: ${p.reason}`);
        for (const s of result.skipped) cli.err(`skipped ${s.file}: ${s.reason}`);
        const what = result.commitsScanned !== undefined ? `${result.commitsScanned} commit(s)` : `${result.filesScanned} file(s)`;
        cli.err(`${result.findings.length} secret(s) found in ${what}${result.suppressed > 0 ? `; ${result.suppressed} accepted by the baseline` : ''}`);
      }
      if (result.findings.length > 0) cli.exitCode = 1;
    });
}
