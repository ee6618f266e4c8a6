/** `plinth secrets …`: the secret store's master keys, and re-wrapping onto the current key (issue 8). */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { isTerminal, type Job } from '../kernel/index.js';
import type { Secrets } from '../resources/index.js';
import type { Cli } from './context.js';
import { formatFields, formatTable, formatTime } from './format.js';

type SecretKeysView = Awaited<ReturnType<Secrets['keys']>>;
type RewrapStarted = Awaited<ReturnType<Secrets['rewrap']>>;

const countsText = (counts: Record<string, number>): string =>
  Object.keys(counts).length === 0 ? 'none' : Object.entries(counts).map(([keyId, n]) => `${n} from ${keyId}`).join(', ');

/** Versions not on the current key: until none are left, a previous key cannot leave the keyring. */
export const notOnCurrentKey = (view: SecretKeysView): number => view.versions.filter((v) => v.state !== 'current').reduce((sum, v) => sum + v.count, 0);

export function formatKeys(view: SecretKeysView): string[] {
  const lines = [
    formatFields([
      ['current key', view.currentKeyId],
      ['previous keys', view.previousKeyIds.join(', ') || '-'],
    ]),
    '',
    view.versions.length === 0 ? 'no secret versions yet' : formatTable(['KEY ID', 'STATE', 'VERSIONS'], view.versions.map((v) => [v.keyId, v.state, String(v.count)])),
  ];
  const run = view.lastRewrap;
  if (run) lines.push('', `last re-wrap ${run.jobId} (${run.phase}, job ${run.jobState}), started ${formatTime(run.createdAt)} by ${run.createdBy}: re-wrapped ${countsText(run.rewrapped)}; skipped ${countsText(run.skipped)}`);
  const unknown = view.versions.filter((v) => v.state === 'unknown');
  if (unknown.length > 0) lines.push(`warning: versions on keys this server does not hold (${unknown.map((v) => v.keyId).join(', ')}) cannot be read; add those keys to PLINTH_SECRETS_PREVIOUS_KEYS or keys/secrets.previous/`);
  return lines;
}

const batchSize = (v: string): number => {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 5000) throw new InvalidArgumentError('a number of versions from 1 to 5000');
  return Number(v);
};

export function registerSecretsCommands(program: Command, cli: Cli): void {
  const secrets = program.command('secrets').description('the secret store’s master keys (platform admins)');

  secrets
    .command('keys')
    .description('the current and previous master key ids, how many secret versions each wraps, and the last re-wrap (never key material)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const view = await client.json<SecretKeysView>('GET', '/api/resources/secrets/keys');
      if (opts.json === true) return cli.printJson(view);
      for (const line of formatKeys(view)) cli.out(line);
    });

  secrets
    .command('rewrap')
    .description('re-wrap every secret version still on a previous master key with the current one, as a job; reads and writes go on. With --wait, exits 0 once no version is left on another key')
    .option('--wait', 'follow the job until it ends')
    .option('--batch-size <n>', 'versions per transaction (default 500)', batchSize)
    .option('--json', 'print JSON')
    .action(async (opts: { wait?: boolean; batchSize?: number; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const started = await client.json<RewrapStarted>('POST', '/api/resources/secrets/rewrap', { body: opts.batchSize === undefined ? {} : { batchSize: opts.batchSize } });
      if (opts.wait !== true) {
        if (opts.json === true) return cli.printJson(started);
        return cli.out(`re-wrap ${started.jobId} ${started.created ? 'started' : 'already running'}: secret versions move to master key ${started.toKeyId}; follow it with plinth secrets keys`);
      }
      if (opts.json !== true) cli.err(`re-wrap ${started.jobId} ${started.created ? 'started' : 'already running'}: secret versions move to master key ${started.toKeyId}…`);
      let job = await client.json<Job>('GET', `/api/jobs/${started.jobId}`);
      while (!isTerminal(job.state)) {
        await new Promise((r) => setTimeout(r, 250));
        job = await client.json<Job>('GET', `/api/jobs/${started.jobId}`);
      }
      const view = await client.json<SecretKeysView>('GET', '/api/resources/secrets/keys');
      const left = notOnCurrentKey(view);
      if (job.state !== 'succeeded' || left > 0) cli.exitCode = 1;
      if (opts.json === true) return cli.printJson({ ...started, jobState: job.state, lastError: job.lastError, keys: view });
      cli.out(`re-wrap ${started.jobId}: ${job.state}${job.lastError ? ` (${job.lastError})` : ''}`);
      for (const line of formatKeys(view)) cli.out(line);
      cli.out(left === 0 ? `every version is on ${view.currentKeyId}: previous keys may now leave the keyring` : `${left} version(s) are not on ${view.currentKeyId} yet: keep the previous keys`);
    });
}
