import { describe, expect, it } from 'vitest';
import { DOCS_ASSET_BASE, renderMarkdown, resolveDocsAssetUrls, sanitizeDocsHtml, splitFrontMatter, type RenderContext } from './markdown.js';

const knownPages = new Set(['index.md', 'guides/setup.md', 'guides/index.md', 'reference/api.md']);
const ctx = (pagePath = 'index.md', extra: Partial<RenderContext> = {}): RenderContext => ({ pagePath, knownPages, ...extra });
const render = (markdown: string, pagePath = 'index.md') => renderMarkdown(markdown, ctx(pagePath));
const html = (markdown: string, pagePath = 'index.md') => render(markdown, pagePath).html;

describe('headings', () => {
  it('gives headings GitHub-style anchor ids', () => {
    expect(html('## Getting Started')).toBe('<h2 id="getting-started">Getting Started</h2>\n');
    expect(html('### What is `plinth`?')).toBe('<h3 id="what-is-plinth">What is <code>plinth</code>?</h3>\n');
  });

  it('keeps ids unique within a page', () => {
    const { headings } = render('## Usage\n\n## Usage\n\n### Usage');
    expect(headings.map((h) => h.id)).toEqual(['usage', 'usage-1', 'usage-2']);
  });

  it('gives the same ids on every render (no state shared between pages)', () => {
    expect(html('## A\n\n## A')).toBe(html('## A\n\n## A'));
    expect(render('## A').headings[0]?.id).toBe('a');
  });

  it('lists h2 and h3 with their text for the table of contents, not h1 or h4', () => {
    const { headings } = render('# Title\n\n## Install *now*\n\n### With `npm`\n\n#### Deep\n\n## Use &amp; enjoy');
    expect(headings).toEqual([
      { id: 'install-now', text: 'Install now', level: 2 },
      { id: 'with-npm', text: 'With npm', level: 3 },
      { id: 'use--enjoy', text: 'Use & enjoy', level: 2 },
    ]);
  });

  it('takes the title from the first h1, setext style included', () => {
    expect(render('Intro\n\n# First\n\n# Second').title).toBe('First');
    expect(render('Big Title\n=========\n\ntext').title).toBe('Big Title');
    expect(render('## Only h2').title).toBeUndefined();
  });

  it('adds no tabindex and no permalink markup', () => {
    expect(html('# A')).toBe('<h1 id="a">A</h1>\n');
  });
});

describe('front matter', () => {
  it('is stripped, and its title wins over the h1', () => {
    const result = render('---\ntitle: From Meta\ntags: [a]\n---\n# Heading\n\nBody');
    expect(result.title).toBe('From Meta');
    expect(result.html).not.toContain('tags');
    expect(result.html).toContain('<h1 id="heading">Heading</h1>');
  });

  it('is left as Markdown when it is not a YAML mapping', () => {
    expect(splitFrontMatter('---\njust text\n---\nbody').body).toBe('---\njust text\n---\nbody');
    expect(splitFrontMatter('---\n: [bad\n---\nbody').body).toBe('---\n: [bad\n---\nbody');
  });

  it('is recognised after a byte order mark', () => {
    expect(render('\uFEFF---\ntitle: BOM\n---\ntext').title).toBe('BOM');
  });

  it('is only recognised at the very start', () => {
    expect(splitFrontMatter('text\n---\ntitle: x\n---\n')).toEqual({ body: 'text\n---\ntitle: x\n---\n' });
  });
});

describe('code', () => {
  it('highlights fenced code with highlight.js classes', () => {
    const out = html('```ts\nconst x: number = 1;\n```');
    expect(out).toContain('<pre><code class="hljs language-ts"><span class="hljs-keyword">const</span>');
  });

  it('accepts highlight.js aliases and keeps sub-scope classes', () => {
    const out = html('```py\ndef greet(name):\n    return name\n```');
    expect(out).toContain('class="hljs language-py"');
    expect(out).toContain('<span class="hljs-title function_">greet</span>');
  });

  it('escapes code in an unknown language as plain text', () => {
    expect(html('```nosuchlang\n<b>&amp;</b>\n```')).toBe('<pre><code class="language-nosuchlang">&lt;b&gt;&amp;amp;&lt;/b&gt;\n</code></pre>\n');
  });

  it('escapes code without a language', () => {
    expect(html('```\n<script>alert(1)</script>\n```')).toBe('<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>\n');
  });

  it('escapes HTML inside highlighted code', () => {
    const out = html('```html\n<script>alert(1)</script>\n```');
    expect(out).not.toContain('<script');
    expect(out).toContain('&lt;');
  });

  it('renders inline code and indented code blocks', () => {
    expect(html('Use `a < b`.')).toBe('<p>Use <code>a &lt; b</code>.</p>\n');
    expect(html('    indented <x>')).toBe('<pre><code>indented &lt;x&gt;\n</code></pre>\n');
  });
});

