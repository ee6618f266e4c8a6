import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startGitTestApp, type GitTestApp } from '../../test/helpers/git.js';
import { checkPlinthYaml } from '../pipelines/model/plinth-yaml.js';
import { standardPipeline } from '../pipelines/index.js';
import { registerBuiltinTemplates } from './index.js';

// The golden paths in templates/ (issue #4): each loads from the catalog and renders a project that
// passes its own build, tests and lint as generated; its score.yaml is valid Score v1b1 (the schema in
// ../shared/conformance/score) and its catalog-info.yaml passes the catalog's own validation.

const templatesDir = resolve('templates');
const scoreSchema = JSON.parse(readFileSync(resolve('../shared/conformance/score/score-v1b1.json'), 'utf8')) as object;
const validateScore = new Ajv2020({ allErrors: true, strict: false }).compile(scoreSchema);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** Runs a command in a generated project; npm's output is kept for the failure message. */
function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false', NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, output: output.slice(-4000) }));
  });
}

interface DryRunBody {
  status: string;
  error?: { message: string };
  directoryContents: { path: string; base64Content: string; executable: boolean }[];
  output: { links?: { title: string }[] };
}

const cases = [
  { template: 'node-service', values: { name: 'orders-api', owner: 'group:default/team-a', database: true, port: 9090 }, build: true },
  { template: 'node-service', values: { name: 'plain-api', owner: 'team-a' }, build: false },
  { template: 'static-site', values: { name: 'team-site', owner: 'group:default/team-a', title: 'Team A' }, build: true },
  { template: 'library', values: { name: 'slugs', scope: 'acme', owner: 'user:default/alice' }, build: true },
];

describe('golden-path templates', () => {
  let t: GitTestApp;
  const workDirs: string[] = [];
  const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.app.server.inject({ method, url, headers: { authorization: `Bearer ${t.tokens.alice}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

  beforeAll(async () => {
    t = await startGitTestApp({ dialect: 'sqlite', listen: true, config: { builtinTemplates: true } });
    await t.app.templatesReady();
  });
  afterAll(async () => {
    await t?.close();
    for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('are in the catalog after the first start, and registering them again changes nothing', async () => {
    const names = async () => {
      const res = await api('GET', '/api/catalog/entities?filter=kind=template&fields=metadata.name');
      return res.json<{ metadata: { name: string } }[]>().map((e) => e.metadata.name).sort();
    };
    expect(await names()).toEqual(['library', 'node-service', 'static-site']);
    const locations = async () => (await api('GET', '/api/catalog/locations')).json<unknown[]>().length;
    const before = await locations();
    await registerBuiltinTemplates(t.app.catalog, templatesDir);
    expect(await names()).toEqual(['library', 'node-service', 'static-site']);
    expect(await locations()).toBe(before);
    const schema = await api('GET', '/api/scaffolder/v2/templates/default/template/node-service/parameter-schema');
    expect(schema.statusCode).toBe(200);
    const owner = schema.json<{ steps: { schema: { properties: Record<string, Record<string, unknown>> } }[] }>().steps[0]!.schema.properties.owner!;
    expect(owner['ui:field']).toBe('OwnerPicker');
  });

  it('refuses a name that breaks the pattern, naming the field', async () => {
    const res = await api('POST', '/api/scaffolder/v2/tasks', { templateRef: 'template:default/node-service', values: { name: 'Orders API', owner: 'team-a' } });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/name: must match pattern/);
  });

  it.each(cases)('$template ($values.name) renders a project that builds, passes its tests and lint', async ({ template, values, build }) => {
    const dir = join(templatesDir, template);
    const directoryContents = filesUnder(dir)
      .filter((f) => !f.endsWith('template.yaml'))
      .map((f) => ({ path: relative(dir, f), base64Content: readFileSync(f).toString('base64') }));
    const res = await api('POST', '/api/scaffolder/v2/dry-run', { template: parse(readFileSync(join(dir, 'template.yaml'), 'utf8')), values, directoryContents });
    expect(res.statusCode).toBe(200);
    const body = res.json<DryRunBody>();
    expect(body.error?.message).toBeUndefined();
    expect(body.status).toBe('completed');
    expect(body.output.links?.map((l) => l.title)).toEqual(['Repository', 'Open in catalog']);

    const project = mkdtempSync(join(tmpdir(), `plinth-golden-${template}-`));
    workDirs.push(project);
    for (const file of body.directoryContents) {
      await mkdir(dirname(join(project, file.path)), { recursive: true });
      await writeFile(join(project, file.path), Buffer.from(file.base64Content, 'base64'));
    }
    const text = (path: string) => readFileSync(join(project, path), 'utf8');
    expect(readdirSync(project)).toEqual(expect.arrayContaining(['catalog-info.yaml', 'mkdocs.yml', 'docs', 'package.json', 'README.md']));
    expect(text('package.json')).not.toContain('${{');
    // The artifact carries what the service needs at run time: the build step packs bundled
    // dependencies (and theirs) with the build output, so every runtime dependency is bundled.
    const manifest = JSON.parse(text('package.json')) as { dependencies?: Record<string, string>; bundleDependencies?: string[] };
    expect(manifest.bundleDependencies ?? []).toEqual(Object.keys(manifest.dependencies ?? {}));

    // catalog-info.yaml: a Component owned as asked, with docs next to the code, valid for the catalog.
    const entity = parse(text('catalog-info.yaml')) as { kind: string; metadata: { name: string; annotations: Record<string, string> }; spec: { owner: string } };
    expect(entity.kind).toBe('Component');
    expect(entity.metadata.name).toBe(values.name);
    expect(entity.spec.owner).toBe(values.owner);
    expect(entity.metadata.annotations['backstage.io/techdocs-ref']).toBe('dir:.');
    const validated = await api('POST', '/api/catalog/validate-entity', { entity, location: `url:https://example.com/${values.name}/catalog-info.yaml` });
    expect(validated.statusCode, validated.body).toBe(200);

    if (template === 'node-service') {
      const score = parse(text('score.yaml')) as { metadata: { name: string }; resources?: Record<string, { type: string }>; containers: { main: { variables: Record<string, string> } } };
      expect(validateScore(score), JSON.stringify(validateScore.errors)).toBe(true);
      expect(score.metadata.name).toBe(values.name);
      if ('database' in values && values.database) {
        expect(score.resources).toEqual({ db: { type: 'postgres' } });
        expect(score.containers.main.variables.DATABASE_URL).toContain('${resources.db.host}');
      } else {
        expect(score.resources).toBeUndefined();
      }
      const plinthYaml = checkPlinthYaml(text('plinth.yaml'), 'plinth.yaml', standardPipeline());
      expect(plinthYaml.ok, JSON.stringify(plinthYaml)).toBe(true);
    }

    if (!build) return;
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project);
    expect(install.code, install.output).toBe(0);
    for (const script of ['build', 'test', 'lint']) {
      const result = await run('npm', ['run', script], project);
      expect(result.code, `npm run ${script}:\n${result.output}`).toBe(0);
      // node --test exits 0 when it finds no test files: the tests must have run.
      if (script === 'test') expect(result.output).toMatch(/# pass [1-9]/);
    }
  }, 240_000);
});
