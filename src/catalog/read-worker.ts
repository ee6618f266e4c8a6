/** Worker thread entry of the catalog's read pool (read-pool.ts): a by-query page from a read-only connection. */
import { createLogger, createStore, type Store } from '../kernel/index.js';
import { serveWorkerRequests } from '../kernel/worker-pool.js';
import { ITEMS_OPEN, selectServedPage, type ServedPage } from './served-page.js';
import type { EntityQuery } from './store/query.js';

export interface ReadRequest {
  /** The database file (the main thread's store's). */
  file: string;
  query: EntityQuery;
  /** Entities in the page (see selectServedPage). */
  size: number;
  /** Where to write the page's JSON: `slotBytes` at `slot` of `shared` (absent: it comes back in the message). */
  shared?: SharedArrayBuffer;
  slot?: number;
  slotBytes?: number;
}

/** The page in the message, or where in the shared memory its body was written (`{"items":[` and the entities). */
export type ReadResult = ServedPage | { slot: number; length: number; matched: number };

let store: Store | undefined;

serveWorkerRequests(async ({ file, query, size, shared, slot, slotBytes }: ReadRequest): Promise<ReadResult> => {
  store ??= createStore({ databaseUrl: undefined, sqliteFile: file, readOnly: true, logger: createLogger({ level: 'silent', pretty: false }) });
  if (store.sqliteFile !== file) throw new Error(`this reader serves ${store.sqliteFile}, not ${file}`);
  const page = await selectServedPage(store, query, size);
  if (shared === undefined || slot === undefined || slotBytes === undefined) return page;
  const text = `${ITEMS_OPEN}${page.json}`;
  const length = Buffer.byteLength(text);
  if (length > slotBytes) return page;
  // ASCII text (the usual case) is copied byte for byte.
  Buffer.from(shared, slot * slotBytes, length).write(text, 0, length, length === text.length ? 'latin1' : 'utf8');
  return { slot, length, matched: page.matched };
});
