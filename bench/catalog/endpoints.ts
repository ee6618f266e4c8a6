/**
 * The request shapes under load: the anchor's three (same paths, same page size, by-name rotating over
 * every component) plus unified search, which the Backstage anchor does not run.
 */
import type { Manifest } from './data.js';

export type EndpointKey = 'byName' | 'byQuery' | 'facets' | 'search';

/** Requests walk `prefix + %06d` over 0..count-1 with the anchor's stride, so no entity is hot. */
export interface Rotation {
  prefix: string;
  count: number;
}

export interface Endpoint {
  key: EndpointKey;
  /** The anchor's name for the same request (bench.js `endpoints()`); absent when it has none. */
  anchorKey?: 'by_name' | 'by_query' | 'facets';
  description: string;
  /** The first request, also the one whose content is checked. */
  path: string;
  rotate?: Rotation;
  /** A problem with the checked response, or undefined when it is right. */
  verify(json: unknown): string | undefined;
}

/** The anchor's wrk-report.lua stride: a prime larger than any count, so the walk covers every name. */
export const ROTATION_STRIDE = 1_000_003;

export function rotatingPaths(rotation: Rotation): () => string {
  let index = 0;
  return () => {
    index = (index + ROTATION_STRIDE) % rotation.count;
    return `${rotation.prefix}${String(index).padStart(6, '0')}`;
  };
}

interface Page {
  items?: { metadata?: { name?: string } }[];
  totalItems?: number;
}
interface Facets {
  facets?: Record<string, { value: string; count: number }[]>;
}
interface SearchPage {
  results?: { document?: { entityRef?: string } }[];
  numberOfResults?: number;
}

export function catalogEndpoints(manifest: Manifest): Endpoint[] {
  const services = manifest.expected.componentsOfTypeService;
  const known = manifest.knownComponent.name;
  const probe = 'component-000001';
  return [
    {
      key: 'byName',
      anchorKey: 'by_name',
      description: 'GET /api/catalog/entities/by-name/component/default/<name> (name rotates over all components)',
      path: `/api/catalog/entities/by-name/component/default/${known}`,
      rotate: { prefix: '/api/catalog/entities/by-name/component/default/component-', count: manifest.counts.component },
      verify: (json) => {
        const entity = json as { metadata?: { name?: string }; relations?: unknown[] };
        if (entity.metadata?.name !== known) return `expected ${known}, got ${String(entity.metadata?.name)}`;
        return Array.isArray(entity.relations) && entity.relations.length > 0 ? undefined : 'no relations';
      },
    },
    {
      key: 'byQuery',
      anchorKey: 'by_query',
      description: 'GET /api/catalog/entities/by-query?filter=kind=component,spec.type=service&limit=50',
      path: '/api/catalog/entities/by-query?filter=kind=component,spec.type=service&limit=50',
      verify: (json) => {
        const page = json as Page;
        const want = Math.min(50, services);
        if (page.items?.length !== want) return `${page.items?.length} items, expected ${want}`;
        return page.totalItems === services ? undefined : `totalItems ${page.totalItems}, expected ${services}`;
      },
    },
    {
      key: 'facets',
      anchorKey: 'facets',
      description: 'GET /api/catalog/entity-facets?facet=spec.type',
      path: '/api/catalog/entity-facets?facet=spec.type',
      verify: (json) => {
        const service = (json as Facets).facets?.['spec.type']?.find((f) => f.value === 'service');
        return service?.count === services ? undefined : `spec.type=service count ${service?.count}, expected ${services}`;
      },
    },
    {
      key: 'search',
      description: 'GET /api/search/query?term=component-<NNNNNN> (term rotates over all component names)',
      path: `/api/search/query?term=${probe}`,
      rotate: { prefix: '/api/search/query?term=component-', count: manifest.counts.component },
      verify: (json) => {
        const top = (json as SearchPage).results?.[0]?.document?.entityRef;
        return top === `component:default/${probe}` ? undefined : `top result ${String(top)}, expected component:default/${probe}`;
      },
    },
  ];
}
