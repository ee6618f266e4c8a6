/**
 * Kyverno's wildcard matching (github.com/IGLOU-EU/go-wildcard): `*` matches any run of characters,
 * `?` exactly one, anything else itself. There is no escape, and unlike the docs' wording `*` and `?`
 * match every character, `/`, `.` and `:` included (../shared/conformance/kyverno/SEMANTICS.md §3.2).
 */
export function containsWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

export function matchWildcard(pattern: string, text: string): boolean {
  if (pattern === text) return true;
  if (pattern === '*') return true;
  if (!containsWildcard(pattern)) return false;
  // Iterative glob matching with one backtrack point: linear for the patterns policies use.
  const patternChars = Array.from(pattern);
  const textChars = Array.from(text);
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < textChars.length) {
    const pc = patternChars[p];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === textChars[t])) {
      p++;
      t++;
    } else if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (patternChars[p] === '*') p++;
  return p === patternChars.length;
}
