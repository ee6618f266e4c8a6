import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitClientEnv, runGitClient } from './git.js';

/**
 * A second git server for tests of external repositories: a plain node HTTP server in front of git's
 * own `git http-backend` CGI (the program real git hosting puts behind Apache or nginx), serving bare
 * repositories from a temp folder, every request behind HTTP Basic auth. Nothing of Plinth is in it.
 */
export interface GitHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Creates an empty bare repository and returns its clone URL (without credentials). */
  createRepository(name: string): Promise<string>;
  /** The clone URL with the credentials in it, for the test's own git client. */
  authenticatedUrl(name: string): string;
  close(): Promise<void>;
}

function checkBasic(header: string | undefined, username: string, password: string): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 && decoded.slice(0, colon) === username && decoded.slice(colon + 1) === password ? username : undefined;
}

/** Runs one request through `git http-backend` and copies its CGI answer onto the response. */
function serveCgi(root: string, user: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    // http-backend enables receive-pack for authenticated users only.
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    ...(req.headers['content-length'] !== undefined ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
    ...(req.headers['content-encoding'] !== undefined ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
    ...(req.headers['git-protocol'] !== undefined ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
  };
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.stderr.resume();
  child.on('close', () => {
    if (!headersDone) res.writeHead(500).end('git http-backend failed');
    else res.end();
  });
}

export async function startGitHttpServer(credentials: { username: string; password: string }): Promise<GitHttpServer> {
  const root = mkdtempSync(join(tmpdir(), 'plinth-git-http-'));
  const server = createServer((req, res) => {
    const user = checkBasic(req.headers.authorization, credentials.username, credentials.password);
    if (user === undefined) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' }).end('authentication required\n');
      return;
    }
    serveCgi(root, user, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async createRepository(name) {
      const created = await runGitClient(['init', '--quiet', '--bare', '--initial-branch=main', `${name}.git`], { cwd: root, env: gitClientEnv(root) });
      if (created.code !== 0) throw new Error(`git init --bare failed: ${created.stderr}`);
      return `${url}/${name}.git`;
    },
    authenticatedUrl(name) {
      const u = new URL(`${url}/${name}.git`);
      u.username = credentials.username;
      u.password = credentials.password;
      return u.toString();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