describe('tables', () => {
  it('renders GitHub tables with alignment', () => {
    const out = html('| Name | Size |\n|:-----|-----:|\n| a | 1 |');
    expect(out).toContain('<table>');
    expect(out).toContain('<th style="text-align:left">Name</th>');
    expect(out).toContain('<td style="text-align:right">1</td>');
  });
});

describe('admonitions', () => {
  it('renders !!! type "Title" with an indented body', () => {
    expect(html('!!! note "Read this"\n    The body.\n')).toBe(
      '<div class="admonition note">\n<p class="admonition-title">Read this</p>\n<p>The body.</p>\n</div>\n',
    );
  });

  it('uses the capitalised type as the default title', () => {
    expect(html('!!! warning\n    Careful.')).toContain('<div class="admonition warning">\n<p class="admonition-title">Warning</p>');
  });

  it('drops the title for an explicit empty title', () => {
    expect(html('!!! tip ""\n    No title.')).toBe('<div class="admonition tip">\n<p>No title.</p>\n</div>\n');
  });

  it.each(['note', 'tip', 'info', 'warning', 'danger', 'example', 'abstract', 'success', 'question', 'failure', 'bug', 'quote'])('supports the %s type', (kind) => {
    expect(html(`!!! ${kind}\n    x`)).toContain(`<div class="admonition ${kind}">`);
  });

  it('renders ??? as a collapsed details block and ???+ as an open one', () => {
    expect(html('??? info "More"\n    Hidden.')).toBe('<details class="admonition info">\n<summary class="admonition-title">More</summary>\n<p>Hidden.</p>\n</details>\n');
    expect(html('???+ danger\n    Shown.')).toContain('<details class="admonition danger" open>\n<summary class="admonition-title">Danger</summary>');
  });

  it('renders Markdown in the body: lists, code, tables, nested admonitions', () => {
    const out = html(['!!! example "Try it"', '    - one', '    - two', '', '    ```bash', '    echo hi', '    ```', '', '    !!! note', '        Nested.', '', 'After.'].join('\n'));
    expect(out).toContain('<ul>\n<li>one</li>\n<li>two</li>\n</ul>');
    expect(out).toContain('<pre><code class="hljs language-bash">');
    expect(out).toContain('<div class="admonition note">\n<p class="admonition-title">Note</p>\n<p>Nested.</p>\n</div>\n</div>\n<p>After.</p>');
  });

  it('keeps blank lines inside the body and ends at the first line indented less', () => {
    const out = html('!!! note\n    First.\n\n    Second.\nNot in it.');
    expect(out).toBe('<div class="admonition note">\n<p class="admonition-title">Note</p>\n<p>First.</p>\n<p>Second.</p>\n</div>\n<p>Not in it.</p>\n');
  });

  it('renders Markdown in the title and escapes HTML there', () => {
    expect(html('!!! note "Use *this* <b>"\n    x')).toContain('<p class="admonition-title">Use <em>this</em> &lt;b&gt;</p>');
  });

  it('keeps the title of an unknown type but styles it as a note, so authors cannot choose CSS classes', () => {
    expect(html('!!! MuiDialog-root "Custom"\n    x')).toContain('<div class="admonition note">\n<p class="admonition-title">Custom</p>');
  });

  it('keeps the inline/end modifiers and drops other extra classes', () => {
    expect(html('!!! info inline end fixed\n    x')).toContain('<div class="admonition info inline end">');
  });

  it('does not interrupt a paragraph, like Python-Markdown', () => {
    expect(html('Some text\n!!! note\n    x')).toContain('<p>Some text\n!!! note\nx</p>');
  });

  it('is not an admonition inside a code block', () => {
    expect(html('```\n!!! note\n    x\n```')).toBe('<pre><code>!!! note\n    x\n</code></pre>\n');
  });
});

