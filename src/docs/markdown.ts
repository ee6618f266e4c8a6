import MarkdownIt from 'markdown-it';
import type { StateCore, Token } from 'markdown-it';
import anchor from 'markdown-it-anchor';
import { createRequire } from 'node:module';
import type { HLJSApi } from 'highlight.js';
import sanitizeHtml from 'sanitize-html';
import { parse as parseYaml } from 'yaml';
import { admonitionModifiers, admonitionPlugin, admonitionTypes } from './admonition.js';
import { allowedUrlSchemes, isAllowedUrl, pageHref, resolveLinkTarget, slugify, type DocsHeading } from './model.js';

/**
 * Relative images and file links point at `{{DOCS_ASSET_BASE}}/<path in the docs dir>`. The route layer
 * replaces the placeholder with the URL it serves the docs dir's files under (see `resolveDocsAssetUrls`).
 */
export const DOCS_ASSET_BASE = '{{DOCS_ASSET_BASE}}/';

export interface RenderContext {
  /** The page's path in the docs dir: 'index.md', 'guides/setup.md'. */
  pagePath: string;
  /** Every page path of the site, to resolve and check links between pages. */
  knownPages: ReadonlySet<string>;
  /** Every non-Markdown file of the docs dir; when given, links and images to missing files are warned about. */
  knownAssets?: ReadonlySet<string>;
}

export interface RenderedMarkdown {
  html: string;
  /** The front matter `title`, else the first h1; undefined when the page has neither. */
  title: string | undefined;
  /** The page's h2 and h3, with their anchor ids. */
  headings: DocsHeading[];
  /** Broken or refused links and images, each naming the page. */
  warnings: string[];
}

interface RenderEnv {
  ctx: RenderContext;
  warnings: string[];
  headings: DocsHeading[];
  h1?: string;
}

// Per-render state, found from markdown-it's `env` object without casting it.
const renderEnvs = new WeakMap<object, RenderEnv>();
const md = createRenderer();

/** Renders one MkDocs Markdown page to sanitized HTML. Pure: links are checked against `ctx`, nothing is read. */
export function renderMarkdown(markdown: string, ctx: RenderContext): RenderedMarkdown {
  const { body, title } = splitFrontMatter(markdown.replace(/^\uFEFF/, ''));
  const env: RenderEnv = { ctx, warnings: [], headings: [] };
  const mdEnv = {};
  renderEnvs.set(mdEnv, env);
  const html = sanitizeDocsHtml(md.render(body, mdEnv));
  return { html, title: title ?? env.h1, headings: env.headings, warnings: env.warnings };
}

function createRenderer(): InstanceType<typeof MarkdownIt> {
  // html: false → raw HTML in Markdown is escaped as text; sanitizeDocsHtml is the second line of defence.
  const renderer = new MarkdownIt('default', { html: false, linkify: true, typographer: false, highlight });
  // markdown-it's own check lets data:image/… through; only http, https, mailto and relative references may link.
  renderer.validateLink = isAllowedUrl;
  renderer.use(admonitionPlugin);
  renderer.use(anchor, { level: [1, 2, 3, 4, 5, 6], slugify, tabIndex: false, uniqueSlugStartIndex: 1 });
  renderer.core.ruler.push('docs_links', rewriteLinks);
  renderer.core.ruler.push('docs_headings', collectHeadings);
  return renderer;
}

// highlight.js registers ~190 languages as it loads (~0.15 s): loaded with the first code block, not at start.
let hljsModule: HLJSApi | undefined;
const hljs = (): HLJSApi => (hljsModule ??= createRequire(import.meta.url)('highlight.js') as HLJSApi);

function highlight(code: string, lang: string): string {
  if (!lang || !hljs().getLanguage(lang)) return ''; // markdown-it escapes it and adds class="language-x"
  const html = hljs().highlight(code, { language: lang, ignoreIllegals: true }).value;
  return `<pre><code class="hljs language-${escapeAttribute(lang)}">${html}</code></pre>`;
}

