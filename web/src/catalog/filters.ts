/**
 * The catalog list's state lives in the URL query, so a filtered view is a link one can share:
 * `/catalog?kind=component&type=service&owner=group:default/team-a&q=pay&limit=25`.
 */

/** The facets the list filters on, each a multi-select; `param` is its key in the portal URL. */
export const facetFilters = [
  { param: 'type', field: 'spec.type', label: 'Type' },
  { param: 'owner', field: 'relations.ownedBy', label: 'Owner' },
  { param: 'lifecycle', field: 'spec.lifecycle', label: 'Lifecycle' },
  { param: 'tag', field: 'metadata.tags', label: 'Tags' },
] as const;

export type FacetParam = (typeof facetFilters)[number]['param'];

export interface CatalogListState {
  /** Lowercase kind, or '' for every kind. */
  kind: string;
  selected: Record<FacetParam, string[]>;
  text: string;
  limit: number;
  cursor: string | undefined;
  /** Zero-based page the cursor leads to, for "21–40 of 57". */
  page: number;
}

export const pageSizes = [10, 25, 50, 100] as const;
export const defaultKind = 'component';
const defaultLimit = 25;

export function readListState(params: URLSearchParams): CatalogListState {
  const limit = Number(params.get('limit'));
  const page = Number(params.get('page'));
  const selected = Object.fromEntries(facetFilters.map((f) => [f.param, params.getAll(f.param).filter(Boolean)])) as CatalogListState['selected'];
  return {
    kind: normalizeKind((params.get('kind') ?? defaultKind).toLowerCase()),
    selected,
    text: params.get('q') ?? '',
    limit: (pageSizes as readonly number[]).includes(limit) ? limit : defaultLimit,
    cursor: params.get('cursor') ?? undefined,
    page: Number.isInteger(page) && page > 0 ? page : 0,
  };
}

/** The URL query of a state; defaults are left out so plain links stay short. */
export function writeListState(state: CatalogListState): URLSearchParams {
  const params = new URLSearchParams();
  if (state.kind !== defaultKind) params.set('kind', state.kind === '' ? 'all' : state.kind);
  for (const f of facetFilters) for (const value of state.selected[f.param]) params.append(f.param, value);
  if (state.text !== '') params.set('q', state.text);
  if (state.limit !== defaultLimit) params.set('limit', String(state.limit));
  if (state.cursor !== undefined) {
    params.set('cursor', state.cursor);
    params.set('page', String(state.page));
  }
  return params;
}

/** `kind=all` in the URL means no kind filter (''). */
function normalizeKind(kind: string): string {
  return kind === 'all' ? '' : kind;
}

/**
 * The catalog filter for a state: one `filter=` value whose statements are ANDed across keys and ORed
 * within a key. `except` leaves one facet out, so that facet's counts show what choosing another value gives.
 */
export function buildFilter(state: Pick<CatalogListState, 'kind' | 'selected'>, except?: FacetParam): string | undefined {
  const statements: string[] = [];
  if (state.kind !== '') statements.push(`kind=${state.kind}`);
  for (const f of facetFilters) {
    if (f.param === except) continue;
    for (const value of state.selected[f.param]) statements.push(`${f.field}=${value}`);
  }
  return statements.length === 0 ? undefined : statements.join(',');
}

export function hasFacetSelection(state: CatalogListState): boolean {
  return facetFilters.some((f) => state.selected[f.param].length > 0);
}
