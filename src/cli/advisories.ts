import type { Command } from 'commander';
import { loadOsvPaths, MAX_ADVISORIES_PER_IMPORT, type ImportResult, type OsvAdvisory } from '../security/index.js';
import type { Cli } from './context.js';

/** Keeps each request under the server's default 1 MiB body limit. */
const MAX_BATCH_BYTES = 900 * 1024;

/** Splits advisories into request bodies under both the count and the size limit. */
function batches(advisories: readonly OsvAdvisory[]): OsvAdvisory[][] {
  const out: OsvAdvisory[][] = [];
  let current: OsvAdvisory[] = [];
  let bytes = 2;
  for (const a of advisories) {
    const size = Buffer.byteLength(JSON.stringify(a)) + 1;
    if (current.length > 0 && (bytes + size > MAX_BATCH_BYTES || current.length >= MAX_ADVISORIES_PER_IMPORT)) {
      out.push(current);
      current = [];
      bytes = 2;
    }
    current.push(a);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** `plinth advisories import PATH…`: loads OSV files and folders locally, validates them, imports them through the API. */
export function registerAdvisoriesCommands(program: Command, cli: Cli): void {
  const advisories = program.command('advisories').description('the advisory store the dependency audit matches against (OSV format)');
  advisories
    .command('import')
    .description('import OSV advisories: .json files holding one record or an array, or folders of them (e.g. an unzipped osv.dev all.zip); platform admins')
    .argument('<paths...>', 'files and folders')
    .option('--json', 'print the counts as JSON')
    .action(async (paths: string[], opts: { json?: boolean }, cmd: Command) => {
      // Everything is read and validated before the first request, so a bad file imports nothing.
      const loaded = await loadOsvPaths(paths);
      const { client } = await cli.connect(cmd);
      const total: ImportResult = { imported: 0, updated: 0, skipped: 0 };
      for (const batch of batches(loaded.advisories)) {
        const result = await client.json<ImportResult>('POST', '/api/security/advisories', { body: batch, timeoutMs: 120_000 });
        total.imported += result.imported;
        total.updated += result.updated;
        total.skipped += result.skipped;
      }
      if (opts.json === true) cli.printJson({ ...total, files: loaded.files, advisories: loaded.advisories.length });
      else cli.out(`imported ${total.imported}, updated ${total.updated}, skipped ${total.skipped} (unchanged or older) from ${loaded.advisories.length} advisories in ${loaded.files} file(s)`);
    });
}