/** Strips YAML front matter (`---` … `---`), as MkDocs' meta extension does, and returns its `title`. */
export function splitFrontMatter(markdown: string): { body: string; title?: string } {
  const match = /^---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(markdown);
  if (!match) return { body: markdown };
  let meta: unknown;
  try {
    meta = parseYaml(match[1] ?? '', { maxAliasCount: 100 });
  } catch {
    return { body: markdown }; // not front matter after all: render it as written
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return { body: markdown };
  const title = (meta as Record<string, unknown>)['title'];
  const body = markdown.slice(match[0].length);
  return typeof title === 'string' && title.trim() ? { body, title: title.trim() } : { body };
}

function rewriteLinks(state: StateCore): void {
  const env = renderEnvs.get(state.env);
  if (!env) return;
  for (const block of state.tokens) {
    for (const token of block.type === 'inline' ? (block.children ?? []) : []) {
      if (token.type === 'link_open') rewriteLink(token, env);
      else if (token.type === 'image') rewriteImage(token, env);
    }
  }
}

function rewriteLink(token: Token, env: RenderEnv): void {
  const attr = token.attrGet('href');
  if (attr === null) return;
  const href = String(attr);
  const { pagePath, knownPages } = env.ctx;
  const target = resolveLinkTarget(href, pagePath, knownPages);
  switch (target.kind) {
    case 'page':
      token.attrSet('href', pageHref(pagePath, target.path, target.fragment));
      token.attrSet('data-docs-path', target.path);
      if (!target.exists) {
        token.attrJoin('class', 'docs-broken-link');
        env.warnings.push(`${pagePath}: link to missing page "${target.path}"`);
      }
      return;
    case 'asset':
      token.attrSet('href', assetUrl(target.path) + target.fragment);
      warnIfMissingAsset(target.path, env);
      return;
    case 'invalid':
      removeAttr(token, 'href');
      env.warnings.push(`${pagePath}: link "${href}" removed: ${target.reason}`);
      return;
    default:
      return; // external, same-page anchor, site-absolute: as written
  }
}

function rewriteImage(token: Token, env: RenderEnv): void {
  const attr = token.attrGet('src');
  if (attr === null) return;
  const src = String(attr);
  const { pagePath, knownPages } = env.ctx;
  const target = resolveLinkTarget(src, pagePath, knownPages);
  if (target.kind === 'page' || target.kind === 'asset') {
    token.attrSet('src', assetUrl(target.path));
    if (target.kind === 'asset') warnIfMissingAsset(target.path, env);
  } else if (target.kind === 'invalid' || target.kind === 'anchor') {
    removeAttr(token, 'src');
    env.warnings.push(`${pagePath}: image "${src}" removed: ${target.kind === 'invalid' ? target.reason : 'not an image path'}`);
  }
}

function warnIfMissingAsset(path: string, env: RenderEnv): void {
  if (env.ctx.knownAssets && !env.ctx.knownAssets.has(path)) env.warnings.push(`${env.ctx.pagePath}: link to missing file "${path}"`);
}

function assetUrl(path: string): string {
  return DOCS_ASSET_BASE + path.split('/').map(encodeURIComponent).join('/');
}

function removeAttr(token: Token, name: string): void {
  token.attrs = (token.attrs ?? []).filter(([key]) => key !== name);
}

function collectHeadings(state: StateCore): void {
  const env = renderEnvs.get(state.env);
  if (!env) return;
  state.tokens.forEach((token, i) => {
    if (token.type !== 'heading_open') return;
    const level = Number(token.tag.slice(1));
    const text = (state.tokens[i + 1]?.children ?? [])
      .filter((t) => t.type === 'text' || t.type === 'code_inline')
      .map((t) => t.content)
      .join('')
      .trim();
    if (level === 1 && env.h1 === undefined && text) env.h1 = text;
    if (level === 2 || level === 3) env.headings.push({ id: String(token.attrGet('id') ?? slugify(text)), text, level });
  });
}

const admonitionClasses = ['admonition', ...admonitionTypes, ...admonitionModifiers];

const sanitizeOptions: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'ul', 'ol', 'li', 'strong', 'em', 's',
    'code', 'pre', 'span', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'div', 'details', 'summary',
  ],
  allowedAttributes: {
    h1: ['id'], h2: ['id'], h3: ['id'], h4: ['id'], h5: ['id'], h6: ['id'],
    a: ['href', 'title', 'rel', 'data-docs-path'],
    img: ['src', 'alt', 'title'],
    ol: ['start'],
    th: ['style'], td: ['style'],
    details: ['open'],
  },
  allowedClasses: {
    code: ['hljs', 'language-*'],
    // highlight.js emits hljs-* scopes plus sub-scope classes such as "function_" and "class_".
    span: ['hljs-*', /^[a-z]+_+$/],
    div: admonitionClasses,
    details: admonitionClasses,
    p: ['admonition-title'],
    summary: ['admonition-title'],
    a: ['docs-broken-link'],
  },
  allowedStyles: { th: { 'text-align': [/^(left|right|center)$/] }, td: { 'text-align': [/^(left|right|center)$/] } },
  allowedSchemes: [...allowedUrlSchemes],
  allowedSchemesByTag: {},
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    a: (tagName, attribs) => {
      const external = /^https?:/i.test(attribs['href'] ?? '');
      const { rel: _rel, ...rest } = attribs;
      return { tagName, attribs: external ? { ...rest, rel: 'noopener noreferrer' } : rest };
    },
  },
};

/** The allow-list every rendered page passes through: only the tags, attributes, classes and URL schemes the renderer emits. */
export function sanitizeDocsHtml(html: string): string {
  return sanitizeHtml(html, sanitizeOptions);
}

/**
 * Replaces the asset placeholder in rendered HTML with the URL the docs dir's files are served under
 * (e.g. '/api/docs/default/component/x/assets/'). It replaces `="{{DOCS_ASSET_BASE}}/`, the start of the
 * src/href values the renderer writes; the base is attribute-escaped, so the replacement cannot add markup
 * (a page quoting the placeholder in its text at most shows the base URL there).
 */
export function resolveDocsAssetUrls(html: string, assetBaseUrl: string): string {
  const base = assetBaseUrl.endsWith('/') ? assetBaseUrl : `${assetBaseUrl}/`;
  return html.replaceAll(`="${DOCS_ASSET_BASE}`, `="${escapeAttribute(base)}`);
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
