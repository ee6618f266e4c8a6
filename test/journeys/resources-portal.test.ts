import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { BackupRecord, ClaimView, ModuleView } from '../../src/resources/index.js';
import { pgQuery, requireService } from '../../src/resources/testing/services.js';
import { openBrowser } from '../helpers/browser.js';
import { startGitTestApp, type GitTestApp } from '../helpers/git.js';
import { budgetLines, changedInputs, menuEntries, presetMonthly, presetValues, upgradeTarget } from '../../web/src/resources/view.js';

// Self-service resources in the portal (issue #8) in a real Chromium against a real Plinth server
// serving the built web/dist, provisioning on the real PostgreSQL at 127.0.0.1:5432, signed in as
// alice of team-a: the menu with prices, a plan the team budget denies (nothing is created), the
// same claim planned within budget, claimed, watched until ready with its outputs, backed up on
// demand and restored, its credentials rotated, then deleted with its final backup kept. The journeys share one page and run in order.
// Screenshots go to /tmp/resources-*.png.


const postgresUp = await requireService('PostgreSQL at 127.0.0.1:5432', async () => void (await pgQuery('select 1')), process.env);

describe.skipIf(!postgresUp)('resources portal journeys (Chromium, PostgreSQL provider)', () => {
  let t: GitTestApp;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  // A fresh environment per run keeps the shared server's names apart between reruns.
  const env = `j${Date.now().toString(36)}`;
  const name = `orders-${randomBytes(2).toString('hex')}`;
  const physical = `pl_${env}__${name.replaceAll('-', '_')}`;
  let claimId = '';

  async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(t.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as T };
  }
  const databaseExists = async () => (await pgQuery('select 1 from pg_database where datname = $1', [physical])).rowCount === 1;

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'sqlite', listen: true });
    ({ browser, page, pageErrors } = await openBrowser());
    await page.goto(t.url + '/resources');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
  });

  afterAll(async () => {
    await browser?.close();
    // Whatever a failed run left on the shared server goes with it.
    if (await databaseExists().catch(() => false)) await pgQuery(`drop database if exists "${physical}" with (force)`);
    await pgQuery(`drop role if exists "${physical}"`).catch(() => undefined);
    await t?.close();
  });

  it('the menu lists every module with its presets, inputs and monthly prices', async () => {
    const card = page.getByRole('article', { name: 'PostgreSQL database' });
    await card.waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Resources' }).getAttribute('aria-current')).toBe('page');
    const presets = card.getByRole('table', { name: 'PostgreSQL database presets' });
    expect(await presets.getByRole('row').filter({ hasText: 'small' }).textContent()).toMatch(/small \(default\)connectionLimit 10.*15\.00\/month/);
    expect(await presets.getByRole('row').filter({ hasText: 'large' }).textContent()).toMatch(/connectionLimit 150.*240\.00\/month/);
    const modules = await page.getByRole('list', { name: 'Modules' }).getByRole('article').evaluateAll((cards) => cards.map((c) => c.getAttribute('aria-label')));
    expect(modules).toEqual(expect.arrayContaining(['PostgreSQL database']));
    expect(modules.length).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: '/tmp/resources-menu.png', fullPage: true });
  });

  it('a plan over the team budget shows the denial with its message, and nothing can be claimed', async () => {
    expect((await api('PUT', '/api/policy/budgets/team/team-a', t.adminToken, { monthlyLimit: 10, currency: 'EUR' })).status).toBe(200);
    await page.getByRole('link', { name: 'Claim PostgreSQL database' }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill(name);
    await page.getByRole('textbox', { name: 'Environment' }).fill(env);
    expect(await page.getByRole('combobox', { name: 'Owner' }).textContent()).toContain('group:default/team-a');
    // The server's 400 is shown next to the form, with what to fix.
    await page.getByRole('button', { name: 'Plan' }).click();
    await page.getByRole('region', { name: 'Claim form' }).getByRole('alert').getByText('requires the tag(s) cost-center', { exact: false }).waitFor();
    await page.getByRole('textbox', { name: 'Cost center' }).fill('cc-42');
    await page.getByRole('button', { name: 'Plan' }).click();
    const plan = page.getByRole('region', { name: 'Plan' });
    await plan.getByText('Denied by the guardrails').waitFor();
    expect(await page.getByRole('region', { name: 'Claim form' }).getByRole('alert').count()).toBe(0);
    expect(await plan.getByLabel('Decision').textContent()).toContain('team team-a has a budget of 10 EUR/month; 0 is committed and this claim adds 15');
    await plan.getByRole('group', { name: 'Budget check' }).waitFor();
    expect(await plan.getByRole('group', { name: 'Budget check' }).textContent()).toMatch(/team team-a: .*0\.00\/month committed \+ .*15\.00\/month = .*15\.00\/month of .*10\.00\/month — over budget/);
    expect(await page.getByRole('button', { name: 'Claim' }).isDisabled()).toBe(true);
    const claims = await api<{ items: ClaimView[] }>('GET', `/api/resources/claims?environment=${env}`, t.tokens.alice);
    expect(claims.body.items).toEqual([]);
    expect(await databaseExists()).toBe(false);
  });

  it('within budget the plan shows what will be created, the cost and the decision; Claim applies it and the claim becomes ready with its outputs', async () => {
    expect((await api('PUT', '/api/policy/budgets/team/team-a', t.adminToken, { monthlyLimit: 100, currency: 'EUR' })).status).toBe(200);
    await page.getByRole('button', { name: 'Plan' }).click();
    const plan = page.getByRole('region', { name: 'Plan' });
    await plan.getByText('Allowed by the guardrails').waitFor();
    expect(await plan.textContent()).toMatch(/Monthly cost.*15\.00\/month/);
    await plan.getByRole('group', { name: 'Budget check' }).getByText('within budget', { exact: false }).waitFor();
    const creates = await plan.getByRole('list', { name: 'Will create' }).getByRole('listitem').allTextContents();
    expect(creates).toEqual([`secret claim.${env}.${name} with a generated password`, `PostgreSQL role ${physical} (LOGIN, connection limit 10)`, `PostgreSQL database ${physical} owned by ${physical}, PUBLIC access revoked`]);
    await page.screenshot({ path: '/tmp/resources-plan.png', fullPage: true });

    await page.getByRole('button', { name: 'Claim' }).click();
    await page.waitForURL(/\/resources\/claims\/rc-[a-f0-9]{16}$/);
    claimId = page.url().split('/').pop()!;
    await page.getByLabel('Status: ready').waitFor();
    expect(await databaseExists()).toBe(true);

    const claim = (await api<ClaimView>('GET', `/api/resources/claims/${claimId}`, t.tokens.alice)).body;
    const outputs = page.getByRole('table', { name: 'Outputs' });
    await outputs.waitFor();
    expect(await outputs.getByRole('row').filter({ hasText: 'database' }).first().textContent()).toContain(physical);
    const passwordRow = outputs.getByRole('row').filter({ hasText: 'passwordRef' });
    expect(await passwordRow.textContent()).toBe(`passwordRef${claim.outputs.passwordRef}secret reference`);
    // The password itself is never on the page: only its reference.
    const secret = await api<{ data: Record<string, string> }>('POST', `/api/resources/secrets/${encodeURIComponent(`claim.${env}.${name}`)}/reveal`, t.tokens.alice);
    expect(secret.status).toBe(200);
    const values = [secret.body.data.password, secret.body.data.url];
    expect(values.every((v) => typeof v === 'string' && v.length >= 16), Object.keys(secret.body.data).join()).toBe(true);
    const text = (await page.locator('body').textContent()) ?? '';
    for (const value of values) expect(text).not.toContain(value);
    expect(await page.getByRole('region', { name: 'Drift' }).textContent()).toContain('No drift found');
    await page.getByRole('table', { name: 'History' }).getByRole('row').filter({ hasText: 'claim.provisioned' }).waitFor();
    await page.screenshot({ path: '/tmp/resources-claim.png', fullPage: true });

    await page.getByRole('link', { name: 'My resources' }).first().click();
    const row = page.getByRole('table', { name: 'Resource claims' }).getByRole('row').filter({ hasText: name });
    await row.waitFor();
    expect(await row.textContent()).toMatch(new RegExp(`${name}${env}postgres@1\\.0\\.0smallteam-aready—.*15\\.00/month`));
  });

  it('the owner takes a backup now, sees it listed, and restores it', async () => {
    await page.getByRole('link', { name }).click();
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.getByRole('table', { name: 'Operations' }).getByRole('row').filter({ hasText: 'backup' }).filter({ hasText: 'succeeded' }).waitFor({ timeout: 15_000 });
    const row = page.getByRole('table', { name: 'Backups' }).getByRole('row').filter({ hasText: 'manual' });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/^bk-\S+manual\d/);
    const backupId = (await row.getByRole('cell').first().textContent())!;

    await row.getByRole('button', { name: `Restore ${backupId}` }).click();
    const dialog = page.getByRole('dialog', { name: `Restore ${name}?` });
    expect(await dialog.textContent()).toContain(`Backup ${backupId} replaces what ${name} holds now`);
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('table', { name: 'Operations' }).getByRole('row').filter({ hasText: /^restoresucceeded/ }).filter({ hasText: backupId }).waitFor({ timeout: 15_000 });
  });

  it('the owner rotates the credentials: a new secret version, the reference unchanged', async () => {
    const secretName = `claim.${env}.${name}`;
    const before = (await api<{ data: Record<string, string>; version: number }>('POST', `/api/resources/secrets/${encodeURIComponent(secretName)}/reveal`, t.tokens.alice)).body;
    await page.getByRole('button', { name: 'Rotate credentials' }).click();
    const dialog = page.getByRole('dialog', { name: `Rotate the credentials of ${name}?` });
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('table', { name: 'Operations' }).getByRole('row').filter({ hasText: /^rotatesucceeded/ }).waitFor({ timeout: 15_000 });
    const after = (await api<{ data: Record<string, string>; version: number }>('POST', `/api/resources/secrets/${encodeURIComponent(secretName)}/reveal`, t.tokens.alice)).body;
    expect(after.version).toBe(before.version + 1);
    expect(after.data.password).not.toBe(before.data.password);
    expect(await page.getByRole('table', { name: 'Outputs' }).getByRole('row').filter({ hasText: 'passwordRef' }).textContent()).toBe(`passwordRef${secretName}/passwordsecret reference`);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toContain(after.data.password);
  });

  it('a newer module version is offered as an upgrade: planned with its price and decision, then applied', async () => {
    const shipped = (await api<ModuleView>('GET', '/api/resources/modules/postgres?version=1.0.0', t.adminToken)).body;
    expect(shipped.version).toBe('1.0.0');
    const newer = `apiVersion: plinth.dev/v1alpha1
kind: Module
metadata: { name: postgres, version: 1.1.0, title: PostgreSQL database }
spec:
  provider: postgres
  inputs: ${JSON.stringify(shipped.inputs)}
  presets: { small: { connectionLimit: 12 }, medium: { connectionLimit: 40 }, large: { connectionLimit: 150 } }
  outputs: ${JSON.stringify(shipped.outputs)}
  cost: { currency: EUR, monthly: { small: 20, medium: 60, large: 240 } }
`;
    expect((await api('POST', '/api/resources/modules', t.adminToken, { yaml: newer })).status).toBe(201);
    await page.reload();
    await page.getByRole('button', { name: 'Upgrade to postgres@1.1.0' }).click();
    const dialog = page.getByRole('dialog', { name: `Upgrade ${name} to postgres@1.1.0?` });
    await dialog.getByLabel('Decision').getByText('Allowed by the guardrails').waitFor();
    expect(await dialog.textContent()).toMatch(/postgres@1\.0\.0 → 1\.1\.0, preset small: .*15\.00\/month → .*20\.00\/month/);
    await page.screenshot({ path: '/tmp/resources-upgrade.png', fullPage: true });
    await dialog.getByRole('button', { name: 'Upgrade' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('postgres@1.1.0, preset small', { exact: false }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Delete' }).waitFor({ timeout: 20_000 });
    expect(await page.getByRole('button', { name: 'Upgrade to postgres@1.1.0' }).count()).toBe(0);
    const claim = (await api<ClaimView>('GET', `/api/resources/claims/${claimId}`, t.tokens.alice)).body;
    expect(claim).toMatchObject({ phase: 'ready', version: '1.1.0', inputs: { connectionLimit: 12 } });
    expect((await pgQuery<{ rolconnlimit: number }>('select rolconnlimit from pg_roles where rolname = $1', [physical])).rows[0]?.rolconnlimit).toBe(12);
  });

  it('the owner deletes it after a confirmation that the final backup is kept; the database goes and the backup stays', async () => {
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: `Delete ${name}?` });
    expect(await dialog.textContent()).toContain('final backup');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('does not exist (any more)').waitFor({ timeout: 20_000 });
    expect(await databaseExists()).toBe(false);
    const backups = await api<{ items: BackupRecord[] }>('GET', '/api/resources/backups', t.tokens.alice);
    expect(backups.body.items.filter((b) => b.claimId === claimId).map((b) => b.kind)).toContain('final');
    expect(pageErrors).toEqual([]);
  });
});

