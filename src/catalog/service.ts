import { isAbsolute, resolve } from 'node:path';
import {
  authorize,
  ConflictError,
  InputError,
  isInside,
  NotFoundError,
  newId,
  toIso,
  principalRef,
  userRef,
  type Kernel,
  type Permission,
  type Principal,
} from '../kernel/index.js';
import type { Entity, EntityRelation } from './model/entity.js';
import { pickFields, type FilterNode } from './model/filters.js';
import { parseRef, refKey } from './model/refs.js';
import type { CatalogLocation, StoredEntity } from './model/types.js';
import { ingestLocation, processEntity, type IngestSummary } from './ingest.js';
import type { FileMemo } from './model/process.js';
import { docsFolderOf, parentOf } from './lineage.js';
import { defaultReaderLimits, fetchUrlText, generatedLocationName, readLocationTree, type LocationSpec, type ReaderOptions } from './reader.js';
import { ensureDeferrableIndexes } from './store/bulk-indexes.js';
import * as entities from './store/entities.js';
import { selectRelations, servedByRefLoader } from './store/served.js';
import { presentEntity, selectServedPage, servedJson, textPageBody, type PageBody } from './served-page.js';
import { createReadPool } from './read-pool.js';
import * as locations from './store/locations.js';
import { createParsePool } from './parse-pool.js';
import { createQueryCache } from './query-cache.js';
import { countMatching, selectFacets, selectMatchingUids, type EntityQuery } from './store/query.js';

/**
 * Threads that read by-query pages on SQLite. Two on any machine: the SQL and JSON of a page are most
 * of its CPU, and with them off the main thread it serves HTTP meanwhile (issue #3).
 */
const READ_THREADS = 2;

export const catalogPermissions = {
  read: { name: 'read the catalog', verb: 'read' },
  registerUrl: { name: 'register a catalog location', verb: 'write' },
  registerFile: { name: 'register a file location on the server', verb: 'admin' },
  refresh: { name: 'refresh catalog entities', verb: 'write' },
  deleteEntity: { name: 'delete a catalog entity', verb: 'write' },
  removeLocation: { name: 'remove a catalog location', verb: 'write' },
} satisfies Record<string, Permission>;

const REFRESH_JOB = 'catalog.refresh-location';

export interface EntityPage {
  items: Entity[];
  totalItems: number;
}

/** A page whose entities are already JSON, exactly as `JSON.stringify` would write them (see PageBody). */
export interface EntityPageJson extends PageBody {
  totalItems: number;
}

