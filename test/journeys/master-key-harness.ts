/**
 * Test support for journeys that kill -9 a real server: starts master-key-server.ts as a child
 * process on a test database (2 s job lease, so a restart takes a killed server's jobs over in
 * seconds), kills it, and talks to it over HTTP with an admin token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ADMIN_PASSWORD } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/dialects.js';

const repoRoot = new URL('../../', import.meta.url).pathname;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
}

/** Starts the server; resolves once it prints `listening <url>`. `env` adds to (or, with '', unsets) PLINTH_* variables. */
export function startServer(db: TestDatabase, env: Record<string, string> = {}): Promise<ServerProcess> {
  const args = ['--import', 'tsx', 'test/journeys/master-key-server.ts', '--data-dir', db.dataDir, '--port', '0', '--gateway-port', '0', '--no-demo', '--no-builtin-templates', ...(db.databaseUrl ? ['--database-url', db.databaseUrl] : [])];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, PLINTH_ADMIN_PASSWORD: ADMIN_PASSWORD, PLINTH_LOG_LEVEL: 'warn', PLINTH_LOG_FORMAT: 'json', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${out}`)), 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${out}`)));
  });
}

/** SIGKILL, and wait until the process is gone. */
export async function killServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
}

export async function adminToken(url: string): Promise<string> {
  const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const csrf = ((await login.json()) as { csrfToken: string }).csrfToken;
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const token = await fetch(`${url}/api/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf }, body: JSON.stringify({ name: 'crash' }) });
  return ((await token.json()) as { secret: string }).secret;
}

/** A JSON call that throws (with the body) on anything but 2xx. */
export async function api<T>(url: string, token: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
