import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneUrl, runGitClient, startGitTestApp, type GitTestApp } from '../helpers/git.js';

// A step is untrusted code: with bubblewrap on the runner, it sees the system read-only, the data
// directory (database, hosted repositories, keys, other runs' workspaces) as an empty folder except its
// own workspace, and only its own processes. Real bwrap, real git push, real shell steps.

const bwrap = (() => {
  try {
    return execFileSync('/bin/sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();
if (!bwrap && process.env.CI === 'true') throw new Error('bwrap is missing: CI installs bubblewrap (.ci/run) so that the step sandbox is tested');
if (!bwrap) process.stderr.write('\n[skip] pipeline sandbox: bwrap (Debian package bubblewrap) is not installed\n');

interface RunBody { id: string; sha: string; status: string; stages: { name: string; steps: { name: string; status: string; message: string | null }[] }[] }

describe.skipIf(!bwrap)('the step sandbox (bubblewrap)', () => {
  let t: GitTestApp;
  let repoDir: string;

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'sqlite', listen: true });
    const created = await t.app.server.inject({ method: 'POST', url: '/api/git/repos', headers: { authorization: `Bearer ${t.tokens.alice}` }, payload: { owner: 'team-a', name: 'boxed' } });
    expect(created.statusCode).toBe(201);
    repoDir = join(t.workDir, 'boxed');
    expect((await runGitClient(['clone', cloneUrl(t.url, t.tokens.alice, 'team-a/boxed'), 'boxed'], { cwd: t.workDir })).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('hides the data directory and other runs, keeps the system read-only and the step in its own PID namespace', { timeout: 120_000 }, async () => {
    const dataDir = t.app.kernel.config.dataDir;
    // Each check prints what it saw; the step fails on the first escape.
    const probe = [
      'set -u',
      `D='${dataDir}'`,
      'echo "data dir: $(ls -A "$D" | tr "\\n" " ")"',
      'test ! -e "$D/plinth.db" || { echo "ESCAPE: the database is visible"; exit 1; }',
      'test ! -e "$D/repos" || { echo "ESCAPE: hosted repositories are visible"; exit 1; }',
      'test ! -e "$D/keys" || { echo "ESCAPE: keys are visible"; exit 1; }',
      'n=$(ls -A "$D/pipelines/workspaces" | wc -l); test "$n" -eq 1 || { echo "ESCAPE: $n workspaces visible"; exit 1; }',
      'if touch /usr/plinth-escape 2>/dev/null; then echo "ESCAPE: wrote to /usr"; exit 1; fi',
      'echo written > "$PWD/inside-workspace.txt" || { echo "cannot write the workspace"; exit 1; }',
      'p=$(ls /proc | grep -c "^[0-9]"); test "$p" -lt 10 || { echo "ESCAPE: $p processes visible"; exit 1; }',
      'echo "sandbox ok: $p processes visible"',
    ].join('\n');
    mkdirSync(join(repoDir, 'scripts'), { recursive: true });
    writeFileSync(join(repoDir, 'scripts', 'probe.sh'), probe + '\n');
    writeFileSync(join(repoDir, 'plinth.yaml'), 'stages:\n  build:\n    steps:\n      probe: { command: sh scripts/probe.sh }\n');
    for (const args of [['add', '-A'], ['commit', '-q', '-m', 'probe the sandbox'], ['push', '-q', 'origin', 'HEAD:main']]) expect((await runGitClient(args, { cwd: repoDir })).code).toBe(0);
    const sha = (await runGitClient(['rev-parse', 'HEAD'], { cwd: repoDir })).stdout.trim();
    const get = (url: string) => t.app.server.inject({ url, headers: { authorization: `Bearer ${t.tokens.alice}` } });
    let run: RunBody | undefined;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && !run) {
      const found = (get('/api/pipelines/runs?repository=team-a/boxed').then((r) => r.json() as { items: { id: string; sha: string; status: string }[] }));
      const item = (await found).items.find((r) => r.sha === sha && !['queued', 'running'].includes(r.status));
      if (item) run = (await get(`/api/pipelines/runs/${item.id}`)).json() as RunBody;
      else await new Promise((r) => setTimeout(r, 250));
    }
    const logs = (await get(`/api/pipelines/runs/${run!.id}/logs?step=probe`)).body;
    const probeStep = run!.stages.flatMap((s) => s.steps).find((s) => s.name === 'probe');
    expect(probeStep?.status, logs).toBe('passed');
    expect(logs).toContain('sandbox ok');
    expect(logs).not.toContain('ESCAPE');
  });
});
