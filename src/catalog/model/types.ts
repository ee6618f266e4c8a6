import type { Entity, EntityStatusItem } from './entity.js';

export interface LocationProblem {
  /** The file or URL the problem is in (`file:/…`, `url:…`). */
  locationRef: string;
  message: string;
}

/** A registered location: the root of a tree of entity files. */
export interface CatalogLocation {
  id: string;
  type: 'file' | 'url';
  target: string;
  /** `location:default/generated-<sha1 of type:target>`, as Backstage names it. */
  entityRef: string;
  createdBy: string;
  createdAt: string;
  refreshedAt: string | null;
  problems: LocationProblem[];
}

/** An entity as stored: the processed entity plus bookkeeping; relations are read separately. */
export interface StoredEntity {
  uid: string;
  ref: string;
  ownerRef: string | null;
  rootLocationId: string | null;
  locationRef: string;
  entity: Entity;
  problems: EntityStatusItem[];
  contentHash: string;
  orphan: boolean;
  updatedAt: string;
}
