/**
 * Route paths (Score `route` params.path, a workload's `routes`): a literal prefix matched by whole
 * segments, as Gateway API's PathPrefix (`/api` matches `/api` and `/api/v1`, not `/apix`), or a
 * pattern as score-compose's routes write them (`/my/[^/]+/path`). Patterns come from developers and
 * run on every request the gateway serves, so they are not JavaScript regular expressions (whose
 * backtracking a pattern such as `/a*a*a*a*b` turns exponential): they are a small language —
 * literal characters, `.`, classes `[...]` and `[^...]`, quantifiers `*`, `+`, `?`, and `\` escapes —
 * matched by simulating every position at once, in time linear in the path (hand-written: RE2 for
 * Node needs a native build, and this subset is all a route needs).
 */

/** Characters a URL path may hold (RFC 3986 pchar and "/"), besides the pattern syntax. */
const PATH_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@%/]/;
const PATTERN_SYNTAX = /[[\]*+?\\]/;

interface Atom {
  test: (c: string) => boolean;
  optional: boolean;
  repeats: boolean;
}

export interface RoutePathMatcher {
  /** True when the request path (without its query) is routed by this path. */
  matches(urlPath: string): boolean;
  /** True for a pattern, false for a literal prefix. */
  pattern: boolean;
  /** Precedence among routes of one host: higher first (longer paths first, a literal before a pattern of its length). */
  rank: number;
}

/** Why `path` is not a route path; undefined when it is one. */
export function routePathProblem(path: string): string | undefined {
  try {
    compileRoutePath(path);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Compiles a route path; throws an Error naming what is wrong with it. */
export function compileRoutePath(path: string): RoutePathMatcher {
  if (!path.startsWith('/')) throw new Error(`route path "${path.slice(0, 80)}" must start with "/"`);
  if (path.length > 256) throw new Error('route path must be at most 256 characters');
  if (!PATTERN_SYNTAX.test(path)) {
    const bad = [...path].find((c) => !PATH_CHAR.test(c));
    if (bad !== undefined) throw new Error(`route path "${path.slice(0, 80)}" holds ${JSON.stringify(bad)}, which a URL path cannot${'|{}^'.includes(bad) ? ` (patterns have no groups, "|", "{}" or anchors)` : ''}`);
    const prefix = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    return {
      pattern: false,
      rank: prefix.length * 2 + 1,
      matches: (p) => prefix === '/' || p === prefix || (p.startsWith(prefix) && p.charCodeAt(prefix.length) === 47 /* / */),
    };
  }
  const atoms = parsePattern(path);
  return { pattern: true, rank: path.length * 2, matches: (p) => matchAtoms(atoms, p) };
}

function parsePattern(path: string): Atom[] {
  const atoms: Atom[] = [];
  const fail = (at: number, why: string): never => {
    throw new Error(`route path "${path.slice(0, 80)}": ${why} at character ${at + 1}; a pattern has literal characters, ".", [classes], "*", "+", "?" and "\\" escapes`);
  };
  let i = 0;
  while (i < path.length) {
    const c = path[i]!;
    let test: (x: string) => boolean;
    if (c === '[') {
      const parsed = parseClass(path, i + 1, fail);
      test = parsed.test;
      i = parsed.end;
    } else if (c === '\\') {
      const next = path[i + 1];
      if (next === undefined) fail(i, 'a "\\" ends the pattern');
      test = (x) => x === next;
      i += 2;
    } else if (c === '.') {
      test = () => true;
      i += 1;
    } else if (c === '*' || c === '+' || c === '?') {
      return fail(i, `"${c}" follows nothing it could repeat`);
    } else if (c === ']') {
      return fail(i, 'a "]" closes no class');
    } else {
      // In a pattern, these would read as groups and anchors, which the language does not have.
      if ('()$'.includes(c)) fail(i, `${JSON.stringify(c)} is not supported (groups, "|", "{}" and anchors are not)`);
      if (!PATH_CHAR.test(c)) fail(i, `${JSON.stringify(c)} is neither a URL path character nor pattern syntax (groups, "|", "{}" and anchors are not supported)`);
      test = (x) => x === c;
      i += 1;
    }
    const q = path[i];
    if (q === '*' || q === '+' || q === '?') {
      if (q === '+') atoms.push({ test, optional: false, repeats: false });
      atoms.push({ test, optional: true, repeats: q !== '?' });
      i += 1;
      if (path[i] === '*' || path[i] === '+' || path[i] === '?') fail(i, 'two quantifiers in a row');
    } else {
      atoms.push({ test, optional: false, repeats: false });
    }
  }
  return atoms;
}

function parseClass(path: string, start: number, fail: (at: number, why: string) => never): { test: (c: string) => boolean; end: number } {
  let i = start;
  const negated = path[i] === '^';
  if (negated) i += 1;
  const ranges: [number, number][] = [];
  const readChar = (): number => {
    if (path[i] === '\\') {
      if (i + 1 >= path.length) fail(i, 'a "\\" ends the pattern');
      i += 2;
      return path.charCodeAt(i - 1);
    }
    i += 1;
    return path.charCodeAt(i - 1);
  };
  let first = true;
  while (i < path.length && (path[i] !== ']' || first)) {
    if (path[i] === ']' && first) fail(i, 'an empty class');
    first = false;
    const from = readChar();
    if (path[i] === '-' && i + 1 < path.length && path[i + 1] !== ']') {
      i += 1;
      const to = readChar();
      if (to < from) fail(i - 1, 'a class range runs backwards');
      ranges.push([from, to]);
    } else {
      ranges.push([from, from]);
    }
  }
  if (path[i] !== ']') fail(start - 1, 'a "[" is never closed');
  const inRanges = (code: number) => ranges.some(([a, b]) => code >= a && code <= b);
  return { test: (c) => inRanges(c.charCodeAt(0)) !== negated, end: i + 1 };
}

/**
 * True when the atoms match a prefix of `p` that ends at a segment boundary (the end of the path, or
 * just before or after a "/"). States are atom indexes; every state advances on each character at once.
 */
function matchAtoms(atoms: readonly Atom[], p: string): boolean {
  const n = atoms.length;
  let current = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  const close = (states: Uint8Array) => {
    for (let s = 0; s < n; s++) if (states[s] && atoms[s]!.optional) states[s + 1] = 1;
  };
  current[0] = 1;
  close(current);
  for (let pos = 0; ; pos++) {
    if (current[n] && (pos === p.length || p[pos] === '/' || p[pos - 1] === '/')) return true;
    if (pos === p.length) return false;
    const c = p[pos]!;
    next.fill(0);
    let alive = false;
    for (let s = 0; s < n; s++) {
      if (!current[s] || !atoms[s]!.test(c)) continue;
      next[atoms[s]!.repeats ? s : s + 1] = 1;
      alive = true;
    }
    if (!alive) return false;
    close(next);
    [current, next] = [next, current];
  }
}
