import { mkdtempSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from './model.js';
import { validateValues } from './parameters.js';
import { resolveInside, writeInside } from './workspace.js';

const actions = { has: (id: string) => ['debug:log', 'fetch:template', 'publish:plinth'].includes(id) };

function template(steps: unknown[], extra: Record<string, unknown> = {}) {
  return { apiVersion: 'scaffolder.backstage.io/v1beta3', kind: 'Template', metadata: { name: 't' }, spec: { type: 'service', steps, ...extra } };
}

describe('parseTemplate', () => {
  it('loads steps with default ids and names, and parameter pages', () => {
    const t = parseTemplate(template([{ action: 'debug:log', input: { message: 'hi ${{ parameters.name }}' } }], { parameters: { properties: { name: { type: 'string' } } } }), actions);
    expect(t.ref).toBe('template:default/t');
    expect(t.steps).toEqual([{ id: 'step-1', name: 'debug:log', action: 'debug:log', input: { message: 'hi ${{ parameters.name }}' } }]);
    expect(t.parameters).toHaveLength(1);
  });

  it('refuses external-provider actions as not available, naming the field path', () => {
    expect(() => parseTemplate(template([{ id: 'publish', action: 'publish:github' }]), actions)).toThrow(/spec\.steps\[0\]\.action: action "publish:github" is not available in this installation/);
    expect(() => parseTemplate(template([{ action: 'github:actions:dispatch' }]), actions)).toThrow(/not available in this installation/);
  });

  it('refuses unknown actions and broken expressions, listing every problem', () => {
    const run = () => parseTemplate(template([{ action: 'nope:nothing' }, { action: 'debug:log', input: { message: '${{ parameters.name ' } }]), actions);
    expect(run).toThrow(/spec\.steps\[0\]\.action: unknown action "nope:nothing"/);
    expect(run).toThrow(/spec\.steps\[1\]\.input\.message: broken expression/);
  });

  it('refuses other apiVersions', () => {
    expect(() => parseTemplate({ ...template([]), apiVersion: 'backstage.io/v1beta2' }, actions)).toThrow(/v1beta3/);
  });
});

describe('validateValues', () => {
  const pages = [
    { required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z-]+$', 'ui:autofocus': true }, tier: { type: 'string', enum: ['a', 'b'] }, email: { type: 'string', format: 'email' } } },
    { properties: { db: { type: 'boolean' }, dbName: { type: 'string' } }, dependencies: { db: ['dbName'] } },
    { when: '${{ parameters.tier === "b" }}', required: ['bOnly'], properties: { bOnly: { type: 'string' } } },
  ];

  it('gives one message per field', () => {
    expect(validateValues(pages, { name: 'Bad Name', tier: 'c', email: 'x', db: true })).toEqual([
      { field: 'name', message: 'must match pattern "^[a-z-]+$"' },
      { field: 'tier', message: 'must be one of "a", "b"' },
      { field: 'email', message: 'must match format "email"' },
      { field: 'dbName', message: 'must have property dbName when property db is present' },
    ]);
    expect(validateValues(pages, {})).toEqual([{ field: 'name', message: 'is required' }]);
  });

  it('checks a page only when its `when` holds', () => {
    expect(validateValues(pages, { name: 'ok', tier: 'a' })).toEqual([]);
    expect(validateValues(pages, { name: 'ok', tier: 'b' })).toEqual([{ field: 'bOnly', message: 'is required' }]);
  });
});

describe('validateValues with conditional parts', () => {
  // A two-page template whose first page shows `expiry` only for experimental components (dependencies
  // + oneOf, as rjsf renders it) and whose second page asks for an on-call rotation only when the first
  // page's answer was production (if/then/else on the whole values).
  const pages = [
    {
      required: ['name', 'lifecycle'],
      properties: { name: { type: 'string' }, lifecycle: { type: 'string', enum: ['production', 'experimental'] } },
      dependencies: {
        lifecycle: {
          oneOf: [
            { properties: { lifecycle: { const: 'production' } } },
            { properties: { lifecycle: { const: 'experimental' }, expiry: { type: 'string', format: 'date' } }, required: ['expiry'] },
          ],
        },
      },
    },
    {
      properties: { repoUrl: { type: 'string' } },
      required: ['repoUrl'],
      if: { properties: { lifecycle: { const: 'production' } }, required: ['lifecycle'] },
      then: { properties: { oncall: { type: 'string', minLength: 3 } }, required: ['oncall'] },
      else: { properties: { sandbox: { type: 'boolean' } } },
    },
  ];
  const base = { name: 'svc', repoUrl: 'plinth?owner=team-a&repo=svc' };

  it('asks for the fields of the branch the answer chose, one message each, and nothing about other branches', () => {
    expect(validateValues(pages, { ...base, lifecycle: 'experimental' })).toEqual([{ field: 'expiry', message: 'is required' }]);
    expect(validateValues(pages, { ...base, lifecycle: 'experimental', expiry: 'soon' })).toEqual([{ field: 'expiry', message: 'must match format "date"' }]);
    expect(validateValues(pages, { ...base, lifecycle: 'experimental', expiry: '2027-01-31' })).toEqual([]);
  });

  it('checks a later page against an earlier page’s answer (if/then/else)', () => {
    expect(validateValues(pages, { ...base, lifecycle: 'production' })).toEqual([{ field: 'oncall', message: 'is required' }]);
    expect(validateValues(pages, { ...base, lifecycle: 'production', oncall: 'x' })).toEqual([{ field: 'oncall', message: 'must NOT have fewer than 3 characters' }]);
    expect(validateValues(pages, { ...base, lifecycle: 'production', oncall: 'sre-primary' })).toEqual([]);
    // The else branch has no required field: experimental components need no rotation.
    expect(validateValues(pages, { ...base, lifecycle: 'experimental', expiry: '2027-01-31' })).toEqual([]);
  });

  it('reports a value outside every branch on its field, not as "must match exactly one schema"', () => {
    expect(validateValues(pages, { ...base, lifecycle: 'retired' })).toEqual([{ field: 'lifecycle', message: 'must be one of "production", "experimental"' }]);
    expect(validateValues(pages, { ...base })).toEqual([{ field: 'lifecycle', message: 'is required' }]);
  });

  it('keeps the summary when several oneOf branches match at once (nothing narrower to say)', () => {
    const ambiguous = [{ properties: { kind: { type: 'string' } }, dependencies: { kind: { oneOf: [{ properties: { kind: { type: 'string' } } }, { properties: { kind: { minLength: 1 } } }] } } }];
    expect(validateValues(ambiguous, { kind: 'x' })).toEqual([{ field: '(values)', message: 'must match exactly one schema in oneOf' }]);
  });
});

describe('workspace confinement', () => {
  const root = mkdtempSync(join(tmpdir(), 'plinth-ws-'));
  const outside = mkdtempSync(join(tmpdir(), 'plinth-out-'));
  mkdirSync(join(root, 'sub'));
  symlinkSync(outside, join(root, 'escape'));

  it('refuses ../, absolute paths and symlinks that lead out', async () => {
    await expect(resolveInside(root, '../x', 'targetPath')).rejects.toThrow(/leaves the workspace/);
    await expect(resolveInside(root, 'sub/../../x', 'targetPath')).rejects.toThrow(/leaves the workspace/);
    await expect(resolveInside(root, '/etc/passwd', 'targetPath')).rejects.toThrow(/absolute path/);
    await expect(writeInside(root, 'escape/pwned.txt', 'x', 'targetPath')).rejects.toThrow(/symlink/);
    await expect(writeInside(root, 'escape', 'x', 'targetPath')).rejects.toThrow(/symlink/);
  });

  it('writes inside', async () => {
    expect(await writeInside(root, 'sub/new/file.txt', 'x', 'targetPath')).toBe(join(root, 'sub/new/file.txt'));
  });
});
