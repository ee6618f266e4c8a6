import { spawn } from 'node:child_process';
import { mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { startTestServer } from '../../test/helpers/app.js';

// `plinth catalog …` as a child process against a real listening server whose catalog reads a temporary
// folder (file locations) and a local HTTP server (url locations).

const root = fileURLToPath(new URL('../..', import.meta.url));
const mainTs = join(root, 'src/cli/main.ts');
// By path: `--import tsx` would be looked up from the child's working directory, which some tests change.
const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;

const catalogInfo = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: petstore
  title: Pet Store
  description: Sells pets.
  tags: [java, web]
  links:
    - url: https://example.com/petstore
      title: Docs
spec:
  type: service
  lifecycle: production
  owner: team-a
  providesApis: [petstore-api]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
  title: Team A
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: petstore-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: "openapi: 3.0.0"
`;

// Served over HTTP: a website owned by another team, and a second copy of team-a that the catalog skips.
const servedYaml = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: storefront
  title: Store Front
spec:
  type: website
  lifecycle: experimental
  owner: team-b
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
`;

let server: Awaited<ReturnType<typeof startTestServer>>;
let http: Server;
let url: string;
let yamlUrl: string;
let fileRoot: string;
let env: Record<string, string>;

beforeAll(async () => {
  // realpath: the server stores file targets as given and checks them against its root's real path.
  fileRoot = await realpath(await mkdtemp(join(tmpdir(), 'plinth-cli-catalog-')));
  await writeFile(join(fileRoot, 'catalog-info.yaml'), catalogInfo);
  server = await startTestServer({ dialect: 'sqlite', config: { catalog: { fileRoot, refreshIntervalS: 300 } } });
  url = server.url.replace(/\/$/, '');
  http = createServer((req, res) => {
    if (req.url !== '/catalog-info.yaml') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/yaml' }).end(servedYaml);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  yamlUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}/catalog-info.yaml`;
  env = { PLINTH_CONFIG_DIR: await mkdtemp(join(tmpdir(), 'plinth-cli-it-')), PLINTH_URL: url, PLINTH_TOKEN: server.adminToken };
});
afterAll(async () => {
  await server?.close();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function plinth(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Result> {
  const childEnv = Object.fromEntries(
    Object.entries({ ...process.env, PLINTH_URL: undefined, PLINTH_TOKEN: undefined, NO_COLOR: '1', ...env, ...options.env }).filter(([, v]) => v !== undefined),
  );
  const child = spawn(process.execPath, ['--import', tsx, mainTs, ...args], { cwd: options.cwd ?? root, env: childEnv, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The REF column of a `catalog list` table. */
function refsOf(table: string): string[] {
  return table
    .trimEnd()
    .split('\n')
    .slice(1)
    .filter((l) => !l.startsWith('showing '))
    .map((l) => l.split(/\s+/)[0]!);
}

interface Entity {
  kind: string;
  metadata: { name: string; title?: string; annotations?: Record<string, string> };
}

// Each case runs several CLI processes through tsx: generous time on a loaded two-core machine.
describe('plinth catalog against a running server', { timeout: 90_000 }, () => {
  let fileLocationId: string;
  const catalogFile = () => join(fileRoot, 'catalog-info.yaml');

  it('registers a file location: the dry run lists what it would import, then the entities are there', async () => {
    // A relative path is resolved against the working directory.
    const dry = await plinth(['catalog', 'register', 'catalog-info.yaml', '--dry-run'], { cwd: fileRoot });
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toBe(
      [
        `file:${catalogFile()} is not registered yet.`,
        'It would import 3 entities:',
        '  api:default/petstore-api',
        '  component:default/petstore',
        '  group:default/team-a',
        '',
      ].join('\n'),
    );
    const dryJson = await plinth(['catalog', 'register', catalogFile(), '--dry-run', '--json']);
    expect(JSON.parse(dryJson.stdout)).toMatchObject({ location: { type: 'file', target: catalogFile() }, entities: [{}, {}, {}], exists: false });

    const real = await plinth(['catalog', 'register', 'catalog-info.yaml'], { cwd: fileRoot });
    expect(real).toMatchObject({ code: 0, stderr: '' });
    const [first, second, ...refs] = real.stdout.trimEnd().split('\n');
    const id = /^Registered location (\S+) \(file:(.+)\)$/.exec(first ?? '');
    expect(id?.[2]).toBe(catalogFile());
    fileLocationId = id![1]!;
    expect(second).toBe('4 entities in the catalog from it:');
    expect(refs.map((r) => r.trim())).toEqual([
      'api:default/petstore-api',
      'component:default/petstore',
      'group:default/team-a',
      expect.stringMatching(/^location:default\/generated-[0-9a-f]{40}$/),
    ]);

    const again = await plinth(['catalog', 'register', catalogFile()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`error: location file:${catalogFile()} is already registered (id ${fileLocationId}) (ConflictError)\n`);
    const dryAgain = await plinth(['catalog', 'register', catalogFile(), '--dry-run']);
    expect(dryAgain.stdout.split('\n')[0]).toBe(`file:${catalogFile()} is already registered (id ${fileLocationId}).`);
  });

  it('registers a url location; the dry run says which entities another location already has', async () => {
    const dry = await plinth(['catalog', 'register', yamlUrl, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`url:${yamlUrl} is not registered yet.`);
    expect(dry.stdout).toContain('\n  component:default/storefront\n');
    expect(dry.stdout).toContain(`\n  group:default/team-a  (already registered from file:${catalogFile()}: it would be skipped)\n`);

    const real = await plinth(['catalog', 'register', yamlUrl, '--json']);
    expect(real).toMatchObject({ code: 0, stderr: '' });
    const body = JSON.parse(real.stdout) as { location: { id: string; type: string; target: string }; entities: Entity[] };
    expect(body.location).toMatchObject({ type: 'url', target: yamlUrl });
    expect(body.entities.map((e) => `${e.kind}:${e.metadata.name}`)).toEqual(['Component:storefront', expect.stringMatching(/^Location:generated-/)]);

    const locations = await plinth(['catalog', 'locations']);
    expect(locations.code).toBe(0);
    const lines = locations.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+TARGET$/);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${fileLocationId}\\s+file\\s+${catalogFile()}$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${body.location.id}\\s+url\\s+${yamlUrl.replace(/[.?]/g, '\\$&')}$`)));
    const json = await plinth(['catalog', 'locations', '--json']);
    expect((JSON.parse(json.stdout) as { id: string }[]).map((l) => l.id).sort()).toEqual([fileLocationId, body.location.id].sort());
  });

  it('lists entities with filters, as a table or JSON, one page or all of them', async () => {
    const all = await plinth(['catalog', 'list']);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    expect(all.stdout.split('\n')[0]).toMatch(/^REF\s+TITLE\s+TYPE\s+OWNER\s+LIFECYCLE$/);
    expect(all.stdout).toMatch(/^component:default\/petstore\s+Pet Store\s+service\s+team-a\s+production$/m);
    expect(all.stdout).toMatch(/^component:default\/storefront\s+Store Front\s+website\s+team-b\s+experimental$/m);
    expect(all.stdout).toMatch(/^showing 6 of 6$/m);

    const components = await plinth(['catalog', 'list', '--kind', 'component']);
    expect(refsOf(components.stdout)).toEqual(['component:default/petstore', 'component:default/storefront']);
    const owned = await plinth(['catalog', 'list', '--owner', 'team-a']);
    expect(refsOf(owned.stdout)).toEqual(['component:default/petstore', 'api:default/petstore-api']);
    const typed = await plinth(['catalog', 'list', '--kind', 'component,api', '--type', 'website,openapi']);
    expect(refsOf(typed.stdout)).toEqual(['api:default/petstore-api', 'component:default/storefront']);
    // Several --filter match any of them.
    const either = await plinth(['catalog', 'list', '--filter', 'kind=group', '--filter', 'spec.lifecycle=experimental']);
    expect(refsOf(either.stdout)).toEqual(['component:default/storefront', 'group:default/team-a']);
    const searched = await plinth(['catalog', 'list', '--search', 'STORE']);
    expect(refsOf(searched.stdout)).toEqual(['component:default/petstore', 'api:default/petstore-api', 'component:default/storefront']);
    const none = await plinth(['catalog', 'list', '--kind', 'domain']);
    expect(none).toMatchObject({ code: 0, stdout: 'No entities match.\n' });

    const page = await plinth(['catalog', 'list', '--kind', 'component,api,group', '--limit', '2']);
    expect(refsOf(page.stdout)).toHaveLength(2);
    expect(page.stdout).toMatch(/^showing 2 of 4 \(--all for every one, --limit N for a bigger page\)$/m);
    const everything = await plinth(['catalog', 'list', '--kind', 'component,api,group', '--limit', '2', '--all', '--json']);
    expect(everything.code).toBe(0);
    expect((JSON.parse(everything.stdout) as Entity[]).map((e) => e.metadata.name)).toEqual(['petstore', 'petstore-api', 'storefront', 'team-a']);
  });

  it('gets an entity as a summary, YAML or JSON, and says when there is none', async () => {
    const human = await plinth(['catalog', 'get', 'petstore']);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toMatch(/^ref\s+component:default\/petstore$/m);
    expect(human.stdout).toMatch(/^kind\s+Component$/m);
    expect(human.stdout).toMatch(/^title\s+Pet Store$/m);
    expect(human.stdout).toMatch(/^owner\s+group:default\/team-a$/m);
    expect(human.stdout).toMatch(/^lifecycle\s+production$/m);
    expect(human.stdout).toMatch(/^tags\s+java, web$/m);
    expect(human.stdout).toMatch(/^links\s+Docs https:\/\/example\.com\/petstore$/m);
    expect(human.stdout).toMatch(/^relations\n {2}ownedBy\s+group:default\/team-a\n {2}providesApi\s+api:default\/petstore-api$/m);

    const group = await plinth(['catalog', 'get', 'group:default/team-a']);
    expect(group.stdout).toMatch(/^ {2}ownerOf\s+api:default\/petstore-api, component:default\/petstore$/m);

    const yaml = await plinth(['catalog', 'get', 'api:petstore-api', '--yaml']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout.startsWith('apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: petstore-api\n')).toBe(true);
    expect(parseYaml(yaml.stdout)).toMatchObject({ kind: 'API', spec: { type: 'openapi', definition: 'openapi: 3.0.0' } });

    const json = await plinth(['catalog', 'get', 'component:default/petstore', '--json']);
    const entity = JSON.parse(json.stdout) as Entity & { relations: { type: string; targetRef: string }[] };
    expect(entity.metadata.annotations?.['backstage.io/managed-by-origin-location']).toBe(`file:${catalogFile()}`);
    expect(entity.relations).toContainEqual(expect.objectContaining({ type: 'ownedBy', targetRef: 'group:default/team-a' }));

    const missing = await plinth(['catalog', 'get', 'nope']);
    expect(missing).toMatchObject({
      code: 1,
      stdout: '',
      stderr: "error: No entity named 'nope' found, with kind 'component' in namespace 'default' (NotFoundError)\n",
    });
  });

  it('refreshes an entity’s location now: an edit of the file shows at once', async () => {
    await writeFile(catalogFile(), catalogInfo.replace('title: Pet Store', 'title: Pet Store v2'));
    const refresh = await plinth(['catalog', 'refresh', 'petstore']);
    expect(refresh).toMatchObject({ code: 0, stdout: 'Refreshed component:default/petstore\n', stderr: '' });
    const get = await plinth(['catalog', 'get', 'petstore']);
    expect(get.stdout).toMatch(/^title\s+Pet Store v2$/m);
    const missing = await plinth(['catalog', 'refresh', 'component:nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: No entity named .*nope.* \(NotFoundError\)\n$/);
  });

  it('validates a good file and reports bad YAML with its line and schema errors with the server’s message', async () => {
    const good = await plinth(['catalog', 'validate', catalogFile()]);
    expect(good).toMatchObject({
      code: 0,
      stdout: '✓ component:default/petstore\n✓ group:default/team-a\n✓ api:default/petstore-api\n',
      stderr: '',
    });

    const badFile = join(fileRoot, 'bad.yaml');
    await writeFile(
      badFile,
      [
        'apiVersion: backstage.io/v1alpha1', // 1
        'kind: Component', // 2
        'metadata:', // 3
        '  name: fine', // 4
        'spec: {type: service, lifecycle: production, owner: team-a}', // 5
        '---', // 6
        'apiVersion: backstage.io/v1alpha1', // 7
        'kind: Component', // 8
        'metadata:', // 9
        '  name: Not_Valid!', // 10
        'spec: {type: service, lifecycle: production, owner: team-a}', // 11
        '---', // 12
        'kind: Component', // 13
        'metadata:', // 14
        '  name: broken', // 15
        '  tags: [a, b', // 16
        'spec: {}', // 17
        '',
      ].join('\n'),
    );
    const bad = await plinth(['catalog', 'validate', 'bad.yaml'], { cwd: fileRoot });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('');
    const [fine, invalid, broken] = bad.stdout.trimEnd().split('\n');
    expect(fine).toBe('✓ component:default/fine');
    expect(invalid).toMatch(/^✗ document 2 \(Not_Valid!\): "metadata\.name" is not valid; expected a string that is sequences of \[a-zA-Z0-9\]/);
    expect(broken).toMatch(/^✗ document 3 \(broken\): bad\.yaml:17:1: invalid YAML: /);

    const json = await plinth(['catalog', 'validate', badFile, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { document: 1, line: 1, valid: true, ref: 'component:default/fine' },
      { document: 2, line: 7, valid: false, name: 'Not_Valid!', errors: [{ message: expect.stringContaining('metadata.name') }] },
      { document: 3, line: 13, valid: false, errors: [{ line: 17, column: 1 }] },
    ]);
  });

  it('unregisters a location and removes its entities', async () => {
    const result = await plinth(['catalog', 'unregister', fileLocationId]);
    expect(result).toMatchObject({ code: 0, stdout: `Unregistered location ${fileLocationId} (file:${catalogFile()}) and removed its entities\n`, stderr: '' });
    const list = await plinth(['catalog', 'list']);
    // Sorted by name: generated-… before storefront.
    expect(refsOf(list.stdout)).toEqual([expect.stringMatching(/^location:default\/generated-/), 'component:default/storefront']);
    expect((await plinth(['catalog', 'get', 'petstore'])).code).toBe(1);
    const again = await plinth(['catalog', 'unregister', fileLocationId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*\(NotFoundError\)\n$/);
    // The file is untouched: only the catalog forgot it.
    expect(await readFile(catalogFile(), 'utf8')).toContain('Pet Store v2');
  });
});