/** The service catalog: locations, entities, relations, queries (Backstage's model and semantics). */
export interface Catalog {
  addLocation(principal: Principal, spec: LocationSpec, options: { dryRun: boolean; onConflict?: 'reject' | 'refresh' }): Promise<{ location: CatalogLocation; entities: Entity[]; exists?: boolean }>;
  listLocations(principal: Principal): Promise<CatalogLocation[]>;
  getLocation(principal: Principal, id: string): Promise<CatalogLocation>;
  getLocationByEntity(principal: Principal, ref: string): Promise<CatalogLocation>;
  updateLocation(principal: Principal, id: string, spec: LocationSpec): Promise<CatalogLocation>;
  removeLocation(principal: Principal, id: string): Promise<void>;
  /** Re-reads a location now; returns what changed. */
  refreshLocation(id: string): Promise<IngestSummary>;
  refreshEntity(principal: Principal, ref: string): Promise<void>;
  /**
   * Adds a check that later layers make of the entities they interpret (the scaffolder: a Template's
   * actions and expressions). Its problems become errors on the entity and its location at ingestion.
   */
  addEntityCheck(check: (entity: Entity) => string[]): void;
  queryEntities(principal: Principal, query: EntityQuery & { fields?: string[]; withTotal: boolean }): Promise<EntityPage>;
  /**
   * The same page as JSON text, for routes that send whole entities: the stored body is served with
   * its relations spliced in, skipping a parse and a stringify per entity (the hot path of by-query).
   * `pageSize` entities go in the body; the query's limit may be one more, to tell whether more follow.
   * The caller sends the body, then releases the page.
   */
  queryEntitiesJson(principal: Principal, query: EntityQuery & { withTotal: boolean; pageSize: number }): Promise<EntityPageJson>;
  getEntityByRef(principal: Principal, ref: string): Promise<Entity | undefined>;
  /** The same entity as JSON text (`JSON.stringify` of what getEntityByRef returns), for routes that send it whole. */
  getEntityByRefJson(principal: Principal, ref: string): Promise<string | undefined>;
  getEntityByUid(principal: Principal, uid: string): Promise<Entity | undefined>;
  getEntitiesByRefs(principal: Principal, refs: readonly string[], filter: FilterNode, fields: string[]): Promise<(Entity | null)[]>;
  getAncestry(principal: Principal, ref: string): Promise<{ rootEntityRef: string; items: { entity: Entity; parentEntityRefs: string[] }[] }>;
  getFacets(principal: Principal, facets: readonly string[], filter: FilterNode): Promise<Record<string, { value: string; count: number }[]>>;
  removeEntityByUid(principal: Principal, uid: string): Promise<void>;
  /** Validates an entity through the whole processing pipeline without storing it; returns the problems. */
  validateEntity(principal: Principal, entity: unknown, locationRef: string): Promise<string[]>;
  /**
   * The folder holding an entity's docs (annotation `backstage.io/techdocs-ref: dir:<path>`, relative to its
   * file source location), kept inside the catalog's file roots.
   */
  docsFolderOf(principal: Principal, ref: string): Promise<string>;
  /** Group refs a user is a member of, for ownership decisions. */
  membershipsOf(userEntityRef: string): Promise<string[]>;
  /** Entities changed after a watermark, for indexers (search, docs). */
  changedSince(after: { updatedAt: string; uid: string } | undefined, limit: number): Promise<StoredEntity[]>;
  start(): Promise<void>;
  /** Stops its read threads (the store closes with the kernel). */
  stop(): Promise<void>;
}

export interface CatalogOptions {
  /** Folders readable besides config.catalog.fileRoot (the app adds the shipped examples). */
  extraFileRoots?: readonly string[];
  /** Reads http(s) URLs; the default fetches with limits. Tests may route known hosts to local fakes. */
  fetchUrl?: ReaderOptions['fetchUrl'];
}


