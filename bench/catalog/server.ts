/**
 * The real Plinth server as a child process (`node dist/src/main.js`), on SQLite in a temp data dir or
 * on a fresh PostgreSQL database, with an API token for the benchmark's requests.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, cleanEnv, createPostgresDatabase, freePort, sleep, spawnTracked, tempDir, waitForExit } from '../kernel/util.js';
import { http, nowS, repoRoot } from './common.js';

export type Dialect = 'sqlite' | 'postgres';

export interface PlinthServer {
  dialect: Dialect;
  child: ChildProcess;
  pid: number;
  base: string;
  /** Monotonic seconds at spawn. */
  spawnedAtS: number;
  /** Spawn to the first 200 of /readyz. */
  readyS: number;
  /** `authorization: Bearer …` of an admin API token. */
  headers: Record<string, string>;
  /** How the process ended, or undefined while it runs. */
  exited(): string | undefined;
  /** The last 2,000 characters the server wrote to stderr. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after 20 s; drops the PostgreSQL database. */
  stop(): Promise<{ exit: string; stopS: number }>;
}

export interface StartOptions {
  dialect: Dialect;
  /** PLINTH_CATALOG_FILE_ROOT: the generated data folder. */
  fileRoot: string;
  /** Write a V8 CPU profile of the server to this folder when it exits. */
  cpuProfile?: { dir: string; name: string };
  /** Another build's dist/src/main.js (--baseline-server); by default the one beside this bench. */
  mainJs?: string;
}

/**
 * The server compiled beside this bench (dist/bench/catalog → dist/src/main.js), so a bench compiled to
 * another outDir measures that build; from the TypeScript sources it falls back to dist/.
 */
const besideBench = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const mainJs = existsSync(besideBench) ? besideBench : join(repoRoot, 'dist', 'src', 'main.js');

/** Spawns the server, waits for /readyz, logs in as admin and creates an API token. */
export async function startPlinth(options: StartOptions): Promise<PlinthServer> {
  const dataDir = tempDir(`plinth-${options.dialect}`);
  const database = options.dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = cleanEnv({
    NODE_ENV: 'production',
    PLINTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    PLINTH_LOG_LEVEL: 'silent',
    PLINTH_LOG_FORMAT: 'json',
    PLINTH_CATALOG_FILE_ROOT: options.fileRoot,
    ...(database ? { PLINTH_DATABASE_URL: database.url } : {}),
  });
  const nodeArgs = options.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfile.dir, '--cpu-prof-name', options.cpuProfile.name] : [];
  const spawnedAtS = nowS();
  const child = spawnTracked(process.execPath, [...nodeArgs, options.mainJs ?? mainJs, '--data-dir', dataDir, '--port', String(port), '--gateway-port', '0', '--no-demo', '--no-builtin-templates'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = String(code ?? signal)));

  const stop = async () => {
    const t0 = nowS();
    let exit = exited ?? 'running';
    if (exited === undefined) {
      child.kill('SIGTERM');
      await waitForExit(child, 20_000);
      exit = exited ?? 'unknown';
    }
    await database?.drop();
    return { exit, stopS: nowS() - t0 };
  };

  try {
    for (;;) {
      if (exited !== undefined) throw new Error(`plinth exited with ${exited} before /readyz answered: ${stderrTail.trim().slice(-500)}`);
      const ready = await http('GET', `${base}/readyz`, { timeoutMs: 2000 }).catch(() => undefined);
      if (ready?.status === 200) break;
      if (nowS() - spawnedAtS > 60) throw new Error(`${base}/readyz did not answer 200 within 60 s`);
      await sleep(20);
    }
    const readyS = nowS() - spawnedAtS;
    const headers = await apiToken(base);
    return { dialect: options.dialect, child, pid: child.pid!, base, spawnedAtS, readyS, headers, stop, exited: () => exited, stderrTail: () => stderrTail };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** POST /api/auth/login as admin, then POST /api/auth/tokens with the session cookie and CSRF header. */
async function apiToken(base: string): Promise<Record<string, string>> {
  const login = await http('POST', `${base}/api/auth/login`, { body: { username: 'admin', password: ADMIN_PASSWORD } });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text.slice(0, 300)}`);
  const cookies = login.headers['set-cookie'] ?? [];
  const session = cookies.map((c) => /^plinth_session=([^;]*)/.exec(c)?.[1]).find((v) => v !== undefined);
  if (!session) throw new Error('login: no plinth_session cookie');
  const { csrfToken } = JSON.parse(login.text) as { csrfToken: string };
  const created = await http('POST', `${base}/api/auth/tokens`, {
    headers: { cookie: `plinth_session=${session}`, 'x-csrf-token': csrfToken },
    body: { name: 'bench-catalog' },
  });
  if (created.status !== 201) throw new Error(`create token: ${created.status} ${created.text.slice(0, 300)}`);
  return { authorization: `Bearer ${(JSON.parse(created.text) as { secret: string }).secret}` };
}
