import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/helpers/app.js';
import { run } from '../main.js';
import { memoryIo } from '../memory-io.js';

// `plinth policy list|check|exceptions` in-process against a real listening server.

let t: TestApp;
let dir: string;

beforeAll(async () => {
  t = await startTestApp({ dialect: 'sqlite', listen: true });
  dir = await mkdtemp(join(tmpdir(), 'plinth-policy-cli-'));
});
afterAll(async () => {
  await t?.close();
});

async function plinth(...argv: string[]) {
  const io = memoryIo({ PLINTH_URL: t.url, PLINTH_TOKEN: t.adminToken, PLINTH_CONFIG_DIR: dir });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop, labels: { owner: shop, cost-center: cc-1 } }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: shop/web:latest
          resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { memory: 128Mi } }
`;

describe('plinth policy (server)', () => {
  it('lists the policies as a table', async () => {
    const listed = await plinth('policy', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^POLICY\s+KIND\s+MODE\s+POINTS\s+SOURCE\s+VIOLATIONS$/);
    expect(listed.stdout).toMatch(/disallow-latest-tag\s+ClusterPolicy\s+Enforce\s+deploy,scan\s+builtin\s+0/);
  });

  it('checks a file, exits 1 when denied, and an exception lets it through', async () => {
    const file = join(dir, 'web.yaml');
    await writeFile(file, manifest);
    const denied = await plinth('policy', 'check', file);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('Deployment shop/web: denied at deploy');
    expect(denied.stdout).toMatch(/DENY {5}disallow-latest-tag\/autogen-validate-image-tag \(Enforce\): /);

    const added = await plinth('policy', 'exceptions', 'add', 'disallow-latest-tag', '--rule', 'validate-image-tag', '--kind', 'Deployment', '--name', 'web', '--reason', 'migrating to digests this sprint', '--for', '2w');
    expect(added.code, added.stderr).toBe(0);
    const id = /Exception (pex-\S+) on disallow-latest-tag granted until /.exec(added.stdout)![1]!;
    const listed = await plinth('policy', 'exceptions');
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('kinds=Deployment names=web');

    const allowed = await plinth('policy', 'check', file, '--json');
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject([{ allowed: true }]);

    expect((await plinth('policy', 'exceptions', 'remove', id)).code).toBe(0);
    expect((await plinth('policy', 'exceptions')).stdout).toBe('No policy exceptions in force.\n');
  });

  it('reports usage errors and unreadable files', async () => {
    expect((await plinth('policy', 'check', join(dir, 'missing.yaml'))).code).toBe(2);
    const badPoint = await plinth('policy', 'check', '--point', 'launch', join(dir, 'web.yaml'));
    expect(badPoint.code).toBe(2);
    expect(badPoint.stderr).toContain('expected one of deploy, provisioning, ci, catalog, scan');
    const badDuration = await plinth('policy', 'exceptions', 'add', 'x', '--reason', 'why not', '--for', 'forever');
    expect(badDuration.code).toBe(2);
  });
});
