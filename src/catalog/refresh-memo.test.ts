import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/helpers/app.js';
import { testDialects } from '../../test/helpers/dialects.js';
import { systemClock, type Store } from '../kernel/index.js';
import { ingestLocation, type IngestSummary } from './ingest.js';
import { parseAndProcess, type FileJob, type FileMemo } from './model/process.js';
import type { CatalogLocation } from './model/types.js';
import { defaultReaderLimits, readLocationTree } from './reader.js';
import { deleteEntities, selectByRefs, selectRootedAt } from './store/entities.js';

const dialects = await testDialects();

const component = (name: string, extra = '') => `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\n${extra}spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n`;

describe.each(dialects)('refreshing unchanged files on %s', (dialect) => {
  let t: TestApp;
  let store: Store;
  let root: string;
  let location: CatalogLocation;
  const memos = new Map<string, FileMemo>();
  /** File names parsed by the last ingest, sorted (read-ahead parses in any order). */
  let parsed: string[] = [];

  const write = (file: string, text: string) => writeFileSync(join(root, file), text);
  const targets = (...files: string[]) =>
    write('catalog-info.yaml', `apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: tree\nspec:\n  targets: [${files.map((f) => `./${f}`).join(', ')}]\n`);
  async function ingest(fileMemos: Map<string, FileMemo> | undefined = memos): Promise<IngestSummary> {
    parsed = [];
    const parseFile = (job: FileJob) => {
      parsed.push(job.target.slice(root.length + 1));
      return parseAndProcess(job);
    };
    const readerOptions = { fileRoots: [root], fetchUrl: () => Promise.reject(new Error('no URLs here')), ...defaultReaderLimits };
    const summary = await ingestLocation({ store, clock: systemClock, parseFile, ...(fileMemos ? { fileMemos } : {}) }, location, (hooks) => readLocationTree(location, readerOptions, hooks));
    parsed.sort();
    return summary;
  }
  const etags = async (refs: string[]) => (await selectByRefs(store, refs)).map((e) => `${e.ref} ${e.entity.metadata.etag}`).sort();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'plinth-refresh-memo-'));
    t = await startTestApp({ dialect });
    store = t.app.kernel.store;
    location = { id: 'memo-test', type: 'file', target: join(root, 'catalog-info.yaml'), entityRef: 'location:default/memo', createdBy: 'user:default/admin', createdAt: new Date().toISOString(), refreshedAt: null, problems: [] };
    targets('a.yaml', 'b.yaml', 'c.yaml');
    write('a.yaml', [component('alpha'), component('beta'), component('gamma')].join('---\n'));
    write('b.yaml', [component('delta'), component('epsilon')].join('---\n'));
    // A placeholder reads another file, which the memo cannot see: c is always parsed.
    write('c-description.txt', 'from a placeholder');
    write('c.yaml', component('zeta', '  description:\n    $text: ./c-description.txt\n'));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('parses every file the first time and remembers only those without placeholders or Locations', async () => {
    const summary = await ingest();
    expect(summary.added).toBe(8); // six components, the tree's Location and the location's generated one
    expect(summary.problems).toEqual([]);
    expect(parsed).toEqual(['a.yaml', 'b.yaml', 'c.yaml', 'catalog-info.yaml']);
    expect([...memos.keys()].map((k) => k.slice(k.lastIndexOf('/') + 1))).toEqual(['a.yaml', 'b.yaml']);
  });

  it('does not parse an unchanged file again, and leaves its entities as they were', async () => {
    const refs = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].map((n) => `component:default/${n}`);
    const before = await etags(refs);
    const summary = await ingest();
    expect(parsed).toEqual(['c.yaml', 'catalog-info.yaml']);
    expect(summary).toMatchObject({ added: 0, updated: 0, orphaned: 0, unchanged: 8, problems: [] });
    expect(await etags(refs)).toEqual(before);
  });

  it('parses a file again when one of its entities is no longer stored as it left it, and brings the entity back', async () => {
    const [beta] = await selectByRefs(store, ['component:default/beta']);
    await store.transaction((tx) => deleteEntities(tx, [beta!.uid]));
    const summary = await ingest();
    expect(parsed).toEqual(['a.yaml', 'c.yaml', 'catalog-info.yaml']);
    expect(summary).toMatchObject({ added: 1, updated: 0, unchanged: 7 });
    expect((await selectByRefs(store, ['component:default/beta'])).length).toBe(1);
  });

  it('parses a file whose text changed', async () => {
    write('b.yaml', [component('delta', '  description: changed\n'), component('epsilon')].join('---\n'));
    const summary = await ingest();
    expect(parsed).toEqual(['b.yaml', 'c.yaml', 'catalog-info.yaml']);
    expect(summary).toMatchObject({ added: 0, updated: 1, unchanged: 7 });
    const [delta] = await selectByRefs(store, ['component:default/delta']);
    expect(delta!.entity.metadata.description).toBe('changed');
  });

  it('reports an unchanged file\'s entity that an earlier file now claims exactly as a parse would, and forgets the file', async () => {
    targets('d.yaml', 'a.yaml', 'b.yaml', 'c.yaml');
    write('d.yaml', component('gamma', '  description: claimed by d\n'));
    const remembered = await ingest();
    expect(parsed).toEqual(['c.yaml', 'catalog-info.yaml', 'd.yaml']);
    expect(remembered.problems.map((p) => p.message)).toEqual([expect.stringMatching(/a\.yaml: document 3 \(Component gamma\): duplicate entity component:default\/gamma, also in file:.*d\.yaml$/)]);
    expect([...memos.keys()].some((k) => k.endsWith('/a.yaml'))).toBe(false);
    // The same tree read with no memo at all finds the same problems.
    const fresh = await ingest(undefined);
    expect(fresh.problems).toEqual(remembered.problems);
    const [gamma] = await selectByRefs(store, ['component:default/gamma']);
    expect(gamma!.entity.metadata.description).toBe('claimed by d');
  });

  it('orphans the entities of a file the tree no longer reaches, without parsing the files it still does', async () => {
    targets('a.yaml', 'c.yaml');
    rmSync(join(root, 'd.yaml'));
    await ingest(); // a is parsed once more (its memo was dropped above) and remembered again
    targets('a.yaml', 'c.yaml', 'b.yaml');
    await ingest();
    targets('a.yaml', 'c.yaml');
    const summary = await ingest();
    expect(parsed).toEqual(['c.yaml', 'catalog-info.yaml']);
    expect(summary.orphaned).toBe(2);
    const orphans = (await selectRootedAt(store, location.id)).filter((r) => r.orphan).map((r) => r.ref).sort();
    expect(orphans).toEqual(['component:default/delta', 'component:default/epsilon']);
  });
});
