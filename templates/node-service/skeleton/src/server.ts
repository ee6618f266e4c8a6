import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What /healthz checks besides the process itself (the database, when the service has one). */
export type HealthCheck = () => Promise<void>;

export interface ServiceOptions {
  checks?: Record<string, HealthCheck>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function health(checks: Record<string, HealthCheck>): Promise<{ status: number; body: unknown }> {
  const results: Record<string, string> = {};
  let healthy = true;
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check();
      results[name] = 'ok';
    } catch (err) {
      healthy = false;
      results[name] = err instanceof Error ? err.message : String(err);
    }
  }
  return { status: healthy ? 200 : 503, body: { status: healthy ? 'ok' : 'unavailable', checks: results } };
}

/** Routes of ${{ values.name }}: plain node:http, no framework. */
export function createService(options: ServiceOptions = {}): Server {
  const checks = options.checks ?? {};
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `method ${req.method ?? ''} is not allowed` });
      return;
    }
    if (url.pathname === '/healthz') {
      health(checks).then(
        ({ status, body }) => sendJson(res, status, body),
        (err: unknown) => sendJson(res, 500, { error: String(err) }),
      );
      return;
    }
    if (url.pathname === '/hello') {
      const name = url.searchParams.get('name') ?? 'world';
      if (name.length > 100) {
        sendJson(res, 400, { error: 'name: at most 100 characters' });
        return;
      }
      sendJson(res, 200, { message: `Hello, ${name}!`, service: '${{ values.name }}' });
      return;
    }
    sendJson(res, 404, { error: `no route for ${url.pathname}` });
  });
}
