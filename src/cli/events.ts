import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ApiError, UnreachableError, type Client } from './client.js';
import type { Cli } from './context.js';
import type { LedgerEventView, StatusView } from '../kernel/index.js';
import { formatEventLine } from './format.js';
import { createSseParser, readSse } from './sse.js';

const firstRetryMs = 500;
const maxRetryMs = 10_000;

export interface TailOptions {
  kind?: string;
  subject?: string;
  sinceSeq?: string;
  json?: boolean;
}

/** `plinth events tail`. */
export function registerEventCommands(program: Command, cli: Cli): void {
  const events = program.command('events').description('the event ledger');
  events
    .command('tail')
    .description('print ledger events as they happen (Ctrl-C to stop)')
    .option('--kind <kinds>', 'only these comma-separated kinds, e.g. kernel.token.created,kernel.user.created')
    .option('--subject <ref>', 'only events about this subject, e.g. user:default/admin')
    .option('--since-seq <n>', 'start after this ledger sequence number (default: only new events)', parseSeq)
    .option('--json', 'print each event as one line of JSON')
    .action(async (opts: TailOptions, cmd: Command) => {
      const { client } = await cli.connect(cmd);
      await tailEvents(cli, client, opts, cli.io.interruptSignal());
    });
}

function parseSeq(value: string): string {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a sequence number`);
  return value;
}

/**
 * Follows the event stream until `signal` aborts. A dropped connection is reopened with
 * `Last-Event-ID` and `afterSeq` set to the last event received (or, before any, to the end of the
 * ledger when the tail started), so no event is missed or repeated. The first connection failing is an
 * error, as is a refusal (401, 403, 400) on a reconnect; an unreachable or failing server is retried.
 */
export async function tailEvents(cli: Cli, client: Client, opts: TailOptions, signal: AbortSignal): Promise<void> {
  let afterSeq = opts.sinceSeq ?? (await currentSeq(client, signal));
  let lastEventId: string | undefined;
  let retryMs = firstRetryMs;
  let connected = false;
  let lost = false;
  while (!signal.aborted) {
    const parser = createSseParser();
    try {
      const res = await client.send('GET', '/api/events/stream', {
        query: { kind: opts.kind, subject: opts.subject, afterSeq },
        headers: { accept: 'text/event-stream', ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) },
        signal,
        timeoutMs: null,
      });
      if (res.body === null) throw new Error('the event stream response has no body');
      connected = true;
      retryMs = firstRetryMs;
      if (lost) cli.err(`reconnected to ${client.server}`);
      lost = false;
      for await (const message of readSse(res.body, parser)) {
        if (message.lastEventId !== '') {
          lastEventId = message.lastEventId;
          if (/^\d+$/.test(lastEventId)) afterSeq = lastEventId;
        }
        printEvent(cli, message.data, opts.json === true);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (!connected || !isRetriable(err)) throw err;
    }
    if (signal.aborted) return;
    if (!lost) cli.err(`connection to ${client.server} lost; reconnecting…`);
    lost = true;
    try {
      await sleep(parser.retryMs ?? retryMs, undefined, { signal });
    } catch {
      return;
    }
    retryMs = Math.min(retryMs * 2, maxRetryMs);
  }
}

/** The ledger's current end, so a reconnect before the first event still resumes where the tail began. */
async function currentSeq(client: Client, signal: AbortSignal): Promise<string | undefined> {
  try {
    const status = await client.json<StatusView>('GET', '/api/status', { signal });
    return String(status.ledger.lastSeq);
  } catch (err) {
    // Unreachable is reported as such; anything else only loses the resume point before the first event.
    if (err instanceof UnreachableError || signal.aborted) throw err;
    return undefined;
  }
}

/** A connection that could not be reopened or a body read that failed mid-stream (server restarting). */
function isRetriable(err: unknown): boolean {
  if (err instanceof UnreachableError) return true;
  if (err instanceof ApiError) return err.status >= 500;
  // undici ends a body whose socket closed with `TypeError: terminated` (cause: SocketError).
  return err instanceof Error && (err.message === 'terminated' || /ECONNRESET|other side closed/i.test(String(err.cause)));
}

/** Prints a ledger event; other messages the server may send (hello, ping) are skipped. */
function printEvent(cli: Cli, data: string, json: boolean): void {
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch {
    return;
  }
  if (typeof event !== 'object' || event === null || typeof (event as LedgerEventView).kind !== 'string') return;
  cli.out(json ? JSON.stringify(event) : formatEventLine(event as LedgerEventView));
}
