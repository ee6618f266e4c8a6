/**
 * By-query pages read on worker threads (SQLite), each with a read-only connection of its own: WAL
 * readers run beside the writer and see every commit, and the main thread serves HTTP while they
 * run the SQL and build the JSON. One thread serving ten clients was what held the by-query p99 up
 * (issue #3).
 *
 * A reader writes the page's body into a slot of memory shared with the main thread, which sends
 * the bytes from there and frees the slot when the response is done: no string and no buffer per
 * page on the main thread. Received in the message, or decoded into strings here, a page's 86 KB
 * (several copies of it on the way to the socket) filled V8's young generation every 27 ms while
 * the requests waiting on readers were alive; they survived, were promoted, and the main thread ran
 * a full collection every two seconds (a transferred buffer's external memory: every half second),
 * with 20-50 ms pauses — a worse p99 than with no readers at all.
 */
import { createWorkerPool } from '../kernel/index.js';
import type { ReadRequest, ReadResult } from './read-worker.js';
import { textPageBody, type PageBody } from './served-page.js';
import type { EntityQuery } from './store/query.js';

export interface ReadPool {
  /** The page from a reader, or undefined while none has started (the caller reads it itself). */
  page(query: EntityQuery, size: number): Promise<PageBody> | undefined;
  close(): Promise<void>;
}

export interface ReadPoolOptions {
  /** The SQLite database file. */
  file: string;
  /** Reader threads. */
  threads: number;
  /** Pages in flight or being sent at once from shared memory; more come back in their message. */
  slots?: number;
  /** Bytes of one page body in shared memory; a larger one comes back in its message. */
  slotBytes?: number;
}

export function createReadPool(options: ReadPoolOptions): ReadPool {
  const { file, threads } = options;
  const slots = options.slots ?? 32;
  // A 50-entity page of the generated catalog is 86 KB.
  const slotBytes = options.slotBytes ?? 256 * 1024;
  const shared = new SharedArrayBuffer(slots * slotBytes);
  const bytes = Buffer.from(shared);
  const free = Array.from({ length: slots }, (_, i) => i);
  const pool = createWorkerPool<ReadRequest, ReadResult>({ entry: new URL('./read-worker.js', import.meta.url), name: 'catalog read', threads, idleMs: 10 * 60_000 });

  /** The body in `slot`, which stays taken until `release`. */
  function slotBody(slot: number, length: number, matched: number): PageBody {
    const start = slot * slotBytes;
    let released = false;
    return {
      matched,
      body(close) {
        const closeLength = Buffer.byteLength(close);
        if (length + closeLength > slotBytes) return `${bytes.toString('utf8', start, start + length)}${close}`;
        bytes.write(close, start + length, closeLength, 'utf8');
        return bytes.subarray(start, start + length + closeLength);
      },
      release() {
        if (released) return;
        released = true;
        free.push(slot);
      },
    };
  }

  return {
    page(query, size) {
      const slot = free.pop();
      const running = pool.runOnWarm({ file, query, size, ...(slot === undefined ? {} : { shared, slot, slotBytes }) });
      if (!running) {
        if (slot !== undefined) free.push(slot);
        return undefined;
      }
      return running.then(
        (result) => {
          if ('slot' in result) return slotBody(result.slot, result.length, result.matched);
          if (slot !== undefined) free.push(slot); // the page did not fit
          return textPageBody(result);
        },
        (err: unknown) => {
          // Failed or gone: the reader writes nothing more there.
          if (slot !== undefined) free.push(slot);
          throw err;
        },
      );
    },
    close: () => pool.close(),
  };
}
