import type { Catalog, Entity, StoredEntity } from '../catalog/index.js';
import type { DocsService } from '../docs/index.js';
import { authorize, InputError, type Kernel, type Principal, type Subscription } from '../kernel/index.js';
import { openSearchIndex } from './fts-index.js';
import { filterableFields, highlight, htmlToText, POST_TAG, PRE_TAG, type SearchDocument, type SearchQuery, type SearchResultItem } from './model.js';

/** How a layer puts documents into the unified index (and takes them out). */
export interface SearchIndexer {
  upsert(documents: readonly SearchDocument[]): void;
  remove(type: string, ids: readonly string[]): void;
}

export interface SearchPage {
  results: SearchResultItem[];
  nextPageCursor?: string;
  previousPageCursor?: string;
  numberOfResults: number;
}

/** Unified search over catalog entities and docs pages (templates are catalog entities of kind Template). */
export interface Search extends SearchIndexer {
  query(principal: Principal, query: SearchQuery): Promise<SearchPage>;
  /** Resolves when everything changed so far is indexed. */
  settled(): Promise<void>;
  start(): Promise<void>;
  stop(): void;
}

const CATALOG = 'software-catalog';
const TECHDOCS = 'techdocs';
const SYSTEM: Principal = { kind: 'system', name: 'search' };

export function entityLocation(ref: { kind: string; namespace: string; name: string }): string {
  return `/catalog/${encodeURIComponent(ref.namespace.toLowerCase())}/${encodeURIComponent(ref.kind.toLowerCase())}/${encodeURIComponent(ref.name)}`;
}

function entityDocument(stored: StoredEntity): SearchDocument {
  const e: Entity = stored.entity;
  const namespace = e.metadata.namespace ?? 'default';
  const spec = (e.spec ?? {}) as Record<string, unknown>;
  const profile = (spec.profile ?? {}) as { displayName?: string; email?: string };
  const text = [e.metadata.description, profile.displayName, profile.email, typeof spec.type === 'string' ? spec.type : undefined].filter(Boolean).join(' ');
  return {
    id: stored.ref,
    type: CATALOG,
    title: e.metadata.title ?? e.metadata.name,
    text,
    location: entityLocation({ kind: e.kind, namespace, name: e.metadata.name }),
    kind: e.kind,
    entityType: typeof spec.type === 'string' ? spec.type : 'other',
    owner: stored.ownerRef ?? undefined,
    lifecycle: typeof spec.lifecycle === 'string' ? spec.lifecycle : undefined,
    namespace,
    tags: e.metadata.tags ?? [],
    entityRef: stored.ref,
  };
}

