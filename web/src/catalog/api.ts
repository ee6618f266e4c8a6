import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Entity } from '../../../src/catalog/index.js';
import { http } from '../app/http';
import { stringifyEntityRef, type EntityName } from '../components/entity-refs';

/** One page of `GET /api/catalog/entities/by-query` (Backstage's wire format). */
export interface EntityQueryPage {
  items: Entity[];
  totalItems: number;
  pageInfo: { nextCursor?: string; prevCursor?: string };
}

export type FacetCounts = Record<string, { value: string; count: number }[]>;

export interface EntityListQuery {
  /** One `filter=` value (statements ANDed across keys); undefined for every entity. */
  filter: string | undefined;
  text: string;
  limit: number;
  /** A cursor from a previous page; it carries the filter, text and order, so those are not sent again. */
  cursor: string | undefined;
}

const catalogKey = ['catalog'] as const;
const listFields = 'kind,metadata.name,metadata.namespace,metadata.title,metadata.description,metadata.tags,metadata.uid,spec,relations';
export const textSearchFields = 'metadata.name,metadata.title,metadata.description';

function withParams(path: string, params: [string, string][]): string {
  const search = new URLSearchParams(params).toString();
  return search === '' ? path : `${path}?${search}`;
}

/** One page of entities, the previous page kept on screen while the next one loads. */
export function useEntityList(query: EntityListQuery) {
  return useQuery({
    queryKey: [...catalogKey, 'list', query],
    queryFn: ({ signal }) => {
      const params: [string, string][] = [['limit', String(query.limit)]];
      if (query.cursor !== undefined) {
        params.push(['cursor', query.cursor]);
      } else {
        if (query.filter !== undefined) params.push(['filter', query.filter]);
        params.push(['orderField', 'metadata.name,asc'], ['fields', listFields]);
        if (query.text.trim() !== '') params.push(['fullTextFilterTerm', query.text.trim()], ['fullTextFilterFields', textSearchFields]);
      }
      return http.get<EntityQueryPage>(withParams('/api/catalog/entities/by-query', params), { signal });
    },
    placeholderData: keepPreviousData,
  });
}

/** Distinct values with counts of one or more fields, among the entities a filter selects. */
export function useFacets(facets: string[], filter: string | undefined) {
  return useQuery({
    queryKey: [...catalogKey, 'facets', facets, filter],
    queryFn: async ({ signal }) => {
      const params: [string, string][] = facets.map((facet) => ['facet', facet]);
      if (filter !== undefined) params.push(['filter', filter]);
      return (await http.get<{ facets: FacetCounts }>(withParams('/api/catalog/entity-facets', params), { signal })).facets;
    },
    placeholderData: keepPreviousData,
  });
}

/** Every entity one filter selects, by name (the docs index, small lists). */
export function useEntitiesByFilter(filter: string, limit = 500) {
  return useQuery({
    queryKey: [...catalogKey, 'by-filter', filter, limit],
    queryFn: ({ signal }) =>
      http.get<EntityQueryPage>(
        withParams('/api/catalog/entities/by-query', [
          ['filter', filter],
          ['limit', String(limit)],
          ['orderField', 'metadata.name,asc'],
          ['fields', listFields],
        ]),
        { signal },
      ),
  });
}

function entityKey(name: EntityName) {
  return [...catalogKey, 'entity', stringifyEntityRef(name)] as const;
}

export function useEntity(name: EntityName) {
  return useQuery({
    queryKey: entityKey(name),
    queryFn: ({ signal }) =>
      http.get<Entity>(
        `/api/catalog/entities/by-name/${[name.kind, name.namespace, name.name].map(encodeURIComponent).join('/')}`,
        { signal },
      ),
  });
}

/** Related entities by ref, for their titles, kinds and types; a ref the catalog does not know maps to null. */
export function useEntitiesByRefs(refs: string[]) {
  const unique = [...new Set(refs)].sort();
  return useQuery({
    queryKey: [...catalogKey, 'by-refs', unique],
    queryFn: async ({ signal }) => {
      if (unique.length === 0) return new Map<string, Entity | null>();
      const body = { entityRefs: unique, fields: ['kind', 'metadata', 'spec', 'relations'] };
      const { items } = await http.post<{ items: (Entity | null)[] }>('/api/catalog/entities/by-refs', body, { signal });
      return new Map(unique.map((ref, i) => [ref, items[i] ?? null]));
    },
  });
}

/** Asks the catalog to re-read the entity's location now, then shows the result. */
export function useRefreshEntity(name: EntityName) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => http.post<void>('/api/catalog/refresh', { entityRef: stringifyEntityRef(name) }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: catalogKey }),
  });
}

export interface LocationAnalysis {
  existingEntityFiles: { location: { type: string; target: string }; isRegistered: boolean; entity: Entity }[];
  generateEntities: unknown[];
}

export interface RegisteredLocation {
  location: { id: string; type: string; target: string; entityRef: string };
  entities: Entity[];
}

export function useAnalyzeLocation() {
  return useMutation({
    mutationFn: (target: string) =>
      http.post<LocationAnalysis>('/api/catalog/analyze-location', { location: { type: 'url', target } }),
  });
}

export function useRegisterLocation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (target: string) => http.post<RegisteredLocation>('/api/catalog/locations', { type: 'url', target }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: catalogKey }),
  });
}