export function createCatalog(kernel: Kernel, options: CatalogOptions = {}): Catalog {
  const { store, jobs, ledger, clock, config } = kernel;
  const log = kernel.logger.child({ layer: 'catalog' });
  const readerOptions: ReaderOptions = {
    fileRoots: [config.catalog.fileRoot, ...(options.extraFileRoots ?? [])],
    fetchUrl: options.fetchUrl ?? fetchUrlText,
    ...defaultReaderLimits,
  };
  const running = new Map<string, Promise<IngestSummary>>();
  /**
   * Per location, what its last refresh here found of each file (FileMemo): an unchanged file is not
   * parsed again. Processing depends on the location's type and target too, so a changed target starts afresh.
   */
  const fileMemos = new Map<string, { origin: string; files: Map<string, FileMemo> }>();
  const fileMemosOf = (location: CatalogLocation) => {
    const origin = `${location.type}:${location.target}`;
    let memos = fileMemos.get(location.id);
    if (memos?.origin !== origin) fileMemos.set(location.id, (memos = { origin, files: new Map() }));
    return memos.files;
  };
  const servedByRef = servedByRefLoader(store);
  // YAML parsing and validation run on worker threads while this thread writes (issue #3 ingest target).
  const parsePool = createParsePool();
  const entityChecks: ((entity: Entity) => string[])[] = [];
  // Totals and facets scan every match; they are cached until an entity changes here or (through the
  // ledger) in another replica.
  const scans = createQueryCache();

  /** Totals are cached until the next ingest: counting every match is the slow part of a page. */
  function totalOf(query: EntityQuery): Promise<number> {
    const { filter, fullText } = query;
    return scans.get(JSON.stringify(['count', filter, fullText ?? null]), () => countMatching(store, { filter, fullText, order: [] }));
  }

  async function withRelations(list: StoredEntity[]): Promise<Entity[]> {
    const relations = await selectRelations(store, list.map((e) => e.ref));
    return list.map((e) => present(e, relations.get(e.ref) ?? []));
  }

  const present = (e: Pick<StoredEntity, 'entity' | 'problems'>, relations: EntityRelation[]) => presentEntity(e.entity, e.problems, relations);

  // SQLite: by-query pages are read on worker threads (read-pool.ts); PostgreSQL's pool runs them in parallel already.
  const readers = store.sqliteFile ? createReadPool({ file: store.sqliteFile, threads: READ_THREADS }) : undefined;

  function servedPage(query: EntityQuery, size: number): Promise<PageBody> {
    const here = async () => textPageBody(await selectServedPage(store, query, size));
    // A reader's error arrives as a message only: the page is read again here, where it keeps its type.
    return readers?.page(query, size)?.catch(here) ?? here();
  }

  async function refresh(id: string): Promise<IngestSummary> {
    // One refresh of a location at a time in this process; a second caller waits for the running one.
    const current = running.get(id);
    if (current) return current;
    const work = (async () => {
      const location = await locations.selectLocation(store, id);
      let summary: IngestSummary;
      try {
        summary = await ingestLocation(
          { store, clock, parseFile: parsePool.parse, fileMemos: fileMemosOf(location), checkEntity: (entity) => entityChecks.flatMap((check) => check(entity)) },
          location,
          (hooks) => readLocationTree(location, readerOptions, hooks),
        );
      } finally {
        scans.invalidate();
      }
      await store.transaction(async (tx) => {
        await locations.updateLocationStatus(tx, id, toIso(clock.now()), summary.problems);
        await ledger.append(
          {
            kind: 'catalog.location.refreshed',
            subjects: [location.entityRef],
            actor: 'system:catalog',
            payload: {
              locationId: id,
              target: `${location.type}:${location.target}`,
              added: summary.added,
              updated: summary.updated,
              orphaned: summary.orphaned,
              problems: summary.problems.length,
              changedRefs: summary.changedRefs.slice(0, 500),
            },
          },
          { db: tx },
        );
      });
      if (summary.problems.length > 0) log.warn({ locationId: id, problems: summary.problems.slice(0, 5) }, 'location has problems');
      return summary;
    })().finally(() => running.delete(id));
    running.set(id, work);
    return work;
  }

  async function scheduleRefresh(locationId: string, runAt: Date) {
    await jobs.enqueue({ kind: REFRESH_JOB, payload: { locationId }, idempotencyKey: `${REFRESH_JOB}:${locationId}`, runAt, maxAttempts: 1_000_000 });
  }

  function normalizeSpec(spec: LocationSpec): LocationSpec {
    const target = spec.target.trim();
    if (!target) throw new InputError('target: must not be empty');
    if (spec.type === 'url') {
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        throw new InputError(`target: "${target}" is not a URL; url locations need http:// or https://`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`target: only http and https URLs can be registered`);
      return { type: 'url', target: url.toString() };
    }
    // File targets are stored absolute, so managed-by-location annotations and ancestry line up.
    const absolute = isAbsolute(target) ? resolve(target) : resolve(config.catalog.fileRoot, target);
    // A target outside every root could never be read: refuse it now rather than store a location
    // whose only content is a problem (a symlink inside a root is still checked when it is read).
    if (!readerOptions.fileRoots.some((root) => isInside(resolve(root), absolute))) {
      throw new InputError(`target: ${absolute} is outside the catalog's file roots (${readerOptions.fileRoots.join(', ')}); register a file under one of them`);
    }
    return { type: 'file', target: absolute };
  }

  function authorizeRegister(principal: Principal, spec: LocationSpec) {
    authorize(principal, spec.type === 'file' ? catalogPermissions.registerFile : catalogPermissions.registerUrl);
  }

  async function byRef(ref: string): Promise<StoredEntity | undefined> {
    return (await entities.selectByRefs(store, [ref.toLowerCase()]))[0];
  }

  return {
    async addLocation(principal, input, { dryRun, onConflict = 'reject' }) {
      authorizeRegister(principal, input);
      const spec = normalizeSpec(input);
      const existing = await locations.selectLocationByTarget(store, spec.type, spec.target);
      const probe: CatalogLocation = existing ?? {
        id: newId(),
        type: spec.type,
        target: spec.target,
        entityRef: `location:default/${generatedLocationName(spec)}`,
        createdBy: principalRef(principal),
        createdAt: toIso(clock.now()),
        refreshedAt: null,
        problems: [],
      };
      if (dryRun) {
        const read = await readLocationTree(spec, readerOptions);
        const processed: Entity[] = [];
        for (const item of read.entities) {
          try {
            processed.push((await processEntity(item, spec)).entity);
          } catch (err) {
            read.problems.push({ locationRef: item.locationRef, message: (err as Error).message });
          }
        }
        if (read.problems.length > 0 && processed.length === 0) {
          throw new InputError(`location ${spec.type}:${spec.target} has problems: ${read.problems.map((p) => p.message).join('; ')}`);
        }
        return { location: probe, entities: processed, exists: existing !== undefined };
      }
      if (existing) {
        if (onConflict !== 'refresh') throw new ConflictError(`location ${spec.type}:${spec.target} is already registered (id ${existing.id})`);
        await refresh(existing.id);
        return { location: await locations.selectLocation(store, existing.id), entities: [] };
      }
      const location = await store.transaction(async (tx) => {
        const created = await locations.insertLocation(tx, store.dialect, { id: probe.id, type: spec.type, target: spec.target, entity_ref: probe.entityRef, created_by: probe.createdBy, created_at: probe.createdAt, refreshed_at: null, problems: '[]' });
        await ledger.append({ kind: 'catalog.location.registered', subjects: [probe.entityRef], actor: probe.createdBy, payload: { locationId: probe.id, type: spec.type, target: spec.target } }, { db: tx });
        return created;
      });
      // Registered entities are visible when this call returns (no processing lag); refreshes then follow a schedule.
      await refresh(location.id);
      await scheduleRefresh(location.id, new Date(clock.now().getTime() + config.catalog.refreshIntervalS * 1000));
      return { location: await locations.selectLocation(store, location.id), entities: [] };
    },

    async listLocations(principal) {
      authorize(principal, catalogPermissions.read);
      const out: CatalogLocation[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await locations.selectLocations(store, { limit: 1000, afterId });
        out.push(...page);
        if (page.length < 1000) return out;
        afterId = page[page.length - 1]!.id;
      }
    },

    async getLocation(principal, id) {
      authorize(principal, catalogPermissions.read);
      return locations.selectLocation(store, id);
    },

    async getLocationByEntity(principal, ref) {
      authorize(principal, catalogPermissions.read);
      const entity = await byRef(ref);
      if (!entity) throw new NotFoundError(`No entity ${ref} found`);
      if (!entity.rootLocationId) throw new NotFoundError(`Entity ${ref} has no location`);
      return locations.selectLocation(store, entity.rootLocationId);
    },

    async updateLocation(principal, id, input) {
      const spec = normalizeSpec(input);
      const old = await locations.selectLocation(store, id);
      authorizeRegister(principal, spec);
      authorize(principal, catalogPermissions.removeLocation, { type: 'location', id, ownerRef: old.createdBy });
      await locations.updateLocationTarget(store, id, spec.type, spec.target, `location:default/${generatedLocationName(spec)}`);
      await refresh(id);
      return locations.selectLocation(store, id);
    },

    async removeLocation(principal, id) {
      const location = await locations.selectLocation(store, id);
      authorize(principal, catalogPermissions.removeLocation, { type: 'location', id, ownerRef: location.createdBy });
      const rooted = await entities.selectRootedAt(store, id);
      await store.transaction(async (tx) => {
        await entities.deleteEntities(tx, rooted.map((r) => r.uid));
        await locations.deleteLocation(tx, id);
        await ledger.append(
          { kind: 'catalog.location.removed', subjects: [location.entityRef], actor: principal.kind === 'user' ? userRef(principal.username) : null, payload: { locationId: id, removedRefs: rooted.slice(0, 500).map((r) => r.ref), removed: rooted.length } },
          { db: tx },
        );
      });
      scans.invalidate();
      fileMemos.delete(id);
      const { job } = await jobs.enqueue({ kind: REFRESH_JOB, payload: { locationId: id }, idempotencyKey: `${REFRESH_JOB}:${id}` });
      if (job.state === 'queued' || job.state === 'running') await jobs.cancel(job.id).catch(() => undefined);
    },

    refreshLocation: refresh,

    addEntityCheck(check) {
      entityChecks.push(check);
    },

    async refreshEntity(principal, ref) {
      authorize(principal, catalogPermissions.refresh);
      const entity = await byRef(refKey(parseRef(ref, { defaultNamespace: 'default' })));
      if (!entity) throw new NotFoundError(`No entity named '${ref}' found`);
      if (entity.rootLocationId) await refresh(entity.rootLocationId);
    },

    async queryEntitiesJson(principal, query) {
      authorize(principal, catalogPermissions.read);
      const { filter, order, fullText, limit, offset } = query;
      const [page, total] = await Promise.allSettled([servedPage({ filter, order, fullText, limit, offset }, query.pageSize), query.withTotal ? totalOf(query) : Promise.resolve(0)]);
      if (total.status === 'rejected') {
        if (page.status === 'fulfilled') page.value.release();
        throw total.reason;
      }
      if (page.status === 'rejected') throw page.reason;
      return { ...page.value, totalItems: total.value };
    },

    async getEntityByRefJson(principal, ref) {
      authorize(principal, catalogPermissions.read);
      const row = await servedByRef(ref.toLowerCase());
      return row ? servedJson(row) : undefined;
    },

    async queryEntities(principal, query) {
      authorize(principal, catalogPermissions.read);
      const [uids, totalItems] = await Promise.all([selectMatchingUids(store, query), query.withTotal ? totalOf(query) : Promise.resolve(0)]);
      const stored = new Map((await entities.selectByUids(store, uids)).map((e) => [e.uid, e]));
      const ordered = uids.map((uid) => stored.get(uid)).filter((e): e is StoredEntity => e !== undefined);
      const items = (await withRelations(ordered)).map((e) => pickFields(e, query.fields ?? []) as Entity);
      return { items, totalItems };
    },

    async getEntityByRef(principal, ref) {
      authorize(principal, catalogPermissions.read);
      const entity = await byRef(ref);
      return entity ? (await withRelations([entity]))[0] : undefined;
    },

    async getEntityByUid(principal, uid) {
      authorize(principal, catalogPermissions.read);
      const [entity] = await entities.selectByUids(store, [uid]);
      return entity ? (await withRelations([entity]))[0] : undefined;
    },

    async getEntitiesByRefs(principal, refs, filter, fields) {
      authorize(principal, catalogPermissions.read);
      const keys = refs.map((r) => {
        try {
          return refKey(parseRef(r, { defaultNamespace: 'default' }));
        } catch {
          return r.toLowerCase();
        }
      });
      let found = await entities.selectByRefs(store, keys);
      if (!(filter.op === 'all' && filter.items.length === 0) && found.length > 0) {
        const allowed = new Set(await selectMatchingUids(store, { filter: { op: 'all', items: [filter, { op: 'in', key: 'metadata.uid', values: found.map((f) => f.uid.toLowerCase()) }] }, order: [] }));
        found = found.filter((f) => allowed.has(f.uid));
      }
      const presented = new Map((await withRelations(found)).map((e, i) => [found[i]!.ref, e]));
      return keys.map((k) => {
        const e = presented.get(k);
        return e ? (pickFields(e, fields) as Entity) : null;
      });
    },

    async getAncestry(principal, ref) {
      authorize(principal, catalogPermissions.read);
      const root = await byRef(ref);
      if (!root) throw new NotFoundError(`No entity named '${ref}' found`);
      const items: { entity: Entity; parentEntityRefs: string[] }[] = [];
      const seen = new Set<string>();
      let current: StoredEntity | undefined = root;
      // An entity's parent is the Location entity that emitted it; the registered location's generated entity ends the chain.
      while (current && !seen.has(current.ref)) {
        seen.add(current.ref);
        const parent = await parentOf(store, current);
        items.push({ entity: (await withRelations([current]))[0]!, parentEntityRefs: parent ? [parent.ref] : [] });
        current = parent;
      }
      return { rootEntityRef: root.ref, items };
    },

    async getFacets(principal, facets, filter) {
      authorize(principal, catalogPermissions.read);
      return scans.get(JSON.stringify(['facets', facets, filter]), () => selectFacets(store, facets, filter));
    },

    async removeEntityByUid(principal, uid) {
      const [entity] = await entities.selectByUids(store, [uid]);
      if (!entity) throw new NotFoundError(`No entity with uid ${uid}`);
      authorize(principal, catalogPermissions.deleteEntity, { type: 'entity', id: entity.ref, ownerRef: entity.ownerRef ?? undefined });
      await store.transaction(async (tx) => {
        await entities.deleteEntities(tx, [uid]);
        await ledger.append({ kind: 'catalog.entity.removed', subjects: [entity.ref], actor: principal.kind === 'user' ? userRef(principal.username) : null, payload: { uid, ref: entity.ref } }, { db: tx });
      });
      scans.invalidate();
    },

    async validateEntity(principal, entity, locationRef) {
      authorize(principal, catalogPermissions.read);
      const colon = locationRef.indexOf(':');
      if (colon < 1) throw new InputError(`location: "${locationRef}" is not a location ref like url:https://…/catalog-info.yaml`);
      if (entity === null || typeof entity !== 'object' || Array.isArray(entity)) return ['entity: expected an object'];
      try {
        const p = await processEntity({ raw: entity as Record<string, unknown>, locationRef, sourceRef: locationRef, docIndex: 0 }, { type: locationRef.slice(0, colon), target: locationRef.slice(colon + 1) });
        return p.problems.filter((i) => i.level === 'error').map((i) => i.message);
      } catch (err) {
        return [(err as Error).message];
      }
    },

    async docsFolderOf(principal, ref) {
      authorize(principal, catalogPermissions.read);
      const stored = await byRef(ref);
      if (!stored) throw new NotFoundError(`No entity ${ref} found`);
      return docsFolderOf(stored, readerOptions.fileRoots);
    },

    async membershipsOf(userEntityRef) {
      return entities.selectRelationTargets(store, userEntityRef.toLowerCase(), 'memberOf');
    },

    changedSince: (after, limit) => entities.selectChangedSince(store, after, limit),

    async start() {
      jobs.register(REFRESH_JOB, async (job) => {
        const { locationId } = job.payload as { locationId: string };
        try {
          await refresh(locationId);
        } catch (err) {
          if (err instanceof NotFoundError) return { kind: 'fail', reason: 'location was removed' };
          log.warn({ err, locationId }, 'scheduled refresh failed');
        }
        return { kind: 'wait', until: new Date(clock.now().getTime() + config.catalog.refreshIntervalS * 1000) };
      });
      // A process that stopped during a bulk ingest left its deferred indexes unbuilt.
      await ensureDeferrableIndexes(store);
      kernel.auth.useOwnershipResolver(async (user) => entities.selectRelationTargets(store, user.ref, 'memberOf'));
      // Another replica's changes arrive as its catalog events.
      await kernel.ledger.subscribe({ kinds: ['catalog.location.refreshed', 'catalog.location.removed', 'catalog.entity.removed'] }, () => scans.invalidate()).ready;
    },

    async stop() {
      // The parse pool's workers may still serve an ingest the kernel drains; they exit when idle.
      await readers?.close();
    },
  };
}
