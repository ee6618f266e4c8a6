import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url).pathname;
const mainJs = join(repoRoot, 'dist/src/main.js');

/** Starts the built server exactly as `npm start` does and returns its URL and banner. */
function startBuilt(dataDir: string): Promise<{ child: ChildProcess; url: string; banner: string }> {
  const child = spawn(process.execPath, [mainJs, '--data-dir', dataDir, '--port', '0', '--gateway-port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, PLINTH_ADMIN_PASSWORD: 'start-test-password', PLINTH_LOG_LEVEL: 'warn', PLINTH_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 30 s:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Plinth is running at (http:\/\/\S+)/.exec(out);
      if (match && /\n\s*\n/.test(out.slice(out.indexOf(match[0])))) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, banner: out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

const built = existsSync(mainJs);
if (!built && process.env.CI === 'true') throw new Error(`${mainJs} is missing: npm test builds it first (npm run build)`);
if (!built) process.stderr.write('\n[skip] built-server journey: run npm run build first\n');

describe.skipIf(!built)('the built server, as npm start runs it', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts from dist, serves the portal and the demo catalog, and stops cleanly on Ctrl-C', { timeout: 90_000 }, async () => {
    const first = await startBuilt(dataDir);
    try {
      expect(first.banner).toMatch(/First start: created the user "admin"/);
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
      const portal = await fetch(`${first.url}/catalog`);
      expect(portal.status).toBe(200);
      expect(await portal.text()).toMatch(/<div id="root">/);
      const login = await fetch(`${first.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'start-test-password' }) });
      expect(login.status).toBe(200);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      // The demo organisation loads beside the start: it shows up within moments of readiness.
      let total = 0;
      for (let i = 0; i < 100 && total === 0; i++) {
        const page = (await (await fetch(`${first.url}/api/catalog/entities/by-query?filter=kind=component&limit=1`, { headers: { cookie } })).json()) as { totalItems: number };
        total = page.totalItems;
        if (total === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(total).toBeGreaterThan(5);
    } finally {
      first.child.kill('SIGINT');
    }
    expect(await exited(first.child)).toBe(0);

    const second = await startBuilt(dataDir);
    try {
      expect(second.banner).not.toMatch(/First start/);
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await exited(second.child)).toBe(0);
  });
});
