import { buildApp, type App, type AppOptions } from '../../src/app.js';
import { createLogger, parseConfig, type Clock, type Config } from '../../src/kernel/index.js';
import { createTestDatabase, type DialectName } from './dialects.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export function testConfig(db: { dataDir: string; databaseUrl: string | undefined }, overrides: Partial<Config> = {}): Config {
  const base = parseConfig(['--data-dir', db.dataDir, '--port', '0', '--gateway-port', '0'], { PLINTH_ADMIN_PASSWORD: ADMIN_PASSWORD, PLINTH_LOG_LEVEL: 'silent' });
  // Tests start from an empty catalog; those about the golden paths turn builtinTemplates on.
  return { ...base, databaseUrl: db.databaseUrl, prettyLogs: false, demo: false, builtinTemplates: false, ...overrides, jobs: { ...base.jobs, drainMs: 2000, ...overrides.jobs } };
}

export interface TestApp {
  app: App;
  dialect: DialectName;
  /** Base URL when started with `listen: true`. */
  url: string;
  adminToken: string;
  /** Logs in through the API and returns the cookie header and CSRF token. */
  login(username: string, password: string): Promise<{ cookie: string; csrfToken: string }>;
  /** Creates a user through the API (as admin) and returns an API token of theirs. */
  createUser(username: string, role: 'platform-admin' | 'member' | 'viewer'): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

/** Builds the very app `npm start` runs, on a fresh database, with a known admin password. */
export async function startTestApp(options: { dialect: DialectName; listen?: boolean; clock?: Clock; config?: Partial<Config>; app?: AppOptions }): Promise<TestApp> {
  const db = await createTestDatabase(options.dialect);
  const config = testConfig(db, options.config);
  const app = await buildApp(config, { ...options.app, clock: options.clock, logger: createLogger({ level: 'silent', pretty: false }) });
  await app.start();
  const url = options.listen ? (await app.listen()).replace('localhost', '127.0.0.1') : '';

  async function login(username: string, password: string) {
    const res = await app.server.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
    const cookie = res.cookies.find((c) => c.name === 'plinth_session');
    return { cookie: `plinth_session=${cookie!.value}`, csrfToken: (res.json() as { csrfToken: string }).csrfToken };
  }
  async function tokenFor(username: string, password: string) {
    const session = await login(username, password);
    const res = await app.server.inject({
      method: 'POST',
      url: '/api/auth/tokens',
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      payload: { name: 'test' },
    });
    if (res.statusCode !== 201) throw new Error(`token creation failed: ${res.statusCode} ${res.body}`);
    return (res.json() as { secret: string }).secret;
  }
  const adminToken = await tokenFor('admin', ADMIN_PASSWORD);

  return {
    app,
    dialect: options.dialect,
    url,
    adminToken,
    login,
    async createUser(username, role) {
      const password = `${username}-password`;
      const res = await app.server.inject({
        method: 'POST',
        url: '/api/users',
        headers: { authorization: `Bearer ${adminToken}` },
        payload: { username, role, password },
      });
      if (res.statusCode !== 201) throw new Error(`user creation failed: ${res.statusCode} ${res.body}`);
      return { id: (res.json() as { id: string }).id, token: await tokenFor(username, password) };
    },
    async close() {
      await app.stop();
      await db.drop();
    },
  };
}

/** A listening server for foreign clients (browser, CLI): the contract the journey tests use. */
export async function startTestServer(options: { dialect: DialectName; config?: Partial<Config>; app?: AppOptions }) {
  const t = await startTestApp({ dialect: options.dialect, listen: true, config: options.config, app: options.app });
  return { url: t.url, adminUsername: 'admin' as const, adminPassword: ADMIN_PASSWORD, adminToken: t.adminToken, testApp: t, close: () => t.close() };
}
