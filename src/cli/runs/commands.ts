import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { LogLine, Run, RunDetail } from '../../pipelines/index.js';
import type { Cli } from '../context.js';
import { formatTable } from '../format.js';
import { createSseParser, readSse } from '../sse.js';

const runsPath = '/api/pipelines/runs';

function parseRunId(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a run id`);
  return value;
}

const row = (r: Run) => [r.id, r.repository, r.ref.replace(/^refs\/heads\//, ''), r.sha.slice(0, 10), r.status, r.createdAt];

const formatLine = (l: LogLine) => `${l.time} [${l.step}] ${l.text}`;

/** `plinth runs list|show|logs|rerun|cancel`. */
export function registerRunsCommands(program: Command, cli: Cli): void {
  const runs = program.command('runs').description('pipeline runs: list them, show stages and tests, follow logs, rerun, cancel');

  runs.command('list').description('list runs, newest first')
    .option('--repo <owner/name>', 'only this repository’s runs')
    .option('--status <status>', 'only runs in this status (queued, running, passed, incomplete, failed, cancelled)')
    .option('--json', 'print the runs as JSON')
    .action(async (opts: { repo?: string; status?: string; json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const page = await client.json<{ items: Run[] }>('GET', runsPath, { query: { repository: opts.repo?.replace(/\.git$/, ''), status: opts.status } });
      if (opts.json === true) return cli.printJson(page.items);
      if (page.items.length === 0) return cli.out('No runs yet; push to a hosted repository to start one.');
      cli.out(formatTable(['RUN', 'REPOSITORY', 'BRANCH', 'COMMIT', 'STATUS', 'CREATED'], page.items.map(row)));
    });

  runs.command('show').description('a run’s stages, steps and test results').argument('<run-id>', 'the run id', parseRunId)
    .option('--json', 'print the run as JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const run = await client.json<RunDetail>('GET', `${runsPath}/${id}`);
      if (opts.json === true) return cli.printJson(run);
      cli.out(`Run ${run.id}: ${run.status} (${run.repository} ${run.sha.slice(0, 10)}, ${run.definitionVersion}, attempt ${run.attempt})`);
      for (const stage of run.stages) {
        cli.out(`${stage.name}: ${stage.status}`);
        for (const step of stage.steps) cli.out(`  ${step.name.padEnd(20)} ${step.status.padEnd(13)} ${step.durationMs !== null ? `${(step.durationMs / 1000).toFixed(1)}s` : ''}${step.message !== null ? `  ${step.message}` : ''}`);
      }
      const failed = run.tests.filter((t) => t.outcome === 'failed');
      if (run.tests.length > 0) cli.out(`tests: ${run.tests.length} (${failed.length} failed, ${run.tests.filter((t) => t.flaky).length} flaky)`);
      for (const t of failed) cli.out(`  failed: ${t.name}${t.file !== null ? ` (${t.file})` : ''}`);
    });

  runs.command('logs').description('print a run’s logs; -f follows them until the run ends').argument('<run-id>', 'the run id', parseRunId)
    .option('-f, --follow', 'keep printing new lines until the run is over')
    .option('--step <name>', 'only this step’s lines (without --follow)')
    .action(async (id: string, opts: { follow?: boolean; step?: string }, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      if (opts.follow !== true) {
        const { items } = await client.json<{ items: LogLine[] }>('GET', `${runsPath}/${id}/logs`, { query: { step: opts.step } });
        for (const line of items) cli.out(formatLine(line));
        return;
      }
      const signal = cli.io.interruptSignal();
      const res = await client.send('GET', `${runsPath}/${id}/logs/stream`, { headers: { accept: 'text/event-stream' }, signal, timeoutMs: null });
      if (res.body === null) return;
      try {
        for await (const message of readSse(res.body, createSseParser())) {
          if (message.event === 'end') return;
          if (message.event === 'line') cli.out(formatLine(JSON.parse(message.data) as LogLine));
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    });

  runs.command('rerun').description('run the same commit again').argument('<run-id>', 'the run id', parseRunId)
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const run = await client.json<Run>('POST', `${runsPath}/${id}/rerun`);
      cli.out(`Queued run ${run.id} (attempt ${run.attempt} of ${run.sha.slice(0, 10)}); follow it with: plinth runs logs -f ${run.id}`);
    });

  runs.command('cancel').description('cancel a queued or running run').argument('<run-id>', 'the run id', parseRunId)
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      const run = await client.json<Run>('POST', `${runsPath}/${id}/cancel`);
      cli.out(`Run ${run.id}: ${run.status === 'cancelled' ? 'cancelled' : 'cancelling'}`);
    });
}
