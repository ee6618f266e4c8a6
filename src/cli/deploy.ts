import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { RolloutView } from '../delivery/index.js';
import { digestArtifact, type LogLine } from '../runtime/index.js';
import type { Cli } from './context.js';
import { CliError, UsageError } from './errors.js';
import { describeRollout, parseLabel, rolloutsPath, waitForRollout } from './rollout.js';
import { createSseParser, readSse } from './sse.js';

const MAX_FILE_BYTES = 256_000;

interface DeployOptions { env?: string; release?: string; artifact?: string; label: string[]; commit?: string; wait?: boolean; json?: boolean }

/** `--artifact PATH`: a directory or .tar/.tar.gz, digested here so the server can verify it is unchanged. */
async function artifactOf(path: string): Promise<{ kind: 'directory' | 'tarball'; path: string; digest: string }> {
  const absolute = resolve(path);
  const kind = /\.tar(\.gz)?$|\.tgz$/.test(absolute) ? 'tarball' : 'directory';
  try {
    return { kind, path: absolute, digest: await digestArtifact({ kind, path: absolute }) };
  } catch (err) {
    throw new CliError(`--artifact ${path}: ${(err as Error).message}`);
  }
}

function labelsOf(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  return Object.fromEntries(pairs.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label ${p}: expected key=value`);
    return [p.slice(0, eq), p.slice(eq + 1)];
  }));
}

/** The request body for a workload spec or a Score file (recognised by its apiVersion). */
async function requestBody(file: string, opts: DeployOptions): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new CliError(`${file} is larger than ${MAX_FILE_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new CliError(`${file} is not YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new CliError(`${file}: expected a workload spec or a Score file (a YAML mapping)`);
  const artifact = opts.artifact !== undefined ? await artifactOf(opts.artifact) : undefined;
  const common = { ...(opts.env ? { environment: opts.env } : {}), ...(opts.release ? { version: opts.release } : {}), ...(opts.commit ? { commit: opts.commit } : {}), ...(labelsOf(opts.label) ? { labels: labelsOf(opts.label) } : {}) };
  if (String((doc as { apiVersion?: unknown }).apiVersion ?? '').startsWith('score.dev/')) {
    if (!opts.env || !opts.release || !artifact) throw new UsageError(`${file} is a Score file: give --env, --release (its version) and --artifact (the directory or tarball to run)`);
    return { score: text, artifact, ...common };
  }
  return { spec: artifact ? { ...doc, artifact } : doc, ...common };
}

/** `plinth deploy FILE` and `plinth logs SERVICE`. */
export function registerDeployCommands(program: Command, cli: Cli): void {
  program.command('deploy').description('roll out a workload spec or score.yaml to an environment (canary in production by default)')
    .argument('<file>', 'a workload spec (YAML) or a Score file (score.yaml)')
    .option('--env <environment>', 'the environment (overrides the spec’s)', parseLabel)
    // Not --version: commander reads that as plinth's own version flag anywhere on the line.
    .option('--release <version>', 'the version being deployed (overrides the spec’s)')
    .option('--artifact <path>', 'the directory or tarball to run (needed for a Score file)')
    .option('--label <key=value>', 'a label for the workload (repeatable; the guardrails require owner and cost-center)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--commit <sha>', 'the commit the artifact was built from (recorded for DORA metrics)')
    .option('--wait', 'follow the rollout until it succeeds (exit 0) or fails / rolls back (exit 1)')
    .option('--json', 'print the rollout as JSON')
    .action(async (file: string, opts: DeployOptions, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const body = await requestBody(file, opts);
      // The server answers once the new release is ready (or failed): allow for slow readiness probes.
      const r = await client.json<RolloutView>('POST', rolloutsPath, { body, timeoutMs: 600_000 });
      if (opts.json === true && opts.wait !== true) return cli.printJson(r);
      cli.out(`Rollout ${r.id} started (${r.strategy && typeof r.strategy === 'object' && 'kind' in r.strategy ? String(r.strategy.kind) : 'strategy'})`);
      const final = opts.wait === true ? await waitForRollout(cli, client, r.id) : r;
      if (opts.json === true) return cli.printJson(final);
      if (opts.wait !== true) {
        cli.out(describeRollout(r));
        cli.out(`Follow it with: plinth rollout status ${r.service} --env ${r.environment}`);
      }
      if (final.phase === 'failed' || final.phase === 'rolled-back') cli.exitCode = 1;
    });

  program.command('logs').description('a service’s runtime logs (every replica, secrets masked); -f follows new lines')
    .argument('<service>', 'the service', parseLabel)
    .option('--env <environment>', 'the environment', parseLabel, 'production')
    .option('-f, --follow', 'keep printing new lines (Ctrl-C stops)')
    .option('--grep <regex>', 'only lines matching this regular expression')
    .option('--limit <n>', 'at most this many recent lines', '200')
    .action(async (service: string, opts: { env: string; follow?: boolean; grep?: string; limit: string }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const base = `/api/runtime/services/${service}/environments/${opts.env}/logs`;
      const format = (l: LogLine) => `${l.time} ${l.releaseId.slice(0, 8)}/${l.replica} ${l.stream === 'stderr' ? 'ERR ' : ''}${l.text}`;
      const { items } = await client.json<{ items: LogLine[] }>('GET', base, { query: { grep: opts.grep, limit: opts.limit } });
      for (const line of items) cli.out(format(line));
      if (opts.follow !== true) return;
      const signal = cli.io.interruptSignal();
      const res = await client.send('GET', `${base}/stream`, { query: { grep: opts.grep }, headers: { accept: 'text/event-stream' }, signal, timeoutMs: null });
      if (res.body === null) return;
      try {
        for await (const message of readSse(res.body, createSseParser())) if (message.event === 'line') cli.out(format(JSON.parse(message.data) as LogLine));
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    });
}
