import { mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectTestReports } from './workspace.js';

const junit = (name: string) => `<?xml version="1.0"?><testsuites><testsuite name="s" tests="1"><testcase name="${name}" classname="test" time="0.001"/></testsuite></testsuites>`;

describe('collectTestReports', () => {
  it('gives a report to the first step that collects it, and a rewritten report again', async () => {
    const workspace = await mkdtemp(join(tmpdir(), 'plinth-reports-'));
    const since = Date.now() - 1000;
    const file = join(workspace, 'junit.xml');
    await writeFile(file, junit('adds'));
    const claimed = new Set<string>();
    // Two steps that ran side by side both finish after the report was written.
    expect((await collectTestReports(workspace, since, claimed)).map((t) => t.name)).toEqual(['adds']);
    expect(await collectTestReports(workspace, since, claimed)).toEqual([]);
    // A retry writes it again: a new version of the file is a new report.
    await writeFile(file, junit('adds again'));
    const later = new Date(Date.now() + 2000);
    await utimes(file, later, later);
    expect((await collectTestReports(workspace, since, claimed)).map((t) => t.name)).toEqual(['adds again']);
  });
});
