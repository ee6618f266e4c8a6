/**
 * Go RE2 → JavaScript RegExp translation for gitleaks rule files.
 *
 * Node 20's RegExp rejects several RE2 forms gitleaks rules use: inline flags in mid-pattern
 * (`\b(p8e-(?i)[a-z0-9]{32})`), flag groups (`(?i:…)`, `(?-i:…)`, `(?s:.)`), `\z`, `\A`, `(?P<name>…)`,
 * POSIX classes (`[[:alpha:]]`) and `\Q…\E` quoting (../shared/notes/devsecops.md §1.1, 38 of the
 * default rules). RE2 flags hold from where they are set to the end of the enclosing group, across `|`.
 * When a pattern is case-insensitive throughout we use JS's `i` flag; otherwise each letter in a
 * case-insensitive span becomes a class of both cases, which is exact for ASCII.
 */

export interface TranslatedRegex {
  source: string;
  flags: string;
}

export class Re2SyntaxError extends Error {
  override readonly name = 'Re2SyntaxError';
}

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
}

const posixClasses: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: '0-9a-zA-Z', upper: 'A-Z', lower: 'a-z', space: '\\t\\n\\v\\f\\r ',
  blank: '\\t ', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~', graph: '!-~', ascii: '\\x00-\\x7f',
};

const isLetter = (c: string) => /^[a-zA-Z]$/.test(c);
const escapeLiteral = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const hex = (code: number) => `\\x${code.toString(16).padStart(2, '0')}`;
/** A code point as JS pattern text, escaped for use inside a class or outside one. */
const charText = (code: number, inClass: boolean) => {
  if (code < 0x20 || code > 0x7e) return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : hex(code);
  const ch = String.fromCharCode(code);
  return inClass ? ch.replace(/[\\\][^-]/, '\\$&') : escapeLiteral(ch);
};

/** Ranges of the other case within [lo, hi] (ASCII letters only). */
function otherCaseRanges(lo: number, hi: number): string {
  let out = '';
  const a = Math.max(lo, 0x61), z = Math.min(hi, 0x7a);
  if (a <= z) out += `${String.fromCharCode(a - 32)}-${String.fromCharCode(z - 32)}`;
  const A = Math.max(lo, 0x41), Z = Math.min(hi, 0x5a);
  if (A <= Z) out += `${String.fromCharCode(A + 32)}-${String.fromCharCode(Z + 32)}`;
  return out;
}

/** Reads one escape at `pattern[at] === '\\'`; returns its JS text, the literal code point if it is one, and the next index. */
function readEscape(pattern: string, at: number, inClass: boolean): { text: string; code?: number; next: number } {
  const c = pattern[at + 1];
  if (c === undefined) throw new Re2SyntaxError('trailing backslash');
  if (c === 'x') {
    if (pattern[at + 2] === '{') {
      const end = pattern.indexOf('}', at + 3);
      if (end < 0) throw new Re2SyntaxError('unterminated \\x{…}');
      const code = parseInt(pattern.slice(at + 3, end), 16);
      if (!Number.isFinite(code)) throw new Re2SyntaxError(`bad hex escape ${pattern.slice(at, end + 1)}`);
      return { text: charText(code, inClass), code, next: end + 1 };
    }
    const code = parseInt(pattern.slice(at + 2, at + 4), 16);
    if (!/^[0-9a-fA-F]{2}$/.test(pattern.slice(at + 2, at + 4))) throw new Re2SyntaxError(`bad hex escape at offset ${at}`);
    return { text: hex(code), code, next: at + 4 };
  }
  if (c === 'z') {
    if (inClass) throw new Re2SyntaxError('\\z inside a character class');
    return { text: '$', next: at + 2 };
  }
  if (c === 'A') {
    if (inClass) throw new Re2SyntaxError('\\A inside a character class');
    return { text: '^', next: at + 2 };
  }
  if (c === 'C') throw new Re2SyntaxError('\\C (any byte) has no JavaScript equivalent');
  if (c === 'p' || c === 'P') {
    const name = pattern[at + 2] === '{' ? pattern.slice(at + 3, pattern.indexOf('}', at + 3)) : (pattern[at + 2] ?? '');
    const len = pattern[at + 2] === '{' ? name.length + 3 : 2;
    return { text: `\\${c}{${name}}`, next: at + 1 + len };
  }
  if ('dDwWsS'.includes(c)) return { text: `\\${c}`, next: at + 2 };
  if ('bB'.includes(c) && !inClass) return { text: `\\${c}`, next: at + 2 };
  const named: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11, a: 7 };
  if (named[c] !== undefined) return { text: hex(named[c]), code: named[c], next: at + 2 };
  if (/[0-7]/.test(c)) {
    const m = /^[0-7]{1,3}/.exec(pattern.slice(at + 1))!;
    if (c !== '0' && !inClass) throw new Re2SyntaxError('backreferences are not RE2 syntax');
    return { text: hex(parseInt(m[0], 8)), code: parseInt(m[0], 8), next: at + 1 + m[0].length };
  }
  if (/[a-zA-Z]/.test(c)) throw new Re2SyntaxError(`unknown escape \\${c}`);
  // An escaped punctuation character is that character.
  return { text: charText(c.codePointAt(0)!, inClass), code: c.codePointAt(0)!, next: at + 2 };
}

