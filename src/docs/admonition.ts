import type { MarkdownIt, StateBlock } from 'markdown-it';

/**
 * Admonition types MkDocs Material styles. The class attribute is limited to these (and the `inline`/`end`
 * modifiers) so page authors cannot attach the portal's own CSS classes; other types keep their title and
 * render in the `note` style.
 */
export const admonitionTypes: ReadonlySet<string> = new Set([
  'note', 'abstract', 'summary', 'tldr', 'info', 'todo', 'tip', 'hint', 'important', 'success', 'check', 'done',
  'question', 'help', 'faq', 'warning', 'caution', 'attention', 'failure', 'fail', 'missing', 'danger', 'error',
  'bug', 'example', 'quote', 'cite',
]);
export const admonitionModifiers: ReadonlySet<string> = new Set(['inline', 'end']);

// Python-Markdown's admonition and pymdownx.details headers: `!!! type "Title"`, `??? type`, `???+ type`.
const headerPattern = /^(!!!|\?\?\?\+?) ?([\w-]+(?: +[\w-]+)*)(?: +"(.*)")? *$/;

/**
 * A markdown-it block rule for MkDocs admonitions: a header line, then a body indented by four spaces.
 * `!!!` renders `<div class="admonition note"><p class="admonition-title">…</p>…</div>`; `???` renders a
 * collapsible `<details class="admonition note"><summary class="admonition-title">…</summary>…</details>`,
 * open with `???+`. `""` as the title drops the title of a `!!!` block.
 */
export function admonitionPlugin(md: MarkdownIt): void {
  md.block.ruler.before('fence', 'admonition', admonitionRule);
}

function admonitionRule(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  const indent = state.sCount[startLine] ?? 0;
  if (indent - state.blkIndent >= 4) return false;
  const start = (state.bMarks[startLine] ?? 0) + (state.tShift[startLine] ?? 0);
  const match = headerPattern.exec(state.src.slice(start, state.eMarks[startLine]));
  if (!match) return false;
  if (silent) return true;
  const [, marker = '!!!', words = 'note', explicitTitle] = match;
  const [kind = 'note', ...modifiers] = words.toLowerCase().split(/ +/);
  const collapsible = marker.startsWith('???');
  const classes = ['admonition', admonitionTypes.has(kind) ? kind : 'note', ...modifiers.filter((m) => admonitionModifiers.has(m))];
  const title = explicitTitle === undefined || (explicitTitle === '' && collapsible) ? defaultTitle(kind) : explicitTitle;

  // The body: following lines indented four more than the header, blank lines included, trailing blanks not.
  const bodyIndent = indent + 4;
  let bodyEnd = startLine + 1;
  for (let line = startLine + 1; line < endLine; line++) {
    if (state.isEmpty(line)) continue;
    if ((state.sCount[line] ?? 0) < bodyIndent) break;
    bodyEnd = line + 1;
  }

  const tag = collapsible ? 'details' : 'div';
  const open = state.push('admonition_open', tag, 1);
  open.attrSet('class', classes.join(' '));
  if (marker === '???+') open.attrSet('open', '');
  open.block = true;
  open.markup = marker;
  open.info = kind;
  open.map = [startLine, bodyEnd];
  if (title !== '') {
    const titleOpen = state.push('admonition_title_open', collapsible ? 'summary' : 'p', 1);
    titleOpen.attrSet('class', 'admonition-title');
    const inline = state.push('inline', '', 0);
    inline.content = title;
    inline.map = [startLine, startLine + 1];
    inline.children = [];
    state.push('admonition_title_close', collapsible ? 'summary' : 'p', -1);
  }

  const saved = { parentType: state.parentType, lineMax: state.lineMax, blkIndent: state.blkIndent };
  // Like a blockquote: the body is parsed as blocks of its own, bounded by bodyEnd and the deeper indent.
  state.parentType = 'blockquote';
  state.lineMax = bodyEnd;
  state.blkIndent = bodyIndent;
  state.md.block.tokenize(state, startLine + 1, bodyEnd);
  state.parentType = saved.parentType;
  state.lineMax = saved.lineMax;
  state.blkIndent = saved.blkIndent;

  const close = state.push('admonition_close', tag, -1);
  close.block = true;
  close.markup = marker;
  state.line = bodyEnd;
  return true;
}

function defaultTitle(kind: string): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}
