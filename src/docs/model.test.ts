import { describe, expect, it } from 'vitest';
import { InputError } from '../kernel/index.js';
import {
  buildDefaultNav,
  comparePagePaths,
  pageHref,
  parseMkdocsConfig,
  resolveDocPath,
  resolveLinkTarget,
  resolveNav,
  slugify,
  titleFromName,
  titleFromPath,
} from './model.js';

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('parseMkdocsConfig', () => {
  it('reads site_name, docs_dir and nav', () => {
    const config = parseMkdocsConfig('site_name: My Site\ndocs_dir: documentation\nnav:\n  - index.md\n', 'mkdocs.yml');
    expect(config).toEqual({ siteName: 'My Site', docsDir: 'documentation', nav: ['index.md'] });
  });

  it('defaults docs_dir to docs and leaves site_name and nav unset', () => {
    expect(parseMkdocsConfig('theme: material\n', 'mkdocs.yml')).toEqual({ docsDir: 'docs' });
  });

  it('treats an empty file as defaults', () => {
    expect(parseMkdocsConfig('', 'mkdocs.yml')).toEqual({ docsDir: 'docs' });
    expect(parseMkdocsConfig('# only a comment\n', 'mkdocs.yml')).toEqual({ docsDir: 'docs' });
  });

  it('ignores theme, plugins and markdown_extensions, including MkDocs-only YAML tags', () => {
    const text = [
      'site_name: x',
      'theme:',
      '  name: material',
      'plugins:',
      '  - techdocs-core',
      'markdown_extensions:',
      '  - pymdownx.emoji:',
      '      emoji_index: !!python/name:material.extensions.emoji.twemoji',
      '  - toc:',
      '      permalink: true',
      'extra:',
      '  token: !ENV [TOKEN, none]',
    ].join('\n');
    expect(parseMkdocsConfig(text, 'mkdocs.yml')).toEqual({ siteName: 'x', docsDir: 'docs' });
  });

  it('names the file, line and column of invalid YAML', () => {
    const error = inputError(() => parseMkdocsConfig('site_name: x\nnav:\n\t- a.md\n', 'mkdocs.yml'));
    expect(error.message).toBe('mkdocs.yml:3:1: invalid YAML: Tabs are not allowed as indentation');
  });

  it('names the position inside a line', () => {
    const error = inputError(() => parseMkdocsConfig('site_name: x\n"a": b: c\n', 'mkdocs.yaml'));
    expect(error.message).toBe('mkdocs.yaml:2:6: invalid YAML: Nested mappings are not allowed in compact mappings');
  });

  it('accepts duplicate keys, the last one winning, as PyYAML does', () => {
    expect(parseMkdocsConfig('site_name: a\nsite_name: b\n', 'mkdocs.yml').siteName).toBe('b');
  });

  it('rejects a document that is not a mapping', () => {
    expect(inputError(() => parseMkdocsConfig('- a\n- b\n', 'mkdocs.yml')).message).toBe('mkdocs.yml: expected a mapping of settings, found a list');
  });

  it('lists every key with a wrong type', () => {
    const error = inputError(() => parseMkdocsConfig('site_name: [a]\ndocs_dir: 3\nnav: index.md\n', 'mkdocs.yml'));
    expect(error.message).toContain('site_name: expected a string, found a list');
    expect(error.message).toContain('docs_dir: expected a string, found number 3');
    expect(error.message).toContain('nav: expected a list, found string "index.md"');
  });

  it('stops an alias bomb instead of expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
    expect(inputError(() => parseMkdocsConfig(bomb, 'mkdocs.yml')).message).toMatch(/^mkdocs\.yml: .*alias/i);
  });
});

describe('resolveDocPath', () => {
  it.each([
    ['', 'index.md', 'index.md'],
    ['', './guides/setup.md', 'guides/setup.md'],
    ['guides/setup.md', 'other.md', 'guides/other.md'],
    ['guides/setup.md', '../index.md', 'index.md'],
    ['a/b/c.md', '../../x.md', 'x.md'],
    ['', 'a/../b.md', 'b.md'],
    ['', 'guides/', 'guides'],
    ['', '.', ''],
  ])('from %j, %j → %j', (from, target, expected) => {
    expect(resolveDocPath(from, target)).toBe(expected);
  });

  it.each([
    ['', '../secret.md'],
    ['', '..'],
    ['guides/setup.md', '../../etc/passwd'],
    ['', 'a/../../b.md'],
    ['', '/etc/passwd'],
    ['', 'C:/Windows/win.ini'],
    ['', '..\\..\\secret.md'],
    ['', 'a\0.md'],
    ['', ''],
  ])('from %j, %j escapes or is absolute → undefined', (from, target) => {
    expect(resolveDocPath(from, target)).toBeUndefined();
  });
});

