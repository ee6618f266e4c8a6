import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createLogger, InputError, NotFoundError } from '../kernel/index.js';
import { buildDocsSite, createDocs, hashDocsSource, resolveDocsAsset, resolveDocsAssetUrls, DOCS_ASSET_BASE, type DocsSite } from './index.js';

const legacyApp = fileURLToPath(new URL('../../../shared/conformance/backstage/examples/create-app/legacy-app/', import.meta.url));
const logger = createLogger({ level: 'silent', pretty: false });

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'plinth-docs-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes files under a new folder in the temp dir; returns the folder. */
async function fixture(files: Record<string, string | Buffer>, name = `site-${Math.random().toString(36).slice(2, 10)}`): Promise<string> {
  const root = join(tmp, name);
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('the Backstage create-app example docs', () => {
  it('builds from the techdocs-ref of example-website with its site name and page', async () => {
    // The entity points at its docs with `backstage.io/techdocs-ref: dir:./example-docs`, relative to entities.yaml.
    const docs = parseAllDocuments(await readFile(join(legacyApp, 'entities.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string; annotations?: Record<string, string> } });
    const component = docs.find((e) => e.kind === 'Component' && e.metadata.name === 'example-website');
    const ref = component?.metadata.annotations?.['backstage.io/techdocs-ref'];
    expect(ref).toBe('dir:./example-docs');
    const site = await buildDocsSite(resolve(legacyApp, (ref ?? '').slice('dir:'.length)));

    expect(site.siteName).toBe('example-website');
    expect(site.warnings).toEqual([]);
    expect(site.pages.map((p) => [p.path, p.title])).toEqual([['index.md', 'Example TechDocs page']]);
    expect(site.nav).toEqual([{ title: 'Example TechDocs page', path: 'index.md' }]);
    const html = site.pages[0]?.html ?? '';
    expect(html).toContain('<h1 id="example-techdocs-page">Example TechDocs page</h1>');
    expect(html).toContain('<p>This is an example TechDocs page!</p>');
    expect(html).toContain('<code>example-website</code>');
    expect(site.sourceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashDocsSource(resolve(legacyApp, 'example-docs'))).toBe(site.sourceHash);
  });
});

describe('a richer site', () => {
  let root: string;
  let site: DocsSite;
  const page = (path: string) => site.pages.find((p) => p.path === path);

  beforeAll(async () => {
    const outside = await fixture({ 'secret.md': '# TOP SECRET\n', 'dir/inner.md': '# TOP SECRET TOO\n' });
    root = await fixture({
      'mkdocs.yml': [
        'site_name: Payments Service',
        'docs_dir: docs',
        'theme:',
        '  name: material',
        'plugins:',
        '  - techdocs-core',
        'markdown_extensions:',
        '  - admonition',
        '  - pymdownx.details',
        'nav:',
        '  - Home: index.md',
        '  - Guides:',
        '      - guides/setup.md',
        '      - Deploying: guides/deploy.md',
        '      - Advanced:',
        '          - guides/advanced/tuning.md',
        '  - Reference: reference/api.md',
        '  - Missing: nowhere.md',
        '  - Escape: ../mkdocs.yml',
        '  - Issues: https://github.com/acme/payments/issues',
        '  - Evil: javascript:alert(1)',
      ].join('\n'),
      'README.md': '# Payments\n\nThe repository readme.\n',
      'docs/index.md': [
        '# Payments',
        '',
        '!!! warning "Read first"',
        '    Set up [the service](guides/setup.md#install) before deploying.',
        '',
        '![Architecture](img/arch.png)',
        '',
        '| Env | URL |',
        '|-----|-----|',
        '| staging | https://staging.example |',
        '',
        '```yaml',
        'replicas: 3',
        '```',
      ].join('\n'),
      'docs/guides/setup.md': '# Setup\n\n## Install\n\n### With npm\n\nBack [home](../index.md), see the [API](../reference/api.md#auth) or [nothing](gone.md).\n\n![a](../img/arch.png)\n\n??? tip\n    Hidden tip.\n',
      'docs/guides/deploy.md': '# Deploy\n\n!!! danger\n    Production!\n',
      'docs/guides/advanced/tuning.md': 'No heading here.\n',
      'docs/reference/api.md': '---\ntitle: API reference\n---\n# Endpoints\n\n## Auth\n',
      'docs/img/arch.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      'docs/.hidden.md': '# Hidden\n',
    });
    await symlink(join(outside, 'secret.md'), join(root, 'docs/leak.md'));
    await symlink(join(outside, 'dir'), join(root, 'docs/leak-dir'));
    await symlink('../README.md', join(root, 'docs/readme.md'));
    await symlink('.', join(root, 'docs/guides/loop'));
    await symlink('missing-target.md', join(root, 'docs/broken.md'));
    site = await buildDocsSite(root);
  });

  it('reads the site name and every page, in nav order, skipping dot files', () => {
    expect(site.siteName).toBe('Payments Service');
    expect(site.pages.map((p) => p.path)).toEqual(['index.md', 'readme.md', 'guides/deploy.md', 'guides/setup.md', 'guides/advanced/tuning.md', 'reference/api.md']);
  });

  it('builds the nested nav, leaving out missing, escaping and unsafe entries', () => {
    expect(site.nav).toEqual([
      { title: 'Home', path: 'index.md' },
      {
        title: 'Guides',
        children: [
          { title: 'Setup', path: 'guides/setup.md' },
          { title: 'Deploying', path: 'guides/deploy.md' },
          { title: 'Advanced', children: [{ title: 'Tuning', path: 'guides/advanced/tuning.md' }] },
        ],
      },
      { title: 'Reference', path: 'reference/api.md' },
      { title: 'Issues', url: 'https://github.com/acme/payments/issues' },
    ]);
  });

  it('titles pages by front matter, first h1, then file name', () => {
    expect(page('reference/api.md')?.title).toBe('API reference');
    expect(page('guides/setup.md')?.title).toBe('Setup');
    expect(page('guides/advanced/tuning.md')?.title).toBe('Tuning');
  });

  it('lists the h2/h3 headings of a page', () => {
    expect(page('guides/setup.md')?.headings).toEqual([
      { id: 'install', text: 'Install', level: 2 },
      { id: 'with-npm', text: 'With npm', level: 3 },
    ]);
  });

  it('renders admonitions, tables, highlighted code, images and cross-page links', () => {
    const index = page('index.md')?.html ?? '';
    expect(index).toContain('<div class="admonition warning">\n<p class="admonition-title">Read first</p>');
    expect(index).toContain('<a href="guides/setup#install" data-docs-path="guides/setup.md">the service</a>');
    expect(index).toContain(`<img src="${DOCS_ASSET_BASE}img/arch.png" alt="Architecture" />`);
    expect(index).toContain('<td><a href="https://staging.example" rel="noopener noreferrer">https://staging.example</a></td>');
    expect(index).toContain('<pre><code class="hljs language-yaml"><span class="hljs-attr">replicas:</span>');
    const setup = page('guides/setup.md')?.html ?? '';
    expect(setup).toContain('<a href="../index" data-docs-path="index.md">home</a>');
    expect(setup).toContain('<a href="../reference/api#auth" data-docs-path="reference/api.md">API</a>');
    expect(setup).toContain(`<img src="${DOCS_ASSET_BASE}img/arch.png" alt="a" />`);
    expect(setup).toContain('<details class="admonition tip">');
    expect(resolveDocsAssetUrls(index, '/api/docs/payments/assets/')).toContain('<img src="/api/docs/payments/assets/img/arch.png"');
  });

  it('follows a symlink inside the root and never reads one resolving outside', () => {
    expect(page('readme.md')?.html).toContain('The repository readme.');
    expect(JSON.stringify(site)).not.toContain('TOP SECRET');
    expect(site.pages.some((p) => p.path.startsWith('leak'))).toBe(false);
  });

  it('reports every problem as a warning', () => {
    expect(site.warnings).toEqual(
      expect.arrayContaining([
        'docs/broken.md: broken symlink; skipped',
        'docs/leak-dir: symlink resolves outside the docs root; skipped',
        'docs/leak.md: symlink resolves outside the docs root; skipped',
        'guides/setup.md: link to missing page "guides/gone.md"',
        'mkdocs.yml nav[3]: page "nowhere.md" does not exist; skipped',
        'mkdocs.yml nav[4]: "../mkdocs.yml" is outside the docs folder; skipped',
        'mkdocs.yml nav[6]: "javascript:alert(1)" is not an http, https or mailto URL; skipped',
      ]),
    );
    expect(site.warnings).toHaveLength(7);
    for (const warning of site.warnings) expect(warning).not.toContain(tmp);
  });

  it('gives the same sourceHash from hashDocsSource, and the same site on a rebuild', async () => {
    expect(await hashDocsSource(root)).toBe(site.sourceHash);
    expect(await buildDocsSite(root)).toEqual(site);
  });

  it('resolves asset files for the route layer, only inside the docs dir', async () => {
    expect(await resolveDocsAsset(root, 'img/arch.png')).toMatch(/docs\/img\/arch\.png$/);
    for (const path of ['../mkdocs.yml', '.hidden.md', 'leak.md', 'leak-dir/inner.md', 'img', 'img/missing.png', '/etc/passwd', '']) {
      expect(await rejection(resolveDocsAsset(root, path)), path).toBeInstanceOf(NotFoundError);
    }
  });
});

describe('building', () => {
  it('builds the nav from the files without a nav', async () => {
    const root = await fixture({
      'mkdocs.yml': 'site_name: auto\n',
      'docs/index.md': '# Welcome\n',
      'docs/b-page.md': 'text',
      'docs/a-page.md': '# Alpha\n',
      'docs/how-to/index.md': '# How-tos\n',
      'docs/how-to/deploy.md': '# Deploy it\n',
    });
    expect((await buildDocsSite(root)).nav).toEqual([
      { title: 'Welcome', path: 'index.md' },
      { title: 'Alpha', path: 'a-page.md' },
      { title: 'B page', path: 'b-page.md' },
      { title: 'How to', children: [{ title: 'How-tos', path: 'how-to/index.md' }, { title: 'Deploy it', path: 'how-to/deploy.md' }] },
    ]);
  });

  it('warns about images and file links to files that do not exist', async () => {
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\n', 'docs/index.md': '![ok](img/ok.png) ![no](img/none.png) [pdf](spec.pdf)', 'docs/img/ok.png': 'png' });
    expect((await buildDocsSite(root)).warnings).toEqual(['index.md: link to missing file "img/none.png"', 'index.md: link to missing file "spec.pdf"']);
  });

  it('reads mkdocs.yaml and a custom docs_dir', async () => {
    const root = await fixture({ 'mkdocs.yaml': 'site_name: yaml\ndocs_dir: documentation\n', 'documentation/index.md': '# Hi\n' });
    const site = await buildDocsSite(root);
    expect(site.siteName).toBe('yaml');
    expect(site.pages.map((p) => p.path)).toEqual(['index.md']);
  });

  it('renders docs/ without mkdocs.yml, named after the folder, with a warning', async () => {
    const root = await fixture({ 'docs/index.md': '# Hi\n' }, 'no-config-service');
    const site = await buildDocsSite(root);
    expect(site.siteName).toBe('no-config-service');
    expect(site.pages.map((p) => p.path)).toEqual(['index.md']);
    expect(site.warnings).toEqual(['no mkdocs.yml in no-config-service; rendered docs/ with default settings']);
  });

  it('fails with NotFoundError when there is neither mkdocs.yml nor docs/', async () => {
    const root = await fixture({ 'README.md': '# x' }, 'bare-service');
    const error = await rejection(buildDocsSite(root));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('no mkdocs.yml in bare-service');
  });

  it('fails with NotFoundError when the folder does not exist', async () => {
    expect(await rejection(buildDocsSite(join(tmp, 'nope')))).toBeInstanceOf(NotFoundError);
  });

  it('fails with an InputError naming line and column for invalid YAML', async () => {
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\nnav:\n\t- index.md\n', 'docs/index.md': '# x' });
    const error = await rejection(buildDocsSite(root));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('mkdocs.yml:3:1: invalid YAML: Tabs are not allowed as indentation');
  });

  it.each(['../..', '..', '/etc', 'docs/../../x'])('renders nothing for docs_dir %s outside the root, with a warning', async (docsDir) => {
    const root = await fixture({ 'mkdocs.yml': `site_name: x\ndocs_dir: ${JSON.stringify(docsDir)}\n`, 'docs/index.md': '# x' });
    const site = await buildDocsSite(root);
    expect(site.pages).toEqual([]);
    expect(site.warnings).toEqual([`docs_dir "${docsDir}" is outside the docs root; no pages rendered`]);
  });

  it('renders nothing for a docs_dir symlink resolving outside the root', async () => {
    const outside = await fixture({ 'index.md': '# TOP SECRET' });
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\ndocs_dir: linked\n' });
    await symlink(outside, join(root, 'linked'));
    const site = await buildDocsSite(root);
    expect(site.pages).toEqual([]);
    expect(site.warnings).toEqual(['docs_dir "linked" resolves outside the docs root; no pages rendered']);
  });

  it('ignores an mkdocs.yml symlink resolving outside the root', async () => {
    const outside = await fixture({ 'mkdocs.yml': 'site_name: TOP SECRET\n' });
    const root = await fixture({ 'docs/index.md': '# x' }, 'linked-config');
    await symlink(join(outside, 'mkdocs.yml'), join(root, 'mkdocs.yml'));
    const site = await buildDocsSite(root);
    expect(site.siteName).toBe('linked-config');
    expect(site.warnings[0]).toBe('mkdocs.yml resolves outside the docs root; ignored');
  });

  it('warns when docs_dir is missing', async () => {
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\n' });
    expect((await buildDocsSite(root)).warnings).toEqual(['docs_dir "docs" is not a folder; no pages rendered']);
  });
});

describe('limits', () => {
  it('refuses more Markdown files than maxFiles', async () => {
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\n', 'docs/a.md': 'a', 'docs/b.md': 'b', 'docs/c.md': 'c', 'docs/img.png': 'png' });
    expect(await buildDocsSite(root, { maxFiles: 3 })).toBeDefined();
    const error = await rejection(buildDocsSite(root, { maxFiles: 2 }));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('docs has more than 2 Markdown files; the limit is 2');
  });

  it('refuses a Markdown file larger than maxFileBytes', async () => {
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\n', 'docs/big.md': 'x'.repeat(1001) });
    const error = await rejection(buildDocsSite(root, { maxFileBytes: 1000 }));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('docs/big.md is 1001 bytes; the limit is 1000 per file');
  });

  it('refuses more Markdown than maxTotalBytes', async () => {
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\n', 'docs/a.md': 'x'.repeat(600), 'docs/b.md': 'x'.repeat(600) });
    const error = await rejection(buildDocsSite(root, { maxTotalBytes: 1000 }));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('docs holds more than 1000 bytes of Markdown; the limit is 1000');
  });

  it('refuses an oversized mkdocs.yml', async () => {
    const root = await fixture({ 'mkdocs.yml': `site_name: x\n# ${'x'.repeat(2000)}\n`, 'docs/a.md': 'a' });
    expect(await rejection(buildDocsSite(root, { maxFileBytes: 1000 }))).toBeInstanceOf(InputError);
  });

  it('refuses a docs dir listing more than 20 entries per allowed Markdown file', async () => {
    const files: Record<string, string> = { 'mkdocs.yml': 'site_name: x\n', 'docs/index.md': '# x' };
    for (let i = 0; i < 20; i++) files[`docs/img/${i}.png`] = 'png';
    const root = await fixture(files);
    expect(await buildDocsSite(root, { maxFiles: 2 })).toBeDefined();
    const error = await rejection(buildDocsSite(root, { maxFiles: 1 }));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('docs has more than 20 files and folders; the limit is 20 per allowed Markdown file');
  });

  it('applies the same limits to hashDocsSource', async () => {
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\n', 'docs/a.md': 'a', 'docs/b.md': 'b' });
    expect(await rejection(hashDocsSource(root, { maxFiles: 1 }))).toBeInstanceOf(InputError);
  });
});

describe('hashDocsSource', () => {
  it('changes when a page, the config or the list of files changes, not when only timestamps do', async () => {
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\n', 'docs/index.md': '# One\n' });
    const first = await hashDocsSource(root);
    await utimes(join(root, 'docs/index.md'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(await hashDocsSource(root)).toBe(first);

    await writeFile(join(root, 'docs/index.md'), '# Two\n');
    const second = await hashDocsSource(root);
    expect(second).not.toBe(first);
    await writeFile(join(root, 'docs/img.png'), 'png');
    const third = await hashDocsSource(root);
    expect(third).not.toBe(second);
    await writeFile(join(root, 'mkdocs.yml'), 'site_name: y\n');
    expect(await hashDocsSource(root)).not.toBe(third);
  });

  it('is the same for the same files in another folder', async () => {
    const files = { 'mkdocs.yml': 'site_name: x\n', 'docs/index.md': '# Same\n' };
    expect(await hashDocsSource(await fixture(files))).toBe(await hashDocsSource(await fixture(files)));
  });
});

describe('createDocs', () => {
  it('serves the cached site until a source file changes', async () => {
    const docs = createDocs({ logger });
    const root = await fixture({ 'mkdocs.yml': 'site_name: cached\n', 'docs/index.md': '# Before\n' });
    const first = await docs.getSite('component:default/a', root);
    expect(await docs.getSite('component:default/a', root)).toBe(first);

    await utimes(join(root, 'docs/index.md'), new Date(), new Date());
    expect(await docs.getSite('component:default/a', root)).toBe(first);

    await writeFile(join(root, 'docs/index.md'), '# After\n');
    const second = await docs.getSite('component:default/a', root);
    expect(second).not.toBe(first);
    expect(second.pages[0]?.title).toBe('After');
    expect(second.sourceHash).not.toBe(first.sourceHash);
    expect(await docs.getSite('component:default/a', root)).toBe(second);
  });

  it('shares one build between concurrent requests', async () => {
    const docs = createDocs({ logger });
    const root = await fixture({ 'mkdocs.yml': 'site_name: c\n', 'docs/index.md': '# C\n' });
    const [a, b, c] = await Promise.all([docs.getSite('k', root), docs.getSite('k', root), docs.getSite('k', root)]);
    expect(a).toBe(b);
    expect(b).toBe(c);
  });

  it('keeps at most maxSites, evicting the least recently used', async () => {
    const docs = createDocs({ logger, maxSites: 2 });
    const roots = await Promise.all(['a', 'b', 'c'].map((n) => fixture({ 'mkdocs.yml': `site_name: ${n}\n`, 'docs/index.md': `# ${n}\n` })));
    const [ra, rb, rc] = roots as [string, string, string];
    const a = await docs.getSite('a', ra);
    const b = await docs.getSite('b', rb);
    expect(await docs.getSite('a', ra)).toBe(a); // a is now the most recently used
    await docs.getSite('c', rc); // evicts b
    expect(await docs.getSite('a', ra)).toBe(a);
    expect(await docs.getSite('b', rb)).not.toBe(b);
  });

  it('does not cache a site larger than maxCacheBytes', async () => {
    const docs = createDocs({ logger, maxCacheBytes: 100 });
    const root = await fixture({ 'mkdocs.yml': 'site_name: big\n', 'docs/index.md': `# Big\n\n${'word '.repeat(100)}\n` });
    expect(await docs.getSite('big', root)).not.toBe(await docs.getSite('big', root));
  });

  it('stops serving a site whose docs were removed', async () => {
    const docs = createDocs({ logger });
    const root = await fixture({ 'mkdocs.yml': 'site_name: gone\n', 'docs/index.md': '# Gone\n' });
    await docs.getSite('gone', root);
    await rm(root, { recursive: true });
    expect(await rejection(docs.getSite('gone', root))).toBeInstanceOf(NotFoundError);
  });

  it('passes its limits to the build', async () => {
    const docs = createDocs({ logger, limits: { maxFiles: 1 } });
    const root = await fixture({ 'mkdocs.yml': 'site_name: x\n', 'docs/a.md': 'a', 'docs/b.md': 'b' });
    expect(await rejection(docs.getSite(basename(root), root))).toBeInstanceOf(InputError);
  });
});
