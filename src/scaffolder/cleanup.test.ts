import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { FAILED_WORKSPACE_RETENTION_MS, workspaceDisposition } from './model.js';

// A failed task's workspace stays for a retry for a bounded time, then goes (issue #4: "a failed task
// leaves nothing behind"): a job at the end of the retention removes it, a retry is refused from then
// on, and the sweep at start removes what crashes left (folders without a task, stale dry runs).

const fixture = mkdtempSync(join(tmpdir(), 'plinth-cleanup-template-'));
mkdirSync(join(fixture, 'fails'));
writeFileSync(
  join(fixture, 'fails', 'template.yaml'),
  `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: fails-after-writing }
spec:
  type: test
  steps:
    - id: write
      action: catalog:write
      input: { entity: { apiVersion: backstage.io/v1alpha1, kind: Component, metadata: { name: x } } }
    - id: rename
      action: fs:rename
      input: { files: [{ from: missing.txt, to: other.txt }] }
`,
);

describe('workspaceDisposition', () => {
  const now = new Date('2026-11-27T12:00:00.000Z');
  it('keeps running tasks, keeps a failed one for its retention, removes the rest', () => {
    expect(workspaceDisposition(undefined, now, 1000)).toEqual({ kind: 'remove' });
    expect(workspaceDisposition({ status: 'processing', finishedAt: null }, now, 1000)).toEqual({ kind: 'keep' });
    expect(workspaceDisposition({ status: 'open', finishedAt: '2026-11-20T00:00:00.000Z' }, now, 1000)).toEqual({ kind: 'keep' });
    expect(workspaceDisposition({ status: 'completed', finishedAt: '2026-11-27T11:59:59.000Z' }, now, 60_000)).toEqual({ kind: 'remove' });
    expect(workspaceDisposition({ status: 'cancelled', finishedAt: '2026-11-27T11:59:59.000Z' }, now, 60_000)).toEqual({ kind: 'remove' });
    expect(workspaceDisposition({ status: 'failed', finishedAt: '2026-11-27T11:59:00.000Z' }, now, 120_000)).toEqual({ kind: 'keep-until', until: new Date('2026-11-27T12:01:00.000Z') });
    expect(workspaceDisposition({ status: 'failed', finishedAt: '2026-11-27T11:58:00.000Z' }, now, 120_000)).toEqual({ kind: 'remove' });
  });
});

describe.each(await testDialects())('task workspace cleanup (%s)', (dialect) => {
  let t: TestApp;
  let offsetMs = 0;
  const clock = { now: () => new Date(Date.now() + offsetMs) };
  const system = { kind: 'system', name: 'test' } as const;
  const workspace = (id: string) => join(t.app.kernel.config.dataDir, 'scaffolder', 'workspaces', id);
  const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.server.inject({ method, url: `/api/scaffolder/v2${url}`, headers: { authorization: `Bearer ${t.adminToken}` }, ...(payload !== undefined ? { payload } : {}) });

  async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
    for (let i = 0; i < 300; i++) {
      const value = await read();
      if (done(value)) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async function failedTask(): Promise<string> {
    const created = await api('POST', '/tasks', { templateRef: 'template:default/fails-after-writing', values: {} });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<{ id: string }>();
    await waitFor(async () => (await api('GET', `/tasks/${id}`)).json<{ status: string }>().status, (s) => s === 'failed', 'the task to fail');
    return id;
  }

  const cleanJobOf = async (taskId: string) =>
    (await t.app.kernel.jobs.list({ kind: 'scaffolder.clean-workspace', limit: 500 })).items.find((j) => (j.payload as { taskId: string }).taskId === taskId);

  beforeAll(async () => {
    t = await startTestApp({ dialect, clock, app: { catalog: { extraFileRoots: [fixture] } } });
    await t.app.catalog.addLocation(system, { type: 'file', target: join(fixture, 'fails', 'template.yaml') }, { dryRun: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps a failed task’s workspace for its retention, then removes it and refuses a retry', async () => {
    offsetMs = 0;
    const id = await failedTask();
    expect(existsSync(join(workspace(id), 'catalog-info.yaml'))).toBe(true);
    const task = (await api('GET', `/tasks/${id}`)).json<{ finishedAt: string }>();
    const job = await waitFor(() => cleanJobOf(id), (j) => j !== undefined, 'the cleanup job');
    expect(job!.state).toBe('queued');
    expect(Date.parse(job!.runAt)).toBe(Date.parse(task.finishedAt) + FAILED_WORKSPACE_RETENTION_MS);

    // Run early: the job sees the retention is not over and waits again; the workspace stays.
    expect(await t.app.kernel.jobs.runNow(job!.id)).toBe(true);
    await waitFor(() => t.app.kernel.jobs.get(job!.id), (j) => j.state === 'queued' && Date.parse(j.runAt) > clock.now().getTime(), 'the early run to requeue');
    expect(existsSync(workspace(id))).toBe(true);

    offsetMs = FAILED_WORKSPACE_RETENTION_MS + 60_000;
    const retry = await api('POST', `/tasks/${id}/retry`, {});
    expect(retry.statusCode, retry.body).toBe(409);
    expect(retry.json<{ error: { message: string } }>().error.message).toBe(`task ${id} failed more than 24 h ago and its workspace was removed; start a new task`);
    await t.app.kernel.jobs.runNow(job!.id);
    await waitFor(async () => existsSync(workspace(id)), (exists) => !exists, 'the workspace to go');
    await waitFor(() => t.app.kernel.jobs.get(job!.id), (j) => j.state === 'succeeded', 'the cleanup job to succeed');
    const events = (await api('GET', `/tasks/${id}/events`)).json<{ body: { message: string } }[]>();
    expect(events.map((e) => e.body.message)).toContain('Removed the workspace 24 h after the failure; a retry is no longer possible, start a new task');
    expect((await api('GET', `/tasks/${id}`)).json<{ status: string }>().status).toBe('failed');
  });

  it('the sweep removes folders without a task and stale dry runs, and keeps failed tasks within their retention', async () => {
    offsetMs = 0;
    const kept = await failedTask();
    const orphan = workspace(randomUUID());
    mkdirSync(orphan, { recursive: true });
    writeFileSync(join(orphan, 'left-by-a-crash.txt'), 'x');
    const dryRuns = join(t.app.kernel.config.dataDir, 'scaffolder', 'dry-run');
    const staleDryRun = join(dryRuns, randomUUID());
    const freshDryRun = join(dryRuns, randomUUID());
    mkdirSync(staleDryRun, { recursive: true });
    mkdirSync(freshDryRun, { recursive: true });
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(staleDryRun, twoHoursAgo, twoHoursAgo);

    const { removed } = await t.app.scaffolder.sweepWorkspaces();
    expect(removed).toContain(orphan.split('/').pop());
    expect(removed).not.toContain(kept);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(workspace(kept))).toBe(true);
    expect(existsSync(staleDryRun)).toBe(false);
    expect(existsSync(freshDryRun)).toBe(true);
    // Sweeping again changes nothing.
    expect((await t.app.scaffolder.sweepWorkspaces()).removed).toEqual([]);
    rmSync(freshDryRun, { recursive: true, force: true });
  });
});

afterAll(() => rmSync(fixture, { recursive: true, force: true }));