describe('resolveLinkTarget', () => {
  const pages = new Set(['index.md', 'guides/setup.md', 'guides/index.md', 'reference/api.md']);

  it('resolves a relative .md link against the page folder, keeping the fragment', () => {
    expect(resolveLinkTarget('../guides/setup.md#part', 'reference/api.md', pages)).toEqual({ kind: 'page', path: 'guides/setup.md', fragment: '#part', exists: true });
  });

  it('marks a link to a page that does not exist', () => {
    expect(resolveLinkTarget('missing.md', 'index.md', pages)).toEqual({ kind: 'page', path: 'missing.md', fragment: '', exists: false });
  });

  it('resolves folder links and extension-less links to pages, as MkDocs does', () => {
    expect(resolveLinkTarget('guides/', 'index.md', pages)).toMatchObject({ kind: 'page', path: 'guides/index.md' });
    expect(resolveLinkTarget('guides/setup', 'index.md', pages)).toMatchObject({ kind: 'page', path: 'guides/setup.md' });
    expect(resolveLinkTarget('./', 'guides/setup.md', pages)).toMatchObject({ kind: 'page', path: 'guides/index.md' });
  });

  it('treats other relative targets as assets, percent-decoded', () => {
    expect(resolveLinkTarget('img/my%20diagram.png', 'guides/setup.md', pages)).toEqual({ kind: 'asset', path: 'guides/img/my diagram.png', fragment: '' });
    expect(resolveLinkTarget('files/spec.pdf?x=1#page=2', 'index.md', pages)).toEqual({ kind: 'asset', path: 'files/spec.pdf', fragment: '#page=2' });
  });

  it('leaves external, anchor and site-absolute targets alone', () => {
    expect(resolveLinkTarget('https://example.com/a.md', 'index.md', pages)).toEqual({ kind: 'external', url: 'https://example.com/a.md' });
    expect(resolveLinkTarget('mailto:a@b.c', 'index.md', pages)).toEqual({ kind: 'external', url: 'mailto:a@b.c' });
    expect(resolveLinkTarget('#usage', 'index.md', pages)).toEqual({ kind: 'anchor', fragment: '#usage' });
    expect(resolveLinkTarget('/catalog', 'index.md', pages)).toEqual({ kind: 'site', url: '/catalog' });
  });

  it.each(['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x', 'file:///etc/passwd', '//evil.example/x'])('refuses %s', (href) => {
    expect(resolveLinkTarget(href, 'index.md', pages).kind).toBe('invalid');
  });

  it('refuses targets that climb out of the docs folder', () => {
    expect(resolveLinkTarget('../../secret.md', 'guides/setup.md', pages)).toMatchObject({ kind: 'invalid', reason: '"../../secret.md" is outside the docs folder' });
  });
});

describe('pageHref', () => {
  it.each([
    ['index.md', 'guides/setup.md', '#part', 'guides/setup#part'],
    ['reference/api.md', 'guides/setup.md', '', '../guides/setup'],
    ['guides/setup.md', 'index.md', '', '../index'],
    ['guides/setup.md', 'guides/other.md', '', 'other'],
    ['guides/setup.md', 'guides/setup.md', '#a', 'setup#a'],
    ['a/b.md', 'a.md', '', '../a'],
    ['index.md', 'my guide/read me.md', '', 'my%20guide/read%20me'],
  ])('from %s to %s%s → %s', (from, to, fragment, expected) => {
    expect(pageHref(from, to, fragment)).toBe(expected);
  });
});

describe('slugify', () => {
  it.each([
    ['Getting Started', 'getting-started'],
    ['What is `plinth`?', 'what-is-plinth'],
    ['  Trim me  ', 'trim-me'],
    ['C++ & Rust!', 'c--rust'],
    ['snake_case stays', 'snake_case-stays'],
    ['Ünïcödé Straße', 'ünïcödé-straße'],
    ['日本語', '日本語'],
    ['!!!', 'section'],
  ])('%j → %j', (text, slug) => {
    expect(slugify(text)).toBe(slug);
  });
});

describe('titles', () => {
  it.each([
    ['index.md', 'Home'],
    ['guides/index.md', 'Guides'],
    ['guides/getting-started.md', 'Getting started'],
    ['setup_notes.md', 'Setup notes'],
    ['API-Reference.md', 'API Reference'],
  ])('%s → %s', (path, title) => {
    expect(titleFromPath(path)).toBe(title);
  });

  it('turns a folder name into a section title', () => {
    expect(titleFromName('how-to')).toBe('How to');
    expect(titleFromName('FAQ')).toBe('FAQ');
  });
});

