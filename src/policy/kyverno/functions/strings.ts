/** Kyverno's string and regular-expression functions (the JMESPath page of the Kyverno docs). */
import { matchWildcard } from '../wildcard.js';
import { FunctionError, numberArg, stringArg, textArg } from './args.js';
import type { FunctionDefinition } from './types.js';

/** Go's `strings.Trim(s, cutset)`. */
function trimCutset(text: string, cutset: string): string {
  const chars = new Set(Array.from(cutset));
  const runes = Array.from(text);
  let start = 0;
  let end = runes.length;
  while (start < end && chars.has(runes[start]!)) start++;
  while (end > start && chars.has(runes[end - 1]!)) end--;
  return runes.slice(start, end).join('');
}

/** Go's `strings.Replace(s, old, new, n)`; n < 0 replaces every occurrence. */
function replaceN(text: string, old: string, replacement: string, n: number): string {
  if (n < 0) return text.split(old).join(replacement);
  let result = text;
  let from = 0;
  for (let i = 0; i < n; i++) {
    const at = result.indexOf(old, from);
    if (at < 0) break;
    result = result.slice(0, at) + replacement + result.slice(at + old.length);
    from = at + replacement.length + (old === '' ? 1 : 0);
  }
  return result;
}

/** Go's `strings.Split`: an empty separator splits into characters. */
function splitGo(text: string, separator: string): string[] {
  return separator === '' ? Array.from(text) : text.split(separator);
}

const regexCache = new Map<string, RegExp>();

/**
 * Compiles an RE2 pattern as a JavaScript RegExp. RE2 and JavaScript agree on the syntax policies
 * use; the differences handled here are leading inline flags (`(?i)`) and `(?P<name>…)` groups.
 */
function compileGoRegex(fn: string, source: string): RegExp {
  const cached = regexCache.get(source);
  if (cached) return cached;
  let pattern = source;
  let flags = '';
  const inline = /^\(\?([imsU]+)\)/.exec(pattern);
  if (inline) {
    flags = [...new Set(inline[1]!.replace('U', ''))].join('');
    pattern = pattern.slice(inline[0].length);
  }
  pattern = pattern.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$').replace(/\\A/g, '^');
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, flags);
  } catch (err) {
    throw new FunctionError(fn, `invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
  if (regexCache.size > 1000) regexCache.clear();
  regexCache.set(source, regex);
  return regex;
}

/**
 * Go's `Regexp.ReplaceAllString` (template `$1`, `${1}`, `${name}`, `$$`) or, with `literal`,
 * `ReplaceAllLiteralString`.
 */
function replaceAllGo(regex: RegExp, source: string, replacement: string, literal: boolean): string {
  const global = new RegExp(regex.source, regex.flags.includes('g') ? regex.flags : `${regex.flags}g`);
  let result = '';
  let last = 0;
  for (let match = global.exec(source); match !== null; match = global.exec(source)) {
    result += source.slice(last, match.index) + (literal ? replacement : expandTemplate(replacement, match));
    last = match.index + match[0].length;
    if (match[0].length === 0) global.lastIndex++;
  }
  return result + source.slice(last);
}

function expandTemplate(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_, whole: string, braced?: string, bare?: string) => {
    if (whole === '$') return '$';
    const name = braced ?? bare ?? '';
    if (/^\d+$/.test(name)) return match[Number(name)] ?? '';
    return match.groups?.[name] ?? '';
  });
}

export const stringFunctions: FunctionDefinition[] = [
  { name: 'compare', arity: 2, run: (a) => { const x = stringArg('compare', a, 0); const y = stringArg('compare', a, 1); return x < y ? -1 : x > y ? 1 : 0; } },
  { name: 'equal_fold', arity: 2, run: (a) => stringArg('equal_fold', a, 0).toLowerCase() === stringArg('equal_fold', a, 1).toLowerCase() },
  { name: 'replace', arity: 4, run: (a) => replaceN(stringArg('replace', a, 0), stringArg('replace', a, 1), stringArg('replace', a, 2), Math.trunc(numberArg('replace', a, 3))) },
  { name: 'replace_all', arity: 3, run: (a) => stringArg('replace_all', a, 0).split(stringArg('replace_all', a, 1)).join(stringArg('replace_all', a, 2)) },
  { name: 'to_upper', arity: 1, run: (a) => stringArg('to_upper', a, 0).toUpperCase() },
  { name: 'to_lower', arity: 1, run: (a) => stringArg('to_lower', a, 0).toLowerCase() },
  { name: 'trim', arity: 2, run: (a) => trimCutset(stringArg('trim', a, 0), stringArg('trim', a, 1)) },
  { name: 'trim_prefix', arity: 2, run: (a) => { const s = stringArg('trim_prefix', a, 0); const p = stringArg('trim_prefix', a, 1); return s.startsWith(p) ? s.slice(p.length) : s; } },
  { name: 'split', arity: 2, run: (a) => splitGo(stringArg('split', a, 0), stringArg('split', a, 1)) },
  {
    name: 'truncate',
    arity: 2,
    run: (a) => {
      const length = numberArg('truncate', a, 1);
      if (length < 0) throw new FunctionError('truncate', 'length argument must be enough to accommodate the string');
      return Array.from(stringArg('truncate', a, 0)).slice(0, Math.trunc(length)).join('');
    },
  },
  { name: 'regex_match', arity: 2, run: (a) => compileGoRegex('regex_match', stringArg('regex_match', a, 0)).test(textArg('regex_match', a, 1)) },
  {
    name: 'regex_replace_all',
    arity: 3,
    run: (a) => {
      const regex = compileGoRegex('regex_replace_all', stringArg('regex_replace_all', a, 0));
      return replaceAllGo(regex, textArg('regex_replace_all', a, 1), textArg('regex_replace_all', a, 2), false);
    },
  },
  {
    name: 'regex_replace_all_literal',
    arity: 3,
    run: (a) => {
      const regex = compileGoRegex('regex_replace_all_literal', stringArg('regex_replace_all_literal', a, 0));
      return replaceAllGo(regex, textArg('regex_replace_all_literal', a, 1), textArg('regex_replace_all_literal', a, 2), true);
    },
  },
  { name: 'pattern_match', arity: 2, run: (a) => matchWildcard(stringArg('pattern_match', a, 0), textArg('pattern_match', a, 1)) },
  {
    name: 'to_boolean',
    arity: 1,
    run: (a) => {
      const text = stringArg('to_boolean', a, 0).toLowerCase();
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw new FunctionError('to_boolean', `lowercase argument must be 'true' or 'false' (provided: '${text}')`);
    },
  },
  { name: 'path_canonicalize', arity: 1, run: (a) => cleanPath(stringArg('path_canonicalize', a, 0)) },
  {
    name: 'is_external_url',
    arity: 1,
    run: (a) => {
      let url: URL;
      try {
        url = new URL(stringArg('is_external_url', a, 0));
      } catch {
        return false;
      }
      const host = url.hostname.replace(/^\[|\]$/g, '');
      return !/^(localhost|127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|::1$|fc|fd|fe80)/i.test(host);
    },
  },
];

/** Go's `filepath.Clean` on Linux: what `path_canonicalize` returns. */
function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!rooted) parts.push('..');
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

