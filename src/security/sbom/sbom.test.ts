import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLockfile, resolveProject } from '../deps/resolve.js';
import type { DependencyTree } from '../model.js';
import { cyclonedxSbom } from './cyclonedx.js';
import { spdxSbom } from './spdx.js';

// Validated against the official schemas, read in place (../shared/conformance/sbom, see its README),
// with Ajv set up the way @cyclonedx/cyclonedx-library sets it up.
const conformance = new URL('../../../../shared/conformance/sbom/', import.meta.url).pathname;
const lockfiles = new URL('../../../test/fixtures/lockfiles/', import.meta.url).pathname;
const repoRoot = new URL('../../../', import.meta.url).pathname;
const schema = (path: string) => JSON.parse(readFileSync(join(conformance, path), 'utf8')) as Record<string, unknown>;
const applyDraft2019Formats = createRequire(import.meta.url)('ajv-formats-draft2019') as (ajv: Ajv, options: { formats: string[] }) => Ajv;
const options = { folderName: 'fixtures', toolVersion: '0.1.0-test', timestamp: new Date('2026-01-02T03:04:05Z'), serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79' };
const tree = (path: string) => parseLockfile(readFileSync(join(lockfiles, path), 'utf8'), path.split('/').pop()!);
const errorsOf = (validate: ValidateFunction, doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));

let cyclonedx16: ValidateFunction;
let spdx23: ValidateFunction;
let spdx231: ValidateFunction;
beforeAll(() => {
  const ajv = new Ajv({ strict: false, allErrors: true, loadSchema: undefined });
  addFormats.default(ajv);
  applyDraft2019Formats(ajv, { formats: ['idn-email'] });
  ajv.addFormat('iri-reference', true);
  ajv.addSchema(schema('cyclonedx/schema/spdx.schema.json'));
  ajv.addSchema(schema('cyclonedx/schema/jsf-0.82.schema.json'));
  cyclonedx16 = ajv.compile(schema('cyclonedx/schema/bom-1.6.schema.json'));
  spdx23 = ajv.compile(schema('spdx/schema/spdx-2.3.schema.json'));
  const ajv2019 = new Ajv2019({ strict: false, allErrors: true });
  addFormats.default(ajv2019);
  spdx231 = ajv2019.compile(schema('spdx/schema/spdx-2.3.1.schema.json'));
});

describe('the schema validators themselves', () => {
  it('accept the spec’s valid BOM and reject its invalid hash BOM', () => {
    expect(errorsOf(cyclonedx16, schema('cyclonedx/fixtures/1.6/valid-component-hashes-1.6.json'))).toEqual([]);
    expect(errorsOf(cyclonedx16, schema('cyclonedx/fixtures/1.6/invalid-hash-sha512-1.6.json'))).not.toEqual([]);
    expect(errorsOf(spdx23, schema('spdx/examples/SPDXJSONExample-v2.3.spdx.json'))).toEqual([]);
  });
});

