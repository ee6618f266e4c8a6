import { FAILSAFE_SCHEMA, loadAll, Type } from 'js-yaml';
import { parseAllDocuments, parse as parseYamlText } from 'yaml';

export interface ParsedDocument {
  index: number;
  value: unknown;
  error?: string;
}

/** Limits against YAML bombs: aliases expand at most this many times per document. */
const MAX_ALIASES = 100;

/**
 * YAML 1.2's core schema exactly as the `yaml` package resolves plain scalars (yaml/dist/schema/core),
 * for js-yaml: null, bool, int (decimal, 0o octal, 0x hex) and float (.inf, .nan, exponents).
 */
const plain = (tag: string, test: RegExp, construct: (s: string) => unknown) =>
  new Type(tag, { kind: 'scalar', resolve: (s) => s !== null && test.test(s), construct: (s) => construct(s ?? '') });
const coreSchema = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type('tag:yaml.org,2002:null', { kind: 'scalar', resolve: (s) => s === null || /^(?:~|[Nn]ull|NULL)?$/.test(s), construct: () => null }),
    plain('tag:yaml.org,2002:bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === 't' || s[0] === 'T'),
    plain('tag:yaml.org,2002:int', /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+)$/, (s) =>
      s[0] === '0' && (s[1] === 'o' || s[1] === 'x') ? parseInt(s.slice(2), s[1] === 'o' ? 8 : 16) : parseInt(s, 10),
    ),
    plain(
      'tag:yaml.org,2002:float',
      /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/,
      (s) => (/nan$/i.test(s) ? NaN : /inf$/i.test(s) ? (s[0] === '-' ? -Infinity : Infinity) : parseFloat(s)),
    ),
  ],
});

/**
 * What only the `yaml` package reads the way the catalog always has: anchors and aliases (its alias
 * limit), tags, directives, `?` complex keys, collections or null as keys (and any flow collection
 * nested in another, where a key may be one). Matching text inside a
 * quoted string merely takes the slower path.
 */
const FULL_PARSER_ONLY = /(?:^|[\s[{,:])[&*!?]|^%|[\]}]\s*:(?:\s|$)|[[{,]\s*[[{]|(?:^|[\s[{,])(?:~|null|Null|NULL)?\s*:(?:\s|$)/m;

/**
 * js-yaml reads plain catalog files ~10× faster than `yaml` (issue #3: YAML was the largest part of
 * ingesting 100,000 entities). Undefined when the text needs `yaml` (see FULL_PARSER_ONLY) or js-yaml
 * rejects it: `yaml` then reads it, with its per-document errors and positions.
 */
export function parseYamlFast(text: string): unknown[] | undefined {
  if (FULL_PARSER_ONLY.test(text)) return undefined;
  try {
    const docs = loadAll(text, null, { schema: coreSchema });
    // js-yaml reads a file of comments alone as one null document, `yaml` as none.
    return docs.length === 1 && docs[0] === null ? undefined : docs;
  } catch {
    return undefined;
  }
}

/** Parses every document of a multi-document YAML file; one bad document does not hide the others. */
export function parseYamlDocuments(text: string, source: string): ParsedDocument[] {
  const fast = parseYamlFast(text);
  if (fast) return fast.map((value, index) => ({ index, value }));
  return parseYamlDocumentsFully(text, source);
}

/** `parseYamlDocuments` with the `yaml` package alone (the reference the fast path is tested against). */
export function parseYamlDocumentsFully(text: string, source: string): ParsedDocument[] {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc, index) => {
    const problem = doc.errors[0];
    if (problem) {
      const pos = problem.linePos?.[0];
      return { index, value: undefined, error: `${source}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${problem.message.split('\n')[0]}` };
    }
    try {
      return { index, value: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
    } catch (err) {
      return { index, value: undefined, error: `${source}: document ${index + 1}: ${(err as Error).message}` };
    }
  });
}

export function parseYamlValue(text: string, source: string): unknown {
  try {
    return parseYamlText(text, { maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw new Error(`${source}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}
