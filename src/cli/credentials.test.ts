import { mkdtemp, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import {
  credentialsPath,
  defaultServer,
  normalizeServer,
  readCredentials,
  resolveTarget,
  withLogin,
  withoutLogin,
  writeCredentials,
  type CredentialsFile,
  type SavedLogin,
} from './credentials.js';
import { CliError, UsageError } from './errors.js';

const login = (server: string, username = 'ann'): SavedLogin => ({ server, username, token: `secret-${server}`, tokenId: `id-${server}` });
const empty: CredentialsFile = { version: 1, logins: [] };

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'plinth-cred-'));
}

describe('credentialsPath', () => {
  it('uses PLINTH_CONFIG_DIR when set, ~/.config/plinth otherwise', () => {
    expect(credentialsPath({ PLINTH_CONFIG_DIR: '/etc/x' }, '/home/ann')).toBe('/etc/x/credentials.json');
    expect(credentialsPath({}, '/home/ann')).toBe('/home/ann/.config/plinth/credentials.json');
    expect(credentialsPath({ PLINTH_CONFIG_DIR: '' }, '/home/ann')).toBe('/home/ann/.config/plinth/credentials.json');
  });
});

describe('normalizeServer', () => {
  it('drops trailing slashes, query and fragment but keeps a path prefix', () => {
    expect(normalizeServer('http://127.0.0.1:7007/')).toBe('http://127.0.0.1:7007');
    expect(normalizeServer('https://plinth.example.com/')).toBe('https://plinth.example.com');
    expect(normalizeServer('https://example.com/plinth//?x=1#y')).toBe('https://example.com/plinth');
    expect(normalizeServer('HTTP://LOCALHOST:7007')).toBe('http://localhost:7007');
  });

  it('refuses what is not an http(s) URL, or carries a password, as a usage error', () => {
    expect(() => normalizeServer('localhost:7007')).toThrow(UsageError);
    expect(() => normalizeServer('not a url')).toThrow(/not a URL/);
    expect(() => normalizeServer('ftp://example.com')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => normalizeServer('http://ann:pw@example.com')).toThrow(/must not contain a user or password/);
  });
});

describe('withLogin and withoutLogin', () => {
  it('makes the last login the default and replaces an earlier login to the same server', () => {
    let file = withLogin(empty, login('http://a'));
    file = withLogin(file, login('http://b'));
    file = withLogin(file, login('http://a', 'bob'));
    expect(file.logins.map((l) => [l.server, l.username])).toEqual([
      ['http://b', 'ann'],
      ['http://a', 'bob'],
    ]);
  });

  it('falls back to the most recent remaining login after a logout', () => {
    const file = withoutLogin(withLogin(withLogin(empty, login('http://a')), login('http://b')), 'http://b');
    expect(resolveTarget(undefined, {}, file).server).toBe('http://a');
  });
});

describe('resolveTarget', () => {
  const file = withLogin(withLogin(empty, login('http://a')), login('http://b'));

  it('prefers --server, then PLINTH_URL, then the last login, then the default', () => {
    expect(resolveTarget('http://a/', { PLINTH_URL: 'http://c' }, file).server).toBe('http://a');
    expect(resolveTarget(undefined, { PLINTH_URL: 'http://c' }, file).server).toBe('http://c');
    expect(resolveTarget(undefined, {}, file).server).toBe('http://b');
    expect(resolveTarget(undefined, {}, empty).server).toBe(defaultServer);
  });

  it('uses the saved token of the chosen server, and none for an unknown server', () => {
    expect(resolveTarget('http://a', {}, file)).toMatchObject({ token: 'secret-http://a', tokenSource: 'saved' });
    expect(resolveTarget('http://c', {}, file)).toMatchObject({ token: undefined, tokenSource: 'none', login: undefined });
  });

  it('lets PLINTH_TOKEN win over the saved login', () => {
    const target = resolveTarget(undefined, { PLINTH_TOKEN: 'from-env' }, file);
    expect(target).toMatchObject({ server: 'http://b', token: 'from-env', tokenSource: 'env' });
    expect(target.login?.tokenId).toBe('id-http://b');
  });
});

describe('readCredentials and writeCredentials', () => {
  it('reads a missing file as no logins', async () => {
    expect(await readCredentials(join(await tempDir(), 'nope', 'credentials.json'))).toEqual(empty);
  });

  it('writes the file 0600 in a 0700 directory it creates, and reads it back', async () => {
    const dir = join(await tempDir(), 'config', 'plinth');
    const path = join(dir, 'credentials.json');
    const file = withLogin(empty, login('http://a'));
    await writeCredentials(path, file);
    expect(await readCredentials(path)).toEqual(file);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('tightens a config directory that already exists with looser permissions', async () => {
    const dir = join(await tempDir(), 'loose');
    await mkdir(dir, { mode: 0o755 });
    await writeCredentials(join(dir, 'credentials.json'), empty);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('overwrites the whole file and keeps no temporary file behind', async () => {
    const dir = await tempDir();
    const path = join(dir, 'credentials.json');
    await writeCredentials(path, withLogin(empty, login('http://a')));
    await writeCredentials(path, empty);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(empty);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dir)).toEqual(['credentials.json']);
  });

  it('explains a corrupt or foreign file instead of crashing', async () => {
    const path = join(await tempDir(), 'credentials.json');
    await writeFile(path, '{not json');
    await expect(readCredentials(path)).rejects.toThrow(CliError);
    await expect(readCredentials(path)).rejects.toThrow(/not valid JSON; delete it and run plinth login/);
    await writeFile(path, JSON.stringify({ version: 1, logins: [{ server: 'http://a' }] }));
    await expect(readCredentials(path)).rejects.toThrow(/logins\.0\.username/);
  });
});
