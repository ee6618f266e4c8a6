/**
 * HTTP/1.1 field lines (RFC 9112 §5), scanned as node:http's llhttp judges them: shared by the
 * kernel's front end (request heads) and the gateway's response parser.
 */

/** RFC 9110 §5.6.2 tchar. */
const TOKEN_CHARS = (() => {
  const table = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") table[c.charCodeAt(0)] = 1;
  return table;
})();
const isTokenChar = (c: number): boolean => c < 128 && TOKEN_CHARS[c] === 1;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09;

/** Where the parts of a field line lie in its head's text (filled by scanFieldLine). */
export interface FieldLineBounds {
  /** The colon ending the name (the name starts at the line's start). */
  colon: number;
  /** The value, without the whitespace around it: `from` to `to`. */
  from: number;
  to: number;
}

/**
 * Scans the field line of `text` from `start` to `eol` (its CRLF) into `out`, which the caller reuses:
 * a head is parsed without an object per line (one per line cost the gateway 9% more CPU per request).
 * 'name': the name is malformed (empty, not a token, or not followed at once by the colon: obsolete
 * line folding and a space before the colon among them, RFC 9112 §5.1–5.2); 'value': the value holds a
 * control character other than tab. node:http refuses both. Scanned by character codes: regular
 * expressions and split() on each line cost several times more per head.
 */
export function scanFieldLine(text: string, start: number, eol: number, out: FieldLineBounds): 'ok' | 'name' | 'value' {
  let colon = start;
  while (colon < eol && isTokenChar(text.charCodeAt(colon))) colon++;
  if (colon === start || colon === eol || text.charCodeAt(colon) !== 0x3a) return 'name';
  let from = colon + 1;
  let to = eol;
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  out.colon = colon;
  out.from = from;
  out.to = to;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return 'value';
  }
  return 'ok';
}
