import { realpath } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { NotFoundError, NotImplementedError, type Db } from '../kernel/index.js';
import { ANNOTATION_SOURCE_LOCATION, ANNOTATION_TECHDOCS_REF } from './model/entity.js';
import type { StoredEntity } from './model/types.js';
import * as entities from './store/entities.js';
import * as locations from './store/locations.js';

/** The Location entity that produced an entity: the one whose target is the entity's file, else the registered root. */
export async function parentOf(db: Db, entity: StoredEntity): Promise<StoredEntity | undefined> {
  if (!entity.rootLocationId) return undefined;
  const root = await locations.selectLocation(db, entity.rootLocationId).catch(() => undefined);
  if (!root || entity.ref === root.entityRef) return undefined;
  const byRef = async (ref: string) => (await entities.selectByRefs(db, [ref]))[0];
  const from = entity.locationRef;
  if (from === `${root.type}:${root.target}`) return byRef(root.entityRef);
  const siblings = await entities.selectRootedAt(db, entity.rootLocationId);
  const locs = await entities.selectByRefs(db, siblings.filter((s) => s.ref.startsWith('location:') && s.ref !== entity.ref).map((s) => s.ref));
  for (const loc of locs) {
    const spec = (loc.entity.spec ?? {}) as { type?: string; target?: string; targets?: string[] };
    const targets = [spec.target, ...(spec.targets ?? [])].filter((t): t is string => typeof t === 'string');
    const base = loc.locationRef.slice(loc.locationRef.indexOf(':') + 1);
    const resolved = targets.map((t) => (/^https?:/.test(base) || /^https?:/.test(t) ? `url:${new URL(t, base).toString()}` : `file:${resolve(dirname(base), t)}`));
    if (resolved.includes(from)) return loc;
  }
  return byRef(root.entityRef);
}

/**
 * The folder of an entity's docs (annotation `backstage.io/techdocs-ref: dir:<path>`, relative to its file
 * source location), which must resolve inside one of the catalog's file roots.
 */
export async function docsFolderOf(stored: StoredEntity, fileRoots: readonly string[]): Promise<string> {
  const ref = stored.ref;
  const docsRef = stored.entity.metadata.annotations?.[ANNOTATION_TECHDOCS_REF];
  if (!docsRef) throw new NotFoundError(`${ref} has no docs: add the annotation ${ANNOTATION_TECHDOCS_REF}: dir:.`);
  if (!docsRef.startsWith('dir:')) throw new NotImplementedError(`${ANNOTATION_TECHDOCS_REF} "${docsRef}": only dir: refs are rendered in this installation`);
  const source = stored.entity.metadata.annotations?.[ANNOTATION_SOURCE_LOCATION] ?? '';
  if (!source.startsWith('file:')) throw new NotImplementedError(`${ref}: docs are rendered from file sources; this entity's source is ${source || 'unknown'}`);
  const folder = resolve(source.slice('file:'.length), docsRef.slice('dir:'.length));
  const real = await realpath(folder).catch(() => {
    throw new NotFoundError(`${ref}: the docs folder ${docsRef} does not exist`);
  });
  const roots = await Promise.all(fileRoots.map((r) => realpath(r).catch(() => resolve(r))));
  if (!roots.some((root) => real === root || real.startsWith(root + sep))) throw new NotFoundError(`${ref}: the docs folder ${docsRef} is outside the catalog's file roots`);
  return real;
}
