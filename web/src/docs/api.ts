import { useQuery } from '@tanstack/react-query';
import type { Entity } from '../../../src/catalog/index.js';
import type { DocsNavItem, DocsPage } from '../../../src/docs/index.js';
import { http } from '../app/http';
import type { EntityName } from '../components/entity-refs';

/** `GET /api/docs/:namespace/:kind/:name`: the site's navigation and page list, without page bodies. */
export interface DocsSiteView {
  siteName: string;
  nav: DocsNavItem[];
  pages: Pick<DocsPage, 'path' | 'title'>[];
  warnings: string[];
}

export type { DocsNavItem, DocsPage };

export const techdocsAnnotation = 'backstage.io/techdocs-ref';

function sitePath(entity: EntityName): string {
  return `/api/docs/${[entity.namespace, entity.kind.toLowerCase(), entity.name].map(encodeURIComponent).join('/')}`;
}

const docsKey = ['docs'] as const;

export function useDocsSite(entity: EntityName) {
  return useQuery({
    queryKey: [...docsKey, 'site', entity.namespace, entity.kind.toLowerCase(), entity.name],
    queryFn: ({ signal }) => http.get<DocsSiteView>(sitePath(entity), { signal }),
  });
}

/** One rendered page; waits until the page path is known from the site's page list. */
export function useDocsPage(entity: EntityName, pagePath: string | undefined) {
  return useQuery({
    queryKey: [...docsKey, 'page', entity.namespace, entity.kind.toLowerCase(), entity.name, pagePath],
    queryFn: ({ signal }) => http.get<DocsPage>(`${sitePath(entity)}/page`, { query: { path: pagePath }, signal }),
    enabled: pagePath !== undefined,
  });
}

/** Every entity whose docs live next to its code (it carries the techdocs-ref annotation). */
export function useDocumentedEntities() {
  return useQuery({
    queryKey: [...docsKey, 'entities'],
    queryFn: async ({ signal }) => {
      const params = new URLSearchParams([
        ['filter', `metadata.annotations.${techdocsAnnotation}`],
        ['limit', '1000'],
        ['orderField', 'metadata.name,asc'],
        ['fields', 'kind,metadata,spec,relations'],
      ]);
      return (await http.get<{ items: Entity[]; totalItems: number }>(`/api/catalog/entities/by-query?${params.toString()}`, { signal })).items;
    },
  });
}