const cases: [string, () => Promise<DependencyTree[]>][] = [
  ['the npm app (scoped, nested, dev, optional, workspace)', async () => [tree('npm-app/package-lock.json')]],
  ['a poetry project', async () => [tree('python-poetry/poetry.lock')]],
  ['a Go module', async () => [tree('go-module/go.mod')]],
  ['several lockfiles merged', async () => (await resolveProject(lockfiles)).trees],
  ['this repository’s own package-lock.json', async () => [parseLockfile(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'), 'package-lock.json')]],
];

describe.each(cases)('SBOMs of %s', (_name, load) => {
  it('CycloneDX 1.6 validates, with unique bom-refs and resolvable dependency refs', async () => {
    const bom = JSON.parse(cyclonedxSbom(await load(), options)) as { metadata: { component: { 'bom-ref': string } }; components: { 'bom-ref': string; purl: string }[]; dependencies: { ref: string; dependsOn?: string[] }[] };
    expect(errorsOf(cyclonedx16, bom)).toEqual([]);
    const refs = [bom.metadata.component['bom-ref'], ...bom.components.map((c) => c['bom-ref'])];
    expect(new Set(refs).size).toBe(refs.length);
    for (const d of bom.dependencies) for (const r of [d.ref, ...(d.dependsOn ?? [])]) expect(refs).toContain(r);
    for (const c of bom.components) expect(c.purl).toMatch(/^pkg:(npm|pypi|golang)\//);
  });
  it('SPDX 2.3 validates against both the 2.3 and 2.3.1 schemas, with a namespace and resolvable relationships', async () => {
    const doc = JSON.parse(spdxSbom(await load(), options)) as { documentNamespace: string; packages: { SPDXID: string }[]; relationships: { spdxElementId: string; relatedSpdxElement: string }[] };
    expect(errorsOf(spdx23, doc)).toEqual([]);
    expect(errorsOf(spdx231, doc)).toEqual([]);
    expect(doc.documentNamespace).toMatch(/^https:\/\//);
    const ids = new Set(['SPDXRef-DOCUMENT', ...doc.packages.map((p) => p.SPDXID)]);
    expect(ids.size).toBe(doc.packages.length + 1);
    for (const r of doc.relationships) expect([ids.has(r.spdxElementId), ids.has(r.relatedSpdxElement)]).toEqual([true, true]);
  });
});

describe('what the SBOMs say about the npm app', () => {
  const trees = () => [tree('npm-app/package-lock.json')];
  it('CycloneDX: hashes from integrity as hex, declared licenses, scope, group, and the graph', () => {
    const bom = JSON.parse(cyclonedxSbom(trees(), options)) as { components: Record<string, unknown>[]; dependencies: { ref: string; dependsOn?: string[] }[]; metadata: { component: { name: string } } };
    const qs = bom.components.find((c) => c.purl === 'pkg:npm/qs@6.7.0')!;
    const integrity = (JSON.parse(readFileSync(join(lockfiles, 'npm-app/package-lock.json'), 'utf8')) as { packages: Record<string, { integrity: string }> }).packages['node_modules/qs']!.integrity;
    expect(qs.hashes).toEqual([{ alg: 'SHA-512', content: Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex') }]);
    expect(qs.licenses).toEqual([{ license: { id: 'BSD-3-Clause', acknowledgement: 'declared' } }]);
    expect(bom.components.find((c) => c.purl === 'pkg:npm/%40demo/logger@2.0.1')).toMatchObject({ group: '@demo', name: 'logger', licenses: [{ expression: '(MIT OR Apache-2.0)', acknowledgement: 'declared' }] });
    expect(bom.components.find((c) => c.purl === 'pkg:npm/minimist@0.0.8')).toMatchObject({ scope: 'excluded', properties: [{ name: 'cdx:npm:package:development', value: 'true' }] });
    expect(bom.components.find((c) => c.purl === 'pkg:npm/%40demo/util@0.1.0')!.licenses).toEqual([{ license: { name: 'UNLICENSED', acknowledgement: 'declared' } }]);
    expect(bom.dependencies.find((d) => d.ref === 'pkg:npm/demo-app@1.0.0')!.dependsOn).toEqual(expect.arrayContaining(['pkg:npm/express@4.17.1', 'pkg:npm/mkdirp@0.5.1', 'pkg:npm/%40demo/util@0.1.0']));
    expect(bom.dependencies.find((d) => d.ref === 'pkg:npm/mkdirp@0.5.1')!.dependsOn).toEqual(['pkg:npm/minimist@0.0.8']);
  });
  it('SPDX: DESCRIBES the root, DEPENDS_ON edges, checksums, purls and declared licenses', () => {
    const doc = JSON.parse(spdxSbom(trees(), options)) as { packages: Record<string, unknown>[]; relationships: Record<string, string>[] };
    const root = doc.packages.find((p) => p.name === 'demo-app')!;
    expect(doc.relationships).toContainEqual({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: root.SPDXID });
    const express = doc.packages.find((p) => p.name === 'express')!;
    const qs = doc.packages.find((p) => p.name === 'qs')!;
    expect(doc.relationships).toContainEqual({ spdxElementId: express.SPDXID, relationshipType: 'DEPENDS_ON', relatedSpdxElement: qs.SPDXID });
    expect(qs).toMatchObject({ versionInfo: '6.7.0', licenseDeclared: 'BSD-3-Clause', downloadLocation: 'https://registry.npmjs.org/qs/-/qs-6.7.0.tgz', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:npm/qs@6.7.0' }] });
    expect((qs.checksums as { algorithm: string; checksumValue: string }[])[0]).toMatchObject({ algorithm: 'SHA512', checksumValue: expect.stringMatching(/^[0-9a-f]{128}$/) });
    expect(doc.packages.find((p) => p.name === '@demo/util')!.licenseDeclared).toBe('NOASSERTION');
  });
});