describe('links between pages', () => {
  it('points a relative .md link at the page route, relative to the current page', () => {
    expect(html('[setup](../guides/setup.md#part)', 'reference/api.md')).toBe(
      '<p><a href="../guides/setup#part" data-docs-path="guides/setup.md">setup</a></p>\n',
    );
    expect(html('[setup](guides/setup.md#part)')).toContain('href="guides/setup#part"');
    expect(html('[home](../index.md)', 'guides/setup.md')).toContain('href="../index"');
  });

  it('resolves folder links to the folder index page', () => {
    expect(html('[guides](guides/)')).toContain('<a href="guides/index" data-docs-path="guides/index.md">');
  });

  it('marks links to missing pages and warns', () => {
    const result = render('[gone](guides/gone.md)', 'index.md');
    expect(result.html).toContain('<a href="guides/gone" data-docs-path="guides/gone.md" class="docs-broken-link">gone</a>');
    expect(result.warnings).toEqual(['index.md: link to missing page "guides/gone.md"']);
  });

  it('removes links that climb out of the docs folder', () => {
    const result = render('[secret](../../../etc/passwd)', 'guides/setup.md');
    expect(result.html).toBe('<p><a>secret</a></p>\n');
    expect(result.warnings).toEqual(['guides/setup.md: link "../../../etc/passwd" removed: "../../../etc/passwd" is outside the docs folder']);
  });

  it('keeps same-page anchors and site links as written', () => {
    expect(html('[up](#top) [cat](/catalog)')).toBe('<p><a href="#top">up</a> <a href="/catalog">cat</a></p>\n');
  });

  it('adds rel="noopener noreferrer" to external links only', () => {
    expect(html('[e](https://example.com "Ex") [m](mailto:a@b.c)')).toBe(
      '<p><a href="https://example.com" title="Ex" rel="noopener noreferrer">e</a> <a href="mailto:a@b.c">m</a></p>\n',
    );
    expect(html('see https://example.com/x')).toContain('<a href="https://example.com/x" rel="noopener noreferrer">');
  });
});

describe('images and files', () => {
  it('points relative images at the asset placeholder, normalised against the page folder', () => {
    expect(html('![Diagram](img/diagram.png "Arch")', 'guides/setup.md')).toBe(
      `<p><img src="${DOCS_ASSET_BASE}guides/img/diagram.png" alt="Diagram" title="Arch" /></p>\n`,
    );
    expect(html('![a](../assets/x%20y.png)', 'guides/setup.md')).toContain(`src="${DOCS_ASSET_BASE}assets/x%20y.png"`);
  });

  it('points links to non-page files at the asset placeholder', () => {
    expect(html('[spec](files/spec.pdf#page=2)')).toContain(`<a href="${DOCS_ASSET_BASE}files/spec.pdf#page=2">spec</a>`);
  });

  it('warns about missing files when the assets are known', () => {
    const result = renderMarkdown('![a](img/a.png) ![b](img/b.png)', ctx('index.md', { knownAssets: new Set(['img/a.png']) }));
    expect(result.warnings).toEqual(['index.md: link to missing file "img/b.png"']);
  });

  it('removes images that climb out of the docs folder', () => {
    const result = render('![x](../../secret.png)', 'guides/setup.md');
    expect(result.html).toBe('<p><img alt="x" /></p>\n');
    expect(result.warnings).toHaveLength(1);
  });

  it('keeps external http(s) images', () => {
    expect(html('![b](https://img.shields.io/badge.svg)')).toContain('<img src="https://img.shields.io/badge.svg" alt="b" />');
  });

  it('substitutes the asset base in attributes, escaped', () => {
    const out = html('![d](img/d.png) [f](files/a.pdf)');
    expect(resolveDocsAssetUrls(out, '/api/docs/x/assets')).toBe('<p><img src="/api/docs/x/assets/img/d.png" alt="d" /> <a href="/api/docs/x/assets/files/a.pdf">f</a></p>\n');
    expect(resolveDocsAssetUrls(out, '/a"><script>/')).toContain('src="/a&quot;&gt;&lt;script&gt;/img/d.png"');
  });

  it('encodes a placeholder written into a link path, so it is never substituted twice', () => {
    expect(html('![x]({{DOCS_ASSET_BASE}}/y.png)')).toContain(`src="${DOCS_ASSET_BASE}%7B%7BDOCS_ASSET_BASE%7D%7D/y.png"`);
  });
});

