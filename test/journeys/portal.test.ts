import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openBrowser } from '../helpers/browser.js';
import { startTestServer } from '../helpers/app.js';

// The portal in a real Chromium against a real Plinth server that serves the built web/dist
// (`npm test` runs `npm run build:web` first). Elements are found by role and accessible name (STYLE §9).
// The journeys share one browser page and run in order: each starts where the previous one ended.

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface UserItem {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  role: string;
}

describe('portal journeys (Chromium)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  const suffix = randomBytes(3).toString('hex');
  const newUsername = `alice-${suffix}`;

  async function api<T>(path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(server.url + path, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${init.token ?? server.adminToken}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  const nav = () => page.getByRole('navigation', { name: 'Main' });

  beforeAll(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
    ({ browser, page, pageErrors } = await openBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('a wrong password shows the server’s error message on the login page', async () => {
    await page.goto(server.url + '/');
    // Not signed in: the portal sends the visitor to the login page.
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');

    await page.getByLabel('Username').fill(server.adminUsername);
    await page.getByLabel('Password').fill('not-the-password');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/auth/login')),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(response.status()).toBe(401);
    const body = (await response.json()) as { error: { name: string; message: string } };
    expect(body.error.name).toBe('AuthenticationError');

    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect((await alert.textContent())?.trim()).toBe(body.error.message);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('an admin who signs in sees the navigation frame, their username and the server status', async () => {
    await page.getByLabel('Password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await nav().waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    for (const name of ['Home', 'API tokens', 'Admin', 'Users', 'Audit log', 'API reference']) {
      await nav().getByRole('link', { name, exact: true }).waitFor();
    }
    expect(await nav().getByRole('link', { name: 'API reference', exact: true }).getAttribute('href')).toBe('/api/reference');
    await page.getByRole('banner').getByText(server.adminUsername, { exact: true }).waitFor();
    await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor();

    await page.getByRole('heading', { level: 1, name: /^Welcome, / }).waitFor();
    const status = page.getByRole('region', { name: 'Server status' });
    await status.getByText('SQLite', { exact: true }).waitFor();
    expect(await page.getByRole('region', { name: 'Your account' }).textContent()).toContain('Platform admin');
  });

  it('an admin creates a user in Admin → Users and it appears in the table', async () => {
    await nav().getByRole('link', { name: 'Users', exact: true }).click();
    const table = page.getByRole('table', { name: 'Users' });
    await table.getByRole('row').filter({ hasText: server.adminUsername }).first().waitFor();

    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await dialog.getByLabel('Username').fill(newUsername);
    await dialog.getByLabel('Display name').fill('Alice Liddell');
    await dialog.getByLabel('Email').fill(`${newUsername}@example.com`);
    await dialog.getByRole('combobox', { name: 'Role' }).click();
    await page.getByRole('option', { name: 'Viewer' }).click();
    await dialog.getByLabel('Initial password').fill('wonderland-123');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const row = table.getByRole('row').filter({ hasText: newUsername });
    await row.waitFor();
    const rowText = await row.textContent();
    expect(rowText).toContain('Alice Liddell');
    expect(rowText).toContain('Viewer');

    const users = await api<{ items: UserItem[] }>('/api/users');
    expect(users.body.items.find((u) => u.username === newUsername)).toMatchObject({
      displayName: 'Alice Liddell',
      email: `${newUsername}@example.com`,
      role: 'viewer',
    });
  });

  it('an admin changes a user’s role and disables and enables them from the users table', async () => {
    const table = page.getByRole('table', { name: 'Users' });
    const row = table.getByRole('row').filter({ hasText: newUsername });
    const userFromApi = async () =>
      (await api<{ items: (UserItem & { disabled: boolean })[] }>('/api/users')).body.items.find((u) => u.username === newUsername);

    await row.getByRole('combobox', { name: `Role of ${newUsername}` }).click();
    await page.getByRole('option', { name: 'Member' }).click();
    await page.getByRole('alert').filter({ hasText: `${newUsername} is now member` }).waitFor();
    expect((await userFromApi())?.role).toBe('member');

    await row.getByRole('button', { name: `Disable ${newUsername}` }).click();
    await row.getByText('Disabled', { exact: true }).waitFor();
    expect((await userFromApi())?.disabled).toBe(true);

    await row.getByRole('button', { name: `Enable ${newUsername}` }).click();
    await row.getByText('Active', { exact: true }).waitFor();
    expect((await userFromApi())?.disabled).toBe(false);

    // An admin cannot lock themselves out from here.
    const ownRow = table.getByRole('row').filter({ has: page.getByRole('cell', { name: server.adminUsername, exact: true }) });
    expect(await ownRow.getByRole('button', { name: `Disable ${server.adminUsername}` }).isDisabled()).toBe(true);
  });

  it('a user creates an API token, sees its secret once, the token works, and revoking it stops it', async () => {
    await nav().getByRole('link', { name: 'API tokens', exact: true }).click();
    await page.getByRole('table', { name: 'Your API tokens' }).waitFor();

    await page.getByRole('button', { name: 'New token' }).click();
    const form = page.getByRole('dialog', { name: 'New API token' });
    await form.getByLabel('Token name').fill('journey CLI');
    await form.getByRole('checkbox', { name: 'Write' }).check();
    await form.getByLabel('Expires in days').fill('30');
    await form.getByRole('button', { name: 'Create token' }).click();

    const created = page.getByRole('dialog', { name: 'Token “journey CLI” created' });
    const secret = await created.getByLabel('Token secret').inputValue();
    expect(secret.length).toBeGreaterThan(20);

    const me = await api<{ user: { username: string }; authMethod: string; scopes: string[] }>('/api/auth/me', { token: secret });
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe(server.adminUsername);
    expect(me.body.authMethod).toBe('token');
    expect([...me.body.scopes].sort()).toEqual(['read', 'write']);

    await created.getByRole('button', { name: 'Done' }).click();
    await created.waitFor({ state: 'hidden' });
    // Shown once: once the dialog is closed the secret is nowhere on the page.
    expect(await page.content()).not.toContain(secret);
    const row = page.getByRole('table', { name: 'Your API tokens' }).getByRole('row').filter({ hasText: 'journey CLI' });
    await row.waitFor();
    expect(await row.textContent()).toContain(secret.slice(0, 8));

    await row.getByRole('button', { name: 'Revoke journey CLI' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke token “journey CLI”?' });
    await confirm.getByRole('button', { name: 'Revoke' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await row.getByText('revoked', { exact: true }).waitFor();
    expect((await api('/api/auth/me', { token: secret })).status).toBe(401);
  });

  it('the audit log lists the user creation, filters by outcome and pages with "Load more"', async () => {
    // Fifty newer entries push the user creation past the first page of the log.
    const created = (await api<{ items: UserItem[] }>('/api/users')).body.items.find((u) => u.username === newUsername);
    expect(created).toBeDefined();
    for (let i = 0; i < 50; i += 1) {
      const res = await api(`/api/users/${created!.id}`, { method: 'PATCH', body: { displayName: `Alice ${i}` } });
      expect(res.status).toBe(200);
    }

    await nav().getByRole('link', { name: 'Audit log', exact: true }).click();
    const table = page.getByRole('table', { name: 'Audit log' });
    const rows = table.getByRole('row');
    const creation = rows.filter({ hasText: '/api/users' }).filter({ hasText: 'POST' });
    await rows.filter({ hasText: `/api/users/${created!.id}` }).first().waitFor();
    expect(await rows.count()).toBe(1 + 50);
    expect(await creation.count()).toBe(0);

    await page.getByRole('button', { name: 'Load more' }).click();
    await creation.first().waitFor();
    const creationText = await creation.first().textContent();
    expect(creationText).toContain(`user:default/${server.adminUsername}`);
    expect(creationText).toContain('201');
    expect(creationText).toContain('success');

    // Outcome filter: only the refused login of the first journey is "denied".
    await page.getByRole('combobox', { name: 'Outcome' }).click();
    await page.getByRole('option', { name: 'denied' }).click();
    await table.getByText('success', { exact: true }).first().waitFor({ state: 'detached' });
    await rows.filter({ hasText: '/api/auth/login' }).first().waitFor();
    const deniedRows = await rows.allTextContents();
    expect(deniedRows.slice(1).every((text) => text.includes('denied'))).toBe(true);
    expect(deniedRows.some((text) => text.includes('/api/users'))).toBe(false);

    // Actor filter: a bare username means that user's ref.
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Actor').fill('nobody-here');
    await page.getByRole('button', { name: 'Apply' }).click();
    await table.getByText('No entries match.').waitFor();
  });

  it('signing out returns to the login page and ends the session', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The sign-in form shows as soon as the session is gone, a moment before the navigation to /login lands.
    await page.waitForURL((url) => url.pathname === '/login');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(async () => (await fetch('/api/auth/me')).status)).toBe(401);

    // A deep link now lands on the login page, and signing in returns to it.
    await page.goto(server.url + '/admin/audit');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Username').fill(server.adminUsername);
    await page.getByLabel('Password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('table', { name: 'Audit log' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/audit');
  });

  it('a member sees no Admin entry and the admin pages refuse them', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.goto(server.url + '/admin/users');
    await page.getByLabel('Username').fill(newUsername);
    await page.getByLabel('Password').fill('wonderland-123');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await nav().getByRole('link', { name: 'Home', exact: true }).waitFor();
    expect(await nav().getByRole('link', { name: 'Admin', exact: true }).count()).toBe(0);
    await page.getByRole('banner').getByText(newUsername, { exact: true }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'Not allowed' }).waitFor();
    expect(await page.getByRole('table', { name: 'Users' }).count()).toBe(0);

    expect(pageErrors).toEqual([]);
  });
});