export function createSearch(deps: { kernel: Kernel; catalog: Catalog; docs: DocsService }): Search {
  const { kernel, catalog, docs } = deps;
  const log = kernel.logger.child({ layer: 'search' });
  const index = openSearchIndex();
  /** Docs pages indexed per entity, so pages that disappear leave the index. */
  const docsPagesOf = new Map<string, string[]>();
  let watermark: { updatedAt: string; uid: string } | undefined;
  let syncing: Promise<void> = Promise.resolve();
  let pending = false;
  let subscription: Subscription | undefined;
  let stopped = false;

  const indexer: SearchIndexer = {
    upsert: (documents) => index.upsert(documents),
    remove: (type, ids) => index.remove(type, ids),
  };

  async function indexDocs(stored: StoredEntity) {
    const ref = stored.ref;
    const previous = docsPagesOf.get(ref) ?? [];
    let pages: SearchDocument[] = [];
    if (stored.entity.metadata.annotations?.['backstage.io/techdocs-ref']) {
      try {
        const site = await docs.getSite(ref, await catalog.docsFolderOf(SYSTEM, ref));
        const base = entityLocation({ kind: stored.entity.kind, namespace: stored.entity.metadata.namespace ?? 'default', name: stored.entity.metadata.name }).replace(/^\/catalog/, '/docs');
        pages = site.pages.map((page) => ({
          id: `${ref}#${page.path}`,
          type: TECHDOCS,
          title: `${page.title} · ${site.siteName}`,
          text: htmlToText(page.html),
          location: `${base}/${page.path.replace(/\.md$/, '')}`,
          kind: stored.entity.kind,
          owner: stored.ownerRef ?? undefined,
          namespace: stored.entity.metadata.namespace ?? 'default',
          entityRef: ref,
        }));
      } catch (err) {
        log.debug({ err, ref }, 'docs not indexed');
      }
    }
    indexer.remove(TECHDOCS, previous.filter((id) => !pages.some((p) => p.id === id)));
    indexer.upsert(pages);
    if (pages.length > 0) docsPagesOf.set(ref, pages.map((p) => p.id));
    else docsPagesOf.delete(ref);
  }

  async function syncOnce() {
    for (;;) {
      if (stopped) return;
      const changed = await catalog.changedSince(watermark, 1000);
      if (changed.length === 0 || stopped) return;
      indexer.upsert(changed.map(entityDocument));
      for (const stored of changed) await indexDocs(stored);
      const last = changed[changed.length - 1]!;
      watermark = { updatedAt: last.updatedAt, uid: last.uid };
    }
  }

  function removeRefs(refs: readonly string[]) {
    indexer.remove(CATALOG, refs);
    for (const ref of refs) {
      indexer.remove(TECHDOCS, docsPagesOf.get(ref) ?? []);
      docsPagesOf.delete(ref);
    }
  }

  function scheduleSync() {
    if (pending) return;
    pending = true;
    syncing = syncing
      .then(() => {
        pending = false;
        return syncOnce();
      })
      .catch((err) => log.warn({ err }, 'search index sync failed; it is retried on the next catalog change'));
  }

  function rebuild() {
    index.removeAll();
    docsPagesOf.clear();
    watermark = undefined;
    scheduleSync();
  }

  return {
    ...indexer,
    async query(principal, q) {
      authorize(principal, { name: 'search', verb: 'read' });
      const offset = q.pageCursor ? Number.parseInt(Buffer.from(q.pageCursor, 'base64').toString('utf8'), 10) : 0;
      if (!Number.isInteger(offset) || offset < 0) throw new InputError('pageCursor: use nextPageCursor from a previous response');
      const filters = Object.entries(q.filters ?? {}).map(([key, value]) => {
        if (!(filterableFields as readonly string[]).includes(key)) throw new InputError(`filters[${key}]: filter on one of ${filterableFields.join(', ')}`);
        return [key, (Array.isArray(value) ? value : [value]).map((v) => v.toLowerCase())] as const;
      });
      const { hits, total, terms } = index.search({ term: q.term, types: q.types, filters, offset, limit: q.pageLimit });
      const results: SearchResultItem[] = hits.map((hit, i) => {
        const title = highlight(hit.title, terms);
        const text = highlight(hit.text ?? '', terms, 240);
        const document = {
          title: hit.title,
          text: (hit.text ?? '').slice(0, 400),
          location: hit.location,
          ...(hit.kind ? { kind: hit.kind } : {}),
          ...(hit.entityType ? { type: hit.entityType } : {}),
          ...(hit.owner ? { owner: hit.owner } : {}),
          ...(hit.lifecycle ? { lifecycle: hit.lifecycle } : {}),
          ...(hit.namespace ? { namespace: hit.namespace } : {}),
          ...(hit.tags?.length ? { tags: hit.tags } : {}),
          ...(hit.entityRef ? { entityRef: hit.entityRef } : {}),
        };
        return {
          type: hit.type,
          document,
          ...(title || text ? { highlight: { preTag: PRE_TAG, postTag: POST_TAG, fields: { ...(title ? { title } : {}), ...(text ? { text } : {}) } } } : {}),
          rank: offset + i + 1,
        };
      });
      const next = offset + q.pageLimit < total ? Buffer.from(String(offset + q.pageLimit)).toString('base64') : undefined;
      const prev = offset > 0 ? Buffer.from(String(Math.max(0, offset - q.pageLimit))).toString('base64') : undefined;
      return { results, numberOfResults: total, ...(next ? { nextPageCursor: next } : {}), ...(prev ? { previousPageCursor: prev } : {}) };
    },
    async settled() {
      await syncing;
      if (pending) await syncing;
    },
    async start() {
      subscription = kernel.ledger.subscribe({ kinds: ['catalog.location.refreshed', 'catalog.location.removed', 'catalog.entity.removed'] }, (event) => {
        const payload = event.payload as { ref?: string; removedRefs?: string[]; removed?: number };
        if (event.kind === 'catalog.entity.removed' && payload.ref) removeRefs([payload.ref]);
        if (event.kind === 'catalog.location.removed') {
          // The event lists at most 500 refs; past that the index is rebuilt from the catalog.
          if ((payload.removed ?? 0) > (payload.removedRefs?.length ?? 0)) return rebuild();
          removeRefs(payload.removedRefs ?? []);
        }
        scheduleSync();
      });
      await subscription.ready;
      scheduleSync();
    },
    stop() {
      stopped = true;
      subscription?.close();
      // A sync in flight finishes its step first; the index closes after it.
      void syncing.finally(() => index.close());
    },
  };
}
