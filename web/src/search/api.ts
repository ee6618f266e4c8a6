import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { SearchPage, SearchResultItem } from '../../../src/search/index.js';
import { http } from '../app/http';

export type SearchType = 'software-catalog' | 'techdocs';
export type SearchResult = SearchResultItem;
export type SearchResultSet = SearchPage;

export interface SearchQuery {
  term: string;
  types: SearchType[];
  filters: { kind?: string; owner?: string };
  pageLimit: number;
}

export const searchTypes: { type: SearchType; label: string }[] = [
  { type: 'software-catalog', label: 'Software catalog' },
  { type: 'techdocs', label: 'Documentation' },
];

export function searchTypeLabel(type: string): string {
  return searchTypes.find((t) => t.type === type)?.label ?? type;
}

function fetchResults(query: SearchQuery, cursor: string | undefined, signal: AbortSignal) {
  const params = new URLSearchParams({ term: query.term, pageLimit: String(query.pageLimit) });
  if (query.types.length > 0) params.set('types', query.types.join(','));
  if (query.filters.kind) params.set('filters[kind]', query.filters.kind);
  if (query.filters.owner) params.set('filters[owner]', query.filters.owner);
  if (cursor !== undefined) params.set('pageCursor', cursor);
  return http.get<SearchResultSet>(`/api/search/query?${params.toString()}`, { signal });
}

/** The first results as one types, for the app bar's instant results. */
export function useInstantSearch(query: SearchQuery) {
  return useQuery({
    queryKey: ['search', 'instant', query],
    queryFn: ({ signal }) => fetchResults(query, undefined, signal),
    enabled: query.term.trim().length >= 2,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}

/** Every result, one page at a time behind the server's cursor. */
export function useSearchResults(query: SearchQuery) {
  return useInfiniteQuery({
    queryKey: ['search', 'results', query],
    queryFn: ({ pageParam, signal }) => fetchResults(query, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageCursor,
    enabled: query.term.trim() !== '',
  });
}

/** The groups that own something in the catalog, for the owner filter. */
export function useOwnerOptions() {
  return useQuery({
    queryKey: ['search', 'owners'],
    queryFn: async ({ signal }) => {
      const facets = await http.get<{ facets: Record<string, { value: string; count: number }[]> }>(
        '/api/catalog/entity-facets?facet=relations.ownedBy',
        { signal },
      );
      return (facets.facets['relations.ownedBy'] ?? []).map((f) => f.value).sort();
    },
    staleTime: 60_000,
  });
}