describe('resolveNav', () => {
  const titles = new Map([
    ['index.md', 'Welcome'],
    ['guides/setup.md', 'Setup'],
    ['guides/deploy.md', 'Deploying'],
    ['reference/api.md', 'API'],
  ]);

  it('resolves bare paths, titled paths, sections and external links', () => {
    const warnings: string[] = [];
    const nav = resolveNav(
      ['index.md', { Guides: ['guides/setup.md', { 'Ship it': 'guides/deploy.md' }] }, { Reference: [{ API: './reference/api.md' }] }, { GitHub: 'https://github.com/x/y' }],
      titles,
      warnings,
    );
    expect(nav).toEqual([
      { title: 'Welcome', path: 'index.md' },
      { title: 'Guides', children: [{ title: 'Setup', path: 'guides/setup.md' }, { title: 'Ship it', path: 'guides/deploy.md' }] },
      { title: 'Reference', children: [{ title: 'API', path: 'reference/api.md' }] },
      { title: 'GitHub', url: 'https://github.com/x/y' },
    ]);
    expect(warnings).toEqual([]);
  });

  it('warns about and skips pages that do not exist, dropping sections left empty', () => {
    const warnings: string[] = [];
    const nav = resolveNav(['index.md', 'missing.md', { Old: ['gone.md'] }], titles, warnings);
    expect(nav).toEqual([{ title: 'Welcome', path: 'index.md' }]);
    expect(warnings).toEqual(['mkdocs.yml nav[1]: page "missing.md" does not exist; skipped', 'mkdocs.yml nav[2].Old[0]: page "gone.md" does not exist; skipped']);
  });

  it('skips paths escaping the docs folder and absolute paths', () => {
    const warnings: string[] = [];
    const nav = resolveNav([{ Secret: '../../etc/passwd' }, { Abs: '/etc/passwd.md' }, { Sneaky: 'guides/../../x.md' }], titles, warnings);
    expect(nav).toEqual([]);
    expect(warnings).toHaveLength(3);
    for (const w of warnings) expect(w).toMatch(/is outside the docs folder; skipped$/);
  });

  it('skips javascript:, data: and protocol-relative URLs', () => {
    const warnings: string[] = [];
    const nav = resolveNav([{ Click: 'javascript:alert(1)' }, { Data: 'data:text/html,x' }, { Rel: '//evil.example' }, { Mail: 'mailto:team@example.com' }], titles, warnings);
    expect(nav).toEqual([{ title: 'Mail', url: 'mailto:team@example.com' }]);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toBe('mkdocs.yml nav[0]: "javascript:alert(1)" is not an http, https or mailto URL; skipped');
  });

  it('warns about malformed entries', () => {
    const warnings: string[] = [];
    expect(resolveNav([42, null, { a: 'index.md', b: 'index.md' }, { Broken: 7 }], titles, warnings)).toEqual([]);
    expect(warnings).toHaveLength(4);
    expect(warnings[3]).toBe('mkdocs.yml nav[3] "Broken": expected a path, a URL or a list, found number 7; skipped');
  });
});

describe('buildDefaultNav', () => {
  it('puts index.md first, then pages by name, then folders as sections', () => {
    const pages = [
      { path: 'zeta.md', title: 'Zeta' },
      { path: 'guides/setup.md', title: 'Setup' },
      { path: 'alpha.md', title: 'Alpha' },
      { path: 'index.md', title: 'Home page' },
      { path: 'guides/index.md', title: 'Guides home' },
      { path: 'api-reference/v1/endpoints.md', title: 'Endpoints' },
    ];
    expect(buildDefaultNav(pages)).toEqual([
      { title: 'Home page', path: 'index.md' },
      { title: 'Alpha', path: 'alpha.md' },
      { title: 'Zeta', path: 'zeta.md' },
      { title: 'Api reference', children: [{ title: 'V1', children: [{ title: 'Endpoints', path: 'api-reference/v1/endpoints.md' }] }] },
      { title: 'Guides', children: [{ title: 'Guides home', path: 'guides/index.md' }, { title: 'Setup', path: 'guides/setup.md' }] },
    ]);
  });

  it('is empty without pages', () => {
    expect(buildDefaultNav([])).toEqual([]);
  });
});

describe('comparePagePaths', () => {
  it('orders like the default nav', () => {
    const paths = ['guides/setup.md', 'b.md', 'index.md', 'a.md', 'guides/index.md', 'api/x.md'];
    expect(paths.sort(comparePagePaths)).toEqual(['index.md', 'a.md', 'b.md', 'api/x.md', 'guides/index.md', 'guides/setup.md']);
  });
});