const presetNamesOf = (m: ModuleView) => (['small', 'medium', 'large'] as const).filter((p) => p in m.presets);

// The portal's pure rules, without a browser.
describe('resources portal view rules', () => {
  const module = (version: string, successor?: string): ModuleView => ({
    name: 'postgres', version, title: 'PostgreSQL', description: '', provider: 'postgres', scoreTypes: [], defaultPreset: 'small', outputs: ['host'], requiredTags: [],
    inputs: { type: 'object', properties: { connectionLimit: { type: 'integer', default: 10 }, extensions: { type: 'array', default: [] } } },
    presets: { small: {}, medium: { connectionLimit: 40 }, large: { connectionLimit: 150 } },
    limits: { maxClaimsPerTeam: 50 }, backup: { schedule: null, retentionDays: 7 }, drift: { repair: false },
    cost: { currency: 'EUR', monthly: { small: 15, medium: 60, large: 240 } },
    deprecation: successor === undefined ? null : { successor }, source: 'builtin',
  });

  it('a preset starts from the schema defaults, and only values changed from it become claim inputs', () => {
    const m = module('1.0.0');
    expect(presetValues(m, 'medium')).toEqual({ connectionLimit: 40, extensions: [] });
    expect(changedInputs(m, 'medium', { connectionLimit: 40, extensions: [] })).toEqual({});
    expect(changedInputs(m, 'medium', { connectionLimit: 20, extensions: ['citext'] })).toEqual({ connectionLimit: 20, extensions: ['citext'] });
  });

  it('prices a preset with its units at the per-unit price, as the plan does', () => {
    const volume: ModuleView = {
      ...module('1.0.0'), name: 'volume', provider: 'volume',
      inputs: { type: 'object', properties: { sizeGi: { type: 'integer' } } },
      presets: { small: { sizeGi: 1 }, medium: { sizeGi: 10 }, large: { sizeGi: 100 } },
      cost: { currency: 'EUR', monthly: { small: 0, medium: 0, large: 0.5 }, perUnit: { input: 'sizeGi', unit: 'GiB', monthly: 0.1 } },
    };
    expect(presetNamesOf(volume).map((p) => presetMonthly(volume, p))).toEqual([0.1, 1, 10.5]);
    expect(presetMonthly(module('1.0.0'), 'medium')).toBe(60);
  });

  it('the menu offers the newest non-deprecated version of each module and lists the others', () => {
    const [entry] = menuEntries([module('1.0.0'), module('2.0.0', 'postgres@1.0.0'), module('0.9.0', 'postgres@1.0.0')]);
    expect(entry!.current.version).toBe('1.0.0');
    expect(entry!.versions.map((v) => v.version)).toEqual(['2.0.0', '1.0.0', '0.9.0']);
    expect(menuEntries([module('2.0.0', 'postgres2@1.0.0')])[0]!.current.deprecation?.successor).toBe('postgres2@1.0.0');
  });

  it('offers the newest non-deprecated newer version of the claim’s module as its upgrade', () => {
    const modules = [module('1.0.0'), module('1.1.0'), module('1.2.0', 'postgres@1.1.0'), { ...module('9.0.0'), name: 'redis' }];
    expect(upgradeTarget({ module: 'postgres', version: '1.0.0' }, modules)?.version).toBe('1.1.0');
    expect(upgradeTarget({ module: 'postgres', version: '1.1.0' }, modules)).toBeUndefined();
  });

  it('the budget check adds the claim to what the team and cost-center already commit', () => {
    const budgets = [{ scope: 'team' as const, name: 'team-a', monthlyLimit: 100, currency: 'EUR' }, { scope: 'cost-center' as const, name: 'cc-42', monthlyLimit: 20, currency: 'EUR' }];
    const lines = budgetLines({ owner: 'group:default/team-a', costCenter: 'CC-42', monthly: 15 }, budgets, [{ key: 'group:default/team-a', monthly: 30, currency: 'EUR', claims: 2 }], [{ key: 'cc-42', monthly: 10, currency: 'EUR', claims: 1 }]);
    expect(lines).toEqual([
      { label: 'team team-a', limit: 100, currency: 'EUR', committed: 30, adds: 15, within: true },
      { label: 'cost-center cc-42', limit: 20, currency: 'EUR', committed: 10, adds: 15, within: false },
    ]);
    expect(budgetLines({ owner: 'group:default/team-b', costCenter: 'cc-1', monthly: 15 }, budgets, [], [])).toEqual([]);
  });
});
