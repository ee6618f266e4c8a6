import type { Command } from 'commander';
import { ApiError, type Client } from './client.js';
import { loginHint, type Cli } from './context.js';
import { formatDuration, formatFields } from './format.js';
import type { StatusView } from '../kernel/index.js';

interface Health {
  ok: boolean;
  statusCode: number;
  body: unknown;
}

/** `plinth status`: health needs no login; version, database and queue need one. */
export function registerStatusCommand(program: Command, cli: Cli): void {
  program
    .command('status')
    .description('show whether the server is up, its version, database, uptime and queue depth')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { target, client } = await cli.connect(cmd, { requireToken: false });
      const health = await checkHealth(client);
      let status: StatusView | null = null;
      let statusError: { name: string; message: string } | null = null;
      if (target.token !== undefined) {
        try {
          status = await client.json<StatusView>('GET', '/api/status');
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          statusError = { name: err.name, message: err.message };
        }
      }
      if (!health.ok) cli.exitCode = 1;
      const loggedIn = target.token !== undefined && statusError?.name !== 'AuthenticationError';
      if (opts.json === true) {
        return cli.printJson({ server: target.server, health, loggedIn, status, error: statusError });
      }
      const fields: [string, string][] = [
        ['server', target.server],
        ['health', describeHealth(health)],
      ];
      if (status !== null) {
        fields.push(
          ['version', status.version],
          ['database', status.dialect],
          ['uptime', formatDuration(status.uptimeS)],
          ['queue', `${status.queue.queued} queued, ${status.queue.running} running, ${status.queue.dead} dead`],
          ['ledger', `last seq ${status.ledger.lastSeq}`],
        );
      }
      cli.out(formatFields(fields));
      if (target.token === undefined) {
        cli.out(`Not logged in: run ${loginHint(target.server)} to see version, database and queue.`);
      } else if (statusError?.name === 'AuthenticationError') {
        cli.out(`Not logged in (the token was refused): run ${loginHint(target.server)} to see version, database and queue.`);
      } else if (statusError !== null) {
        cli.out(`Could not read /api/status: ${statusError.message}`);
      }
    });
}

async function checkHealth(client: Client): Promise<Health> {
  try {
    const res = await client.send('GET', '/healthz', { auth: false });
    return { ok: true, statusCode: res.status, body: await readBody(res) };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { ok: false, statusCode: err.status, body: { error: { name: err.name, message: err.message } } };
  }
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** "ok", or the status word the server reports, or the failure. */
export function describeHealth(health: Health): string {
  const reported = typeof health.body === 'object' && health.body !== null ? (health.body as { status?: unknown }).status : undefined;
  if (health.ok) return typeof reported === 'string' ? reported : 'ok';
  const message = (health.body as { error?: { message?: string } }).error?.message;
  return `unhealthy (${health.statusCode}${message !== undefined ? `: ${message}` : ''})`;
}
