import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGoMod, parseGoSum } from './go.js';
import { integrityHashes, parseNpmLockfile } from './npm.js';
import { parsePurl, toPurl } from './purl.js';
import { parsePipfileLock, parsePoetryLock, parseRequirements } from './python.js';
import { dependencyPaths, resolveProject } from './resolve.js';

const fixtures = new URL('../../../test/fixtures/lockfiles/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, fixtures), 'utf8');

describe('npm package-lock.json', () => {
  const tree = parseNpmLockfile(read('npm-app/package-lock.json'), 'package-lock.json');
  const pkg = (key: string) => tree.packages.find((p) => p.key === key)!;

  it('resolves nested copies by node_modules lookup and keeps dev, optional and workspace packages', () => {
    expect(pkg('node_modules/mkdirp').dependencies).toEqual(['node_modules/mkdirp/node_modules/minimist']);
    expect(pkg('node_modules/mkdirp/node_modules/minimist')).toMatchObject({ name: 'minimist', version: '0.0.8', dev: true, purl: 'pkg:npm/minimist@0.0.8' });
    expect(pkg('node_modules/minimist')).toMatchObject({ version: '1.2.6', dev: false });
    expect(pkg('node_modules/fsevents')).toMatchObject({ optional: true, dev: false });
    expect(pkg('packages/util')).toMatchObject({ name: '@demo/util', dependencies: ['node_modules/lodash'] });
    expect(tree.root.dependencies).toEqual(expect.arrayContaining(['node_modules/express', 'node_modules/mkdirp', 'node_modules/fsevents', 'packages/util']));
  });
  it('names scoped packages as purls with %40 and points at the entry’s line', () => {
    const logger = pkg('node_modules/@demo/logger');
    expect(logger.purl).toBe('pkg:npm/%40demo/logger@2.0.1');
    expect(read('npm-app/package-lock.json').split('\n')[logger.line - 1]).toContain('"node_modules/@demo/logger": {');
  });
  it('turns integrity into hex hashes and keeps the license', () => {
    expect(integrityHashes('sha1-AAEC sha512-AAECAw==')).toEqual([{ alg: 'SHA-1', hex: '000102' }, { alg: 'SHA-512', hex: '00010203' }]);
    expect(pkg('node_modules/qs').hashes[0]).toMatchObject({ alg: 'SHA-512' });
    expect(pkg('node_modules/qs').hashes[0]!.hex).toMatch(/^[0-9a-f]{128}$/);
    expect(pkg('node_modules/qs').license).toBe('BSD-3-Clause');
  });
  it('lists every dependency path from the root, shortest first', () => {
    expect(dependencyPaths(tree, 'node_modules/qs')).toEqual(['demo-app > express > qs', 'demo-app > express > body-parser > qs']);
    expect(dependencyPaths(tree, 'node_modules/lodash')).toEqual(['demo-app > lodash', 'demo-app > @demo/util > lodash']);
  });
  it.each([
    ['{"lockfileVersion": 3, "packages": {', /package-lock.json: not valid JSON/],
    ['{"lockfileVersion": 1, "dependencies": {}}', /lockfileVersion 1 has no "packages" map; regenerate it with npm 7/],
    ['{"lockfileVersion": "3"}', /package-lock.json: lockfileVersion: /],
    ['{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": 1}}}', /packages.node_modules\/a.version/],
  ])('rejects a malformed lockfile naming the file and the problem (%#)', (text, message) => {
    expect(() => parseNpmLockfile(text, 'package-lock.json')).toThrow(message);
  });
});

describe('Python lockfiles', () => {
  it('reads poetry.lock with its graph, normalised names and dev groups', () => {
    const tree = parsePoetryLock(read('python-poetry/poetry.lock'), 'python-poetry/poetry.lock');
    expect(tree.packages.map((p) => p.purl)).toEqual(['pkg:pypi/flask@2.2.2', 'pkg:pypi/jinja2@3.1.2', 'pkg:pypi/markupsafe@2.1.3', 'pkg:pypi/pytest@7.4.0']);
    expect(tree.packages.find((p) => p.name === 'flask')!.dependencies).toEqual(['jinja2@3.1.2', 'markupsafe@2.1.3']);
    expect(tree.packages.find((p) => p.name === 'pytest')!.dev).toBe(true);
    expect(tree.root.dependencies).toEqual(['flask@2.2.2', 'pytest@7.4.0']);
    expect(tree.packages.find((p) => p.name === 'jinja2')!.line).toBe(18);
  });
  it('reads pinned requirements with hashes and warns about what is not pinned or not followed', () => {
    const tree = parseRequirements(read('python-requirements/requirements.txt'), 'requirements.txt');
    expect(tree.packages.map((p) => [p.name, p.version, p.line])).toEqual([['requests', '2.28.0', 2], ['urllib3', '1.26.18', 4]]);
    expect(tree.packages[0]!.hashes).toEqual([{ alg: 'SHA-256', hex: 'bc7861137fbce630f17b03d3ad02ad0bf978c844f3536d0edda6499dafce2b6f' }]);
    expect(tree.warnings).toEqual(['requirements.txt:5: "Django>=4.2" is not pinned with ==; left out', 'requirements.txt:6: -r includes are not followed; scan that file too']);
  });
  it('reads Pipfile.lock default and develop sections', () => {
    const tree = parsePipfileLock(read('python-pipenv/Pipfile.lock'), 'Pipfile.lock');
    expect(tree.packages.map((p) => [p.name, p.version, p.dev])).toEqual([['requests', '2.31.0', false], ['jinja2', '3.1.2', false], ['flask', '2.2.1', true]]);
  });
  it('rejects broken TOML naming the file', () => expect(() => parsePoetryLock('[[package]\nname = ', 'poetry.lock')).toThrow(/^poetry.lock: not valid TOML/));
});

describe('Go modules', () => {
  it('reads go.mod requires (blocks and single lines, pseudo-versions) as golang purls', () => {
    const tree = parseGoMod(read('go-module/go.mod'), 'go.mod');
    expect(tree.root.name).toBe('example.com/demo/api');
    expect(tree.packages.map((p) => p.purl)).toEqual([
      'pkg:golang/github.com/gin-gonic/gin@v1.9.1',
      'pkg:golang/golang.org/x/text@v0.3.7',
      'pkg:golang/golang.org/x/net@v0.0.0-20220722155237-a158d28d115b',
    ]);
    expect(tree.packages[1]!.line).toBe(7);
  });
  it('reads go.sum, skipping /go.mod-only lines', () => {
    expect(parseGoSum(read('go-module/go.sum'), 'go.sum').packages.map((p) => p.key)).toEqual(['github.com/gin-gonic/gin@v1.9.1', 'golang.org/x/text@v0.3.7']);
  });
  it('rejects a go.mod without a module line and garbage requires', () => {
    expect(() => parseGoMod('require foo\n', 'go.mod')).toThrow(/go.mod: line 1: "require foo" is not "module\/path vX.Y.Z"/);
    expect(() => parseGoMod('go 1.21\n', 'go.mod')).toThrow(/no "module" line/);
  });
});

describe('purls and project resolution', () => {
  it('round-trips purls of each ecosystem', () => {
    expect(parsePurl(toPurl('npm', '@scope/name', '1.0.0-beta+build'))).toEqual({ ecosystem: 'npm', name: '@scope/name', version: '1.0.0-beta+build' });
    expect(parsePurl('pkg:pypi/Django_Rest@3.0?repository_url=x')).toEqual({ ecosystem: 'PyPI', name: 'django-rest', version: '3.0' });
    expect(parsePurl('pkg:golang/github.com/gin-gonic/gin@v1.9.1')).toEqual({ ecosystem: 'Go', name: 'github.com/gin-gonic/gin', version: 'v1.9.1' });
    expect(() => parsePurl('pkg:cargo/serde@1.0.0')).toThrow(/purl type "cargo" is not supported/);
    expect(() => parsePurl('lodash@1.0.0')).toThrow(/is not a package URL/);
  });
  it('finds every lockfile below a folder, prefers go.mod over go.sum, and reports a malformed one without stopping', async () => {
    const project = await resolveProject(new URL('.', fixtures).pathname);
    expect(project.trees.map((t) => t.file).sort()).toEqual(['go-module/go.mod', 'npm-app/package-lock.json', 'python-pipenv/Pipfile.lock', 'python-poetry/poetry.lock', 'python-requirements/requirements.txt']);
    expect(project.errors).toEqual([{ file: 'broken/package-lock.json', message: expect.stringMatching(/^broken\/package-lock.json: not valid JSON/) }]);
  });
});