/** Translates a bracket expression starting at `pattern[at] === '['`. */
function readClass(pattern: string, at: number, flags: Flags): { text: string; next: number } {
  let i = at + 1;
  let negate = false;
  if (pattern[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  let first = true;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === ']' && !first) break;
    first = false;
    if (c === '[' && pattern[i + 1] === ':') {
      const end = pattern.indexOf(':]', i + 2);
      if (end < 0) throw new Re2SyntaxError('unterminated POSIX class');
      let name = pattern.slice(i + 2, end);
      const neg = name.startsWith('^');
      if (neg) name = name.slice(1);
      const ranges = posixClasses[name];
      if (ranges === undefined) throw new Re2SyntaxError(`unknown POSIX class [:${name}:]`);
      if (neg) throw new Re2SyntaxError(`negated POSIX class [:^${name}:] inside a class is not supported`);
      body += flags.i && (name === 'upper' || name === 'lower') ? 'a-zA-Z' : ranges;
      i = end + 2;
      continue;
    }
    let lo: number | undefined;
    let text: string;
    if (c === '\\') {
      const e = readEscape(pattern, i, true);
      lo = e.code;
      text = e.text;
      i = e.next;
    } else {
      lo = c.codePointAt(0)!;
      text = charText(lo, true);
      i += c.length;
    }
    // A range lo-hi (a trailing '-' before ']' is a literal).
    if (lo !== undefined && pattern[i] === '-' && pattern[i + 1] !== ']' && i + 1 < pattern.length) {
      let hi: number;
      let hiText: string;
      if (pattern[i + 1] === '\\') {
        const e = readEscape(pattern, i + 1, true);
        if (e.code === undefined) throw new Re2SyntaxError(`bad range end at offset ${i + 1}`);
        hi = e.code;
        hiText = e.text;
        i = e.next;
      } else {
        hi = pattern.codePointAt(i + 1)!;
        hiText = charText(hi, true);
        i += 2;
      }
      if (hi < lo) throw new Re2SyntaxError(`invalid range at offset ${i}`);
      body += `${text}-${hiText}`;
      if (flags.i) body += otherCaseRanges(lo, hi);
      continue;
    }
    body += text;
    if (flags.i && lo !== undefined && isLetter(String.fromCharCode(lo))) body += otherCaseRanges(lo, lo);
  }
  if (pattern[i] !== ']') throw new Re2SyntaxError('missing ] in a character class');
  return { text: `[${negate ? '^' : ''}${body}]`, next: i + 1 };
}

function parseFlags(spec: string, current: Flags): Flags {
  const next = { ...current };
  let on = true;
  for (const f of spec) {
    if (f === '-') on = false;
    else if (f === 'i' || f === 's' || f === 'm') next[f] = on;
    else if (f === 'U') throw new Re2SyntaxError('the ungreedy flag (?U) is not supported');
    else throw new Re2SyntaxError(`unknown flag ${f}`);
  }
  return next;
}

interface Translator {
  pattern: string;
  expandCase: boolean;
  /** Flags of the enclosing groups, innermost last. */
  stack: Flags[];
  flags: Flags;
  out: string;
  i: number;
}

/** A letter under (?i) as a class of both cases (when the JS `i` flag is not in use). */
function literal(t: Translator, ch: string): string {
  return t.expandCase && t.flags.i && isLetter(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch;
}

/** `(`, `(?:`, `(?i)`, `(?i:`, `(?P<name>`: pushes the enclosing flags and emits the JS group. */
function openGroup(t: Translator): void {
  if (t.pattern[t.i + 1] !== '?') {
    t.stack.push(t.flags);
    t.out += '(';
    t.i++;
    return;
  }
  const rest = t.pattern.slice(t.i + 2);
  const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
  const flagGroup = /^([a-zA-Z-]*)(:|\))/.exec(rest);
  if (named) {
    t.stack.push(t.flags);
    t.out += `(?<${named[1]}>`;
    t.i += 2 + named[0].length;
  } else if (flagGroup) {
    const next = parseFlags(flagGroup[1]!, t.flags);
    if (flagGroup[2] === ':') {
      t.stack.push(t.flags);
      t.out += '(?:';
    }
    t.flags = next; // a bare (?i) holds to the end of the enclosing group
    t.i += 2 + flagGroup[0].length;
  } else {
    throw new Re2SyntaxError(`unsupported group syntax (?${rest.slice(0, 3)} (RE2 has no lookaround)`);
  }
}

