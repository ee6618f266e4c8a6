import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';

// Every template of ../shared/conformance/backstage/templates (README there): it loads, serves its
// parameter schema, and either dry-runs to completion or is refused up front naming the action.
const root = resolve('../shared/conformance/backstage/templates');

function findTemplates(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return findTemplates(full);
    return name === 'template.yaml' ? [full] : [];
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

type Schema = { type?: string; enum?: unknown[]; default?: unknown; format?: string; minimum?: number; required?: string[]; properties?: Record<string, Schema>; 'ui:field'?: string; items?: Schema };

/** A value satisfying a property schema, as a user filling in the form would give. */
function sample(name: string, schema: Schema): unknown {
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema['ui:field'] === 'RepoUrlPicker') return 'github.com?owner=acme&repo=demo';
  switch (schema.type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return sampleObject(schema);
    default:
      return schema.format === 'email' ? 'a@example.com' : schema.format === 'uri' ? 'https://example.com' : `example-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  }
}

function sampleObject(schema: Schema): Record<string, unknown> {
  return Object.fromEntries((schema.required ?? []).map((key) => [key, sample(key, schema.properties?.[key] ?? {})]));
}

const templates = findTemplates(root);
const outcomes: string[] = [];

describe('Backstage conformance templates', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ dialect: 'sqlite', app: { catalog: { extraFileRoots: [root] } } });
  });
  afterAll(async () => {
    process.stdout.write(`\nscaffolder conformance (${outcomes.length} templates):\n${outcomes.map((o) => `  ${o}`).join('\n')}\n`);
    await t?.close();
  });

  it('finds the templates', () => {
    expect(templates.length).toBeGreaterThanOrEqual(15);
  });

  for (const file of templates) {
    const name = relative(root, dirname(file));
    it(`${name}: loads, serves its parameter schema, then dry-runs or is refused naming the action`, async () => {
      const headers = { authorization: `Bearer ${t.adminToken}` };
      const entity = parse(readFileSync(file, 'utf8')) as { metadata: { name: string }; spec: { parameters?: Schema | Schema[] } };
      await t.app.catalog.addLocation({ kind: 'system', name: 'test' }, { type: 'file', target: file }, { dryRun: false });

      const schema = await t.app.server.inject({ method: 'GET', url: `/api/scaffolder/v2/templates/default/template/${entity.metadata.name}/parameter-schema`, headers });
      expect(schema.statusCode, schema.body).toBe(200);
      const pages = [entity.spec.parameters ?? []].flat();
      expect(schema.json<{ steps: unknown[] }>().steps).toHaveLength(pages.length);

      const values = Object.assign({}, ...pages.map(sampleObject)) as Record<string, unknown>;
      const created = await t.app.server.inject({ method: 'POST', url: '/api/scaffolder/v2/tasks', headers, payload: { templateRef: `template:default/${entity.metadata.name}`, values } });
      if (created.statusCode === 400) {
        const message = created.json<{ error: { message: string } }>().error.message;
        const action = /action "([^"]+)" is not available|unknown action "([^"]+)"/.exec(message);
        expect(action, message).not.toBeNull();
        outcomes.push(`${name}: refused up front, ${message.slice(message.indexOf('spec.steps'))}`);
        return;
      }
      expect(created.statusCode, created.body).toBe(201);
      const directoryContents = filesUnder(dirname(file))
        .filter((f) => f !== file)
        .map((f) => ({ path: relative(dirname(file), f), base64Content: readFileSync(f).toString('base64') }));
      const dry = await t.app.server.inject({ method: 'POST', url: '/api/scaffolder/v2/dry-run', headers, payload: { template: entity, values, directoryContents } });
      expect(dry.statusCode, dry.body).toBe(200);
      const result = dry.json<{ status: string; error?: { message: string }; log: unknown[]; output: unknown }>();
      expect(result.status, result.error?.message).toBe('completed');
      outcomes.push(`${name}: dry-run completed (${result.log.length} log lines, output ${JSON.stringify(result.output).slice(0, 80)})`);
    });
  }
});
