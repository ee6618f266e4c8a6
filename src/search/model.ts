import { z } from 'zod';

/** A document of the unified index: what a layer contributes through `SearchIndexer`. */
export interface SearchDocument {
  /** Unique within its type. */
  id: string;
  /** `software-catalog`, `techdocs`, and later `runbook`, `incident`, `pipeline-run`… */
  type: string;
  title: string;
  text: string;
  /** Portal path that opens the document. */
  location: string;
  kind?: string;
  entityType?: string;
  owner?: string;
  lifecycle?: string;
  namespace?: string;
  tags?: string[];
  entityRef?: string;
}

export const PRE_TAG = '<mark>';
export const POST_TAG = '</mark>';

/** Bracket keys (`filters[kind]=x`, `types[0]=y`) as Backstage's qs-style client sends them, nested. */
function nestBrackets(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object') return raw;
  const out: Record<string, unknown> = {};
  const filters: Record<string, unknown> = {};
  const types: unknown[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const filter = /^filters\[([^\]]+)\]$/.exec(key);
    if (filter) filters[filter[1]!] = value;
    else if (/^types\[\d*\]$/.test(key)) types.push(...(Array.isArray(value) ? value : [value]));
    else out[key] = value;
  }
  if (Object.keys(filters).length > 0) out.filters = filters;
  if (types.length > 0) out.types = types;
  return out;
}

const SearchQueryShape = z.strictObject({
  term: z.string().max(100, 'term: at most 100 characters').default(''),
  types: z
    .union([z.string().max(500), z.array(z.string().max(100)).max(20)])
    .optional()
    .transform((v) => (v === undefined ? [] : (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))),
  filters: z.record(z.string().max(100), z.union([z.string().max(300), z.array(z.string().max(300)).max(20)])).optional(),
  pageLimit: z.coerce.number().int().min(1).max(100).default(25),
  pageCursor: z.string().max(100).optional(),
});

/** Backstage's search query: `term`, `types`, `filters[kind]=…`, `pageLimit`, `pageCursor`. */
export const SearchQuery = z.preprocess(nestBrackets, SearchQueryShape);
export type SearchQuery = z.infer<typeof SearchQueryShape>;

export const filterableFields = ['kind', 'type', 'owner', 'lifecycle', 'namespace', 'tags'] as const;

/** A result's document: the indexed fields, with `type` being the entity's spec.type (Backstage's shape). */
export type ResultDocument = Omit<SearchDocument, 'id' | 'entityType' | 'type'> & { type?: string };

export interface SearchResultItem {
  type: string;
  document: ResultDocument;
  highlight?: { preTag: string; postTag: string; fields: { title?: string; text?: string } };
  rank: number;
}

function escapeRegExp(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Wraps the matched words in pre/post tags; for long text, a window around the first match. */
export function highlight(text: string, terms: readonly string[], maxLength?: number): string | undefined {
  if (terms.length === 0 || !text) return undefined;
  const pattern = new RegExp(`(${[...terms].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|')})`, 'gi');
  let slice = text;
  if (maxLength !== undefined && text.length > maxLength) {
    const first = text.search(pattern);
    const start = Math.max(0, (first < 0 ? 0 : first) - Math.floor(maxLength / 3));
    slice = `${start > 0 ? '…' : ''}${text.slice(start, start + maxLength)}${start + maxLength < text.length ? '…' : ''}`;
  }
  if (!pattern.test(slice)) return undefined;
  return slice.replace(pattern, `${PRE_TAG}$1${POST_TAG}`);
}

/** Plain text of sanitized HTML, for indexing rendered docs pages. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