/** `\\…` outside a class, including `\\Q…\\E` quoting. */
function escape(t: Translator): void {
  if (t.pattern[t.i + 1] === 'Q') {
    const end = t.pattern.indexOf('\\E', t.i + 2);
    for (const ch of t.pattern.slice(t.i + 2, end < 0 ? undefined : end)) t.out += isLetter(ch) ? literal(t, ch) : escapeLiteral(ch);
    t.i = end < 0 ? t.pattern.length : end + 2;
    return;
  }
  const e = readEscape(t.pattern, t.i, false);
  t.out += e.code !== undefined && isLetter(String.fromCharCode(e.code)) ? literal(t, String.fromCharCode(e.code)) : e.text;
  t.i = e.next;
}

/** `{n,m}` passes through when it is a repetition; anything else is a literal brace in RE2. */
function brace(t: Translator): void {
  const rep = /^\{(\d+)(,(\d*))?\}/.exec(t.pattern.slice(t.i));
  if (!rep) {
    t.out += '\\{';
    t.i++;
    return;
  }
  if (Number(rep[1]) > 1000 || Number(rep[3] || 0) > 1000) throw new Re2SyntaxError(`repetition ${rep[0]} exceeds RE2's limit of 1000`);
  t.out += rep[0];
  t.i += rep[0].length;
}

/** Translates the pattern with the given starting flags, expanding case-insensitivity per letter. */
function translateBody(pattern: string, start: Flags, expandCase: boolean): string {
  const t: Translator = { pattern, expandCase, stack: [], flags: start, out: '', i: 0 };
  while (t.i < pattern.length) {
    const c = pattern[t.i]!;
    if (c === '\\') escape(t);
    else if (c === '[') {
      const r = readClass(pattern, t.i, expandCase ? t.flags : { ...t.flags, i: false });
      t.out += r.text;
      t.i = r.next;
    } else if (c === '(') openGroup(t);
    else if (c === ')') {
      const popped = t.stack.pop();
      if (popped === undefined) throw new Re2SyntaxError(`unexpected ) at offset ${t.i}`);
      t.flags = popped;
      t.out += ')';
      t.i++;
    } else if (c === '{') brace(t);
    else {
      const ch = String.fromCodePoint(pattern.codePointAt(t.i)!);
      if (ch === '.') t.out += t.flags.s ? '[\\s\\S]' : '[^\\n]';
      else if (ch === '^') t.out += t.flags.m ? '(?<=^|\\n)' : '^';
      else if (ch === '$') t.out += t.flags.m ? '(?=\\n|$)' : '$';
      else if (ch === '}' || ch === ']' || ch === '/') t.out += `\\${ch}`;
      else t.out += literal(t, ch);
      t.i += ch.length;
    }
  }
  if (t.stack.length > 0) throw new Re2SyntaxError('missing )');
  return t.out;
}

/** Whether any flag group in the pattern turns `i` off (so the JS `i` flag cannot be used). */
function turnsCaseOff(pattern: string): boolean {
  return /\(\?[a-zA-Z]*-[a-zA-Z]*i/.test(pattern);
}

/**
 * Translates an RE2 pattern to a JS RegExp source and flags; throws Re2SyntaxError with the reason
 * when the pattern uses RE2 syntax we cannot express, or when the result does not compile.
 */
export function translateRe2(pattern: string): TranslatedRegex {
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  const leadingFlags = leading ? parseFlags(leading[1]!, { i: false, s: false, m: false }) : { i: false, s: false, m: false };
  const body = leading ? pattern.slice(leading[0].length) : pattern;
  const mixedCase = turnsCaseOff(body) || (!leadingFlags.i && /\(\?[a-zA-Z]*i/.test(body));
  const useIFlag = leadingFlags.i && !mixedCase;
  const source = translateBody(body, leadingFlags, !useIFlag);
  const flags = (useIFlag ? 'i' : '') + (/\\[pP]\{/.test(source) ? 'u' : '');
  try {
    new RegExp(source, flags);
  } catch (err) {
    throw new Re2SyntaxError(`the translated pattern does not compile: ${(err as Error).message}`);
  }
  return { source, flags };
}

/** Compiles an RE2 pattern to a JS RegExp with extra flags (e.g. 'g', 'd'). */
export function compileRe2(pattern: string, extraFlags = ''): RegExp {
  const t = translateRe2(pattern);
  return new RegExp(t.source, [...new Set(t.flags + extraFlags)].join(''));
}
