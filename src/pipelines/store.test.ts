import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../test/helpers/dialects.js';
import { createTestKernel } from '../../test/helpers/kernel.js';
import { pipelinesMigrations } from './migrations.js';
import type { Run } from './model/runs.js';
import { insertRun, selectRuns } from './store.js';

const dialects = await testDialects();

describe.each(dialects)('pipeline runs store on %s', (dialect) => {
  let kernel: Awaited<ReturnType<typeof createTestKernel>>;
  const runs: Run[] = [];

  beforeAll(async () => {
    kernel = await createTestKernel(dialect, { migrations: pipelinesMigrations });
    // Seven runs, three of them created in the same millisecond: the id orders those.
    const times = ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z', '2026-01-01T00:00:04.000Z', '2026-01-01T00:00:05.000Z'];
    for (const [i, createdAt] of times.entries()) {
      const run: Run = {
        id: `run-${String.fromCharCode(103 - i)}`,
        repository: 'acme/svc',
        ownerRef: 'group:default/team-a',
        ref: 'refs/heads/main',
        sha: `sha-${i}`,
        isDefaultBranch: true,
        attempt: 1,
        trigger: 'push',
        status: 'passed',
        definitionVersion: 'v1',
        jobId: null,
        createdBy: 'user:default/ana',
        createdAt,
        startedAt: null,
        finishedAt: null,
      };
      expect(await insertRun(kernel.store, run)).toBeDefined();
      runs.push(run);
    }
  });
  afterAll(() => kernel?.close());

  it('pages newest first by (created_at, id), each run once, ties included', async () => {
    const newestFirst = [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)).map((r) => r.id);
    const paged: string[] = [];
    let after: Run | undefined;
    for (;;) {
      const page = await selectRuns(kernel.store, { repository: 'acme/svc', limit: 2, after });
      if (page.length === 0) break;
      paged.push(...page.map((r) => r.id));
      after = page.at(-1);
    }
    expect(paged).toEqual(newestFirst);
  });
});