describe('unsafe input', () => {
  it('escapes <script> in Markdown', () => {
    const out = html('Hello <script>alert(1)</script>');
    expect(out).toBe('<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;</p>\n');
  });

  it('escapes <img onerror>', () => {
    const out = html('<img src=x onerror="alert(1)">');
    expect(out).not.toMatch(/<img/);
    expect(out).toContain('&lt;img src=x onerror=');
  });

  it('escapes <iframe> and raw HTML blocks', () => {
    const out = html('<iframe src="https://evil.example"></iframe>\n\n<div onclick="x()">\n<style>body{display:none}</style>\n</div>');
    expect(out).not.toMatch(/<(iframe|div|style)/);
    expect(out).toContain('&lt;iframe');
  });

  it.each([
    '[x](javascript:alert(1))',
    '[x](JaVaScRiPt:alert(1))',
    '[x](&#x6A;avascript:alert(1))',
    '[x](  javascript:alert(1) )',
    '<javascript:alert(1)>',
    '[x](vbscript:msgbox)',
    '[x](data:text/html;base64,PHNjcmlwdD4=)',
    '![x](data:image/png;base64,iVBORw0KGgo=)',
    '![x](javascript:alert(1))',
    '[x][r]\n\n[r]: javascript:alert(1)',
  ])('never emits a javascript:/data:/vbscript: URL for %s', (markdown) => {
    const out = html(markdown);
    expect(out).not.toMatch(/(href|src)="\s*(javascript|data|vbscript):/i);
    expect(out).not.toMatch(/<a [^>]*href="[^"]*script/i);
  });

  it('does not let an attribute break out of its quotes', () => {
    const out = html('[x](https://a.example/"onmouseover="alert(1) "t\\"itle")');
    expect(out).not.toMatch(/" onmouseover=/);
  });
});

describe('sanitizeDocsHtml', () => {
  it('drops scripts, event handlers, iframes, styles and forms', () => {
    const dirty = [
      '<script>alert(1)</script>',
      '<img src="x.png" onerror="alert(1)">',
      '<iframe src="https://evil.example"></iframe>',
      '<style>*{}</style>',
      '<form action="/x"><input name="a"></form>',
      '<p style="position:fixed" onclick="x()">text</p>',
      '<object data="x.swf"></object><embed src="x.swf"><svg onload="alert(1)"></svg>',
    ].join('');
    expect(sanitizeDocsHtml(dirty)).toBe('<img src="x.png" /><p>text</p>');
  });

  it('removes javascript:, data: and protocol-relative URLs', () => {
    expect(sanitizeDocsHtml('<a href="javascript:alert(1)">a</a><a href="data:text/html,x">b</a><img src="data:image/png;base64,AA" /><a href="//evil.example">c</a>')).toBe(
      '<a>a</a><a>b</a><img /><a>c</a>',
    );
  });

  it('keeps only the classes the renderer emits', () => {
    expect(sanitizeDocsHtml('<div class="admonition note MuiBackdrop-root">x</div><span class="hljs-string evil">s</span><p class="admonition-title big">t</p>')).toBe(
      '<div class="admonition note">x</div><span class="hljs-string">s</span><p class="admonition-title">t</p>',
    );
  });

  it('keeps heading ids, table alignment and details/summary', () => {
    const clean = '<h2 id="a">A</h2><table><tbody><tr><td style="text-align:center">c</td></tr></tbody></table><details open><summary>s</summary></details>';
    expect(sanitizeDocsHtml(clean)).toBe(clean);
    expect(sanitizeDocsHtml('<td style="text-align:center;background:url(x)">c</td>')).not.toContain('background');
  });

  it('replaces a rel the author wrote and adds noopener to external links', () => {
    expect(sanitizeDocsHtml('<a href="https://x.example" rel="opener" target="_blank">x</a>')).toBe('<a href="https://x.example" rel="noopener noreferrer">x</a>');
    expect(sanitizeDocsHtml('<a href="guides/setup" rel="opener">x</a>')).toBe('<a href="guides/setup">x</a>');
  });
});
