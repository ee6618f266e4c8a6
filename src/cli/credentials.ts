import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, UsageError } from './errors.js';

/** Where `plinth` talks to when neither --server, PLINTH_URL nor a saved login says otherwise. */
export const defaultServer = 'http://127.0.0.1:7007';

/** One saved login: an API token the CLI created for itself at `plinth login`. */
export const SavedLogin = z.object({
  server: z.string(),
  username: z.string(),
  token: z.string(),
  tokenId: z.string(),
  savedAt: z.string().optional(),
});
export type SavedLogin = z.infer<typeof SavedLogin>;

/** The credentials file; `logins` is ordered oldest first, so the last entry is the default server. */
const CredentialsFile = z.object({ version: z.literal(1), logins: z.array(SavedLogin) });
export type CredentialsFile = z.infer<typeof CredentialsFile>;

const emptyFile = (): CredentialsFile => ({ version: 1, logins: [] });

/** `${PLINTH_CONFIG_DIR ?? ~/.config/plinth}/credentials.json` */
export function credentialsPath(env: Record<string, string | undefined>, homeDir: string): string {
  const dir = env.PLINTH_CONFIG_DIR !== undefined && env.PLINTH_CONFIG_DIR !== '' ? env.PLINTH_CONFIG_DIR : join(homeDir, '.config', 'plinth');
  return join(dir, 'credentials.json');
}

/**
 * Normalises a server URL so the same server is saved once: http(s) only, no trailing slash,
 * no query or fragment. A path prefix is kept for servers behind a reverse proxy.
 */
export function normalizeServer(input: string): string {
  let url: URL;
  try {
    // Without a scheme, "localhost:7007" would parse as a URL whose scheme is "localhost:".
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) throw new TypeError('no scheme');
    url = new URL(input);
  } catch {
    const hint = /^[\w.-]+(:\d+)?(\/.*)?$/.test(input) ? `http://${input}` : defaultServer;
    throw new UsageError(`--server: "${input}" is not a URL; use e.g. ${hint}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--server: "${input}" must be an http:// or https:// URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError(`--server: "${input}" must not contain a user or password; use plinth login`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path}`;
}

export async function readCredentials(path: string): Promise<CredentialsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyFile();
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, 1, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON; delete it and run plinth login`, 1, { cause: err });
  }
  const parsed = CredentialsFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${path}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected content'}; delete it and run plinth login`);
  }
  return parsed.data;
}

/**
 * Writes the file readable by its owner only (0600, directory 0700). Writes a temporary file and renames
 * it so that a crash never leaves half a file and the secret is never briefly world-readable.
 */
export async function writeCredentials(path: string, file: CredentialsFile): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** The saved login for `server`, if any. */
export function findLogin(file: CredentialsFile, server: string): SavedLogin | undefined {
  return file.logins.find((l) => l.server === server);
}

/** Adds or replaces the login for its server and makes it the default (the last entry). */
export function withLogin(file: CredentialsFile, login: SavedLogin): CredentialsFile {
  return { ...file, logins: [...file.logins.filter((l) => l.server !== login.server), login] };
}

/** Removes the login for `server`; the most recent remaining login becomes the default. */
export function withoutLogin(file: CredentialsFile, server: string): CredentialsFile {
  return { ...file, logins: file.logins.filter((l) => l.server !== server) };
}

/** The server and credentials one command uses. */
export interface Target {
  server: string;
  token: string | undefined;
  /** Where the token came from: PLINTH_TOKEN, the saved login for the server, or nowhere. */
  tokenSource: 'env' | 'saved' | 'none';
  login: SavedLogin | undefined;
}

/**
 * Resolves the server (--server, then PLINTH_URL, then the last login, then the default) and the token
 * (PLINTH_TOKEN wins over the saved login for that server).
 */
export function resolveTarget(serverFlag: string | undefined, env: Record<string, string | undefined>, file: CredentialsFile): Target {
  const envUrl = env.PLINTH_URL !== '' ? env.PLINTH_URL : undefined;
  const server = normalizeServer(serverFlag ?? envUrl ?? file.logins.at(-1)?.server ?? defaultServer);
  const login = findLogin(file, server);
  const envToken = env.PLINTH_TOKEN !== undefined && env.PLINTH_TOKEN !== '' ? env.PLINTH_TOKEN : undefined;
  if (envToken !== undefined) return { server, token: envToken, tokenSource: 'env', login };
  if (login !== undefined) return { server, token: login.token, tokenSource: 'saved', login };
  return { server, token: undefined, tokenSource: 'none', login };
}
