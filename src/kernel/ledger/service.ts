import type { Clock } from '../clock.js';
import { newId, toIso } from '../clock.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db, Store } from '../store/index.js';
import {
  matchesFilter,
  validateNewEvent,
  type EventFilter,
  type EventKind,
  type LedgerEvent,
  type NewEvent,
} from './model.js';
import { insertEvents, selectEvents, selectLastSeq } from './store.js';

const CHANNEL = 'plinth_ledger';
/** Events fetched per read while tailing or backfilling. */
const PAGE = 1000;
/** Safety-net re-read while anyone listens; wake-ups normally come from commits and NOTIFY. */
const RESYNC_MS = 1000;

export interface Subscription {
  /** Resolves once backfill (events after `afterSeq`) has been delivered and the subscription is live. */
  ready: Promise<void>;
  close(): void;
}

/** The append-only event ledger: the one source metrics and models read (DESIGN principle 2). */
export interface Ledger {
  /** Appends events in one transaction (the given `db` may be the caller's transaction). */
  append(events: NewEvent | readonly NewEvent[], options?: { db?: Db }): Promise<LedgerEvent[]>;
  query(filter: EventFilter, limit: number): Promise<LedgerEvent[]>;
  lastSeq(): Promise<number>;
  /** Delivers matching events in seq order: first those after `filter.afterSeq`, then live ones. */
  subscribe(filter: EventFilter, listener: (event: LedgerEvent) => void): Subscription;
  stop(): void;
}

interface Subscriber {
  filter: EventFilter;
  listener: (event: LedgerEvent) => void;
  live: boolean;
  buffer: LedgerEvent[];
  closed: boolean;
}

export function createLedger(deps: { store: Store; clock: Clock; logger: Logger; metrics: Metrics }): Ledger {
  const { store, clock, logger, metrics } = deps;
  const subscribers = new Set<Subscriber>();
  /** Highest seq dispatched to live subscribers; undefined while nobody listens. */
  let tailSeq: number | undefined;
  let initializing: Promise<void> | undefined;
  let tailing = false;
  let wakeAgain = false;
  let resyncTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const unlisten = store.listen(CHANNEL, () => void wake());

  function deliver(sub: Subscriber, event: LedgerEvent) {
    if (sub.closed || !matchesFilter(event, { kinds: sub.filter.kinds, subject: sub.filter.subject, afterSeq: sub.filter.afterSeq })) return;
    try {
      sub.listener(event);
    } catch (err) {
      logger.error({ err }, 'ledger subscriber failed');
    }
  }

  async function ensureTail(): Promise<void> {
    if (tailSeq !== undefined) return;
    initializing ??= selectLastSeq(store)
      .then((seq) => {
        tailSeq = seq;
      })
      .finally(() => {
        initializing = undefined;
      });
    await initializing;
  }

  async function wake(): Promise<void> {
    if (tailSeq === undefined || stopped) return;
    if (tailing) {
      wakeAgain = true;
      return;
    }
    tailing = true;
    try {
      do {
        wakeAgain = false;
        for (;;) {
          if (tailSeq === undefined) break;
          const events = await selectEvents(store, { afterSeq: tailSeq }, PAGE);
          if (events.length === 0 || tailSeq === undefined) break;
          // Advance and dispatch synchronously, so a subscriber that joins reads a consistent tailSeq.
          tailSeq = events[events.length - 1]!.seq;
          for (const event of events) {
            for (const sub of subscribers) {
              if (sub.live) deliver(sub, event);
              else sub.buffer.push(event);
            }
          }
          if (events.length < PAGE) break;
        }
      } while (wakeAgain);
    } catch (err) {
      logger.warn({ err }, 'ledger tail read failed; retrying on the next wake');
    } finally {
      tailing = false;
    }
  }

  function removeSubscriber(sub: Subscriber) {
    sub.closed = true;
    subscribers.delete(sub);
    if (subscribers.size === 0) {
      tailSeq = undefined;
      if (resyncTimer) clearInterval(resyncTimer);
      resyncTimer = undefined;
    }
  }

  return {
    async append(input, options) {
      const events = Array.isArray(input) ? (input as readonly NewEvent[]) : [input as NewEvent];
      if (events.length === 0) return [];
      const now = clock.now();
      const rows = events.map((event) => {
        validateNewEvent(event);
        return {
          id: newId(),
          time: toIso(event.time ?? now),
          kind: event.kind,
          actor: event.actor ?? null,
          subjects: JSON.stringify([...new Set(event.subjects ?? [])]),
          payload: JSON.stringify(event.payload),
        };
      });
      const db = options?.db ?? store;
      const appended = await db.transaction(async (tx) => {
        const out = await insertEvents(tx, store.dialect, rows);
        await tx.notify(CHANNEL);
        return out;
      });
      metrics.eventsAppended.inc(appended.length);
      return appended;
    },
    query: (filter, limit) => selectEvents(store, filter, limit),
    lastSeq: () => selectLastSeq(store),
    subscribe(filter, listener) {
      const sub: Subscriber = { filter, listener, live: false, buffer: [], closed: false };
      subscribers.add(sub);
      resyncTimer ??= setInterval(() => void wake(), RESYNC_MS);
      resyncTimer.unref();
      const ready = (async () => {
        await store.listening();
        await ensureTail();
        const upTo = tailSeq ?? 0;
        let cursor = filter.afterSeq;
        while (cursor !== undefined && cursor < upTo && !sub.closed) {
          const page = await selectEvents(store, { kinds: filter.kinds, subject: filter.subject, afterSeq: cursor }, PAGE);
          for (const event of page) if (event.seq <= upTo) deliver(sub, event);
          cursor = page.length === PAGE ? page[page.length - 1]!.seq : undefined;
        }
        sub.live = true;
        for (const event of sub.buffer.splice(0)) if (event.seq > upTo) deliver(sub, event);
        void wake();
      })();
      ready.catch((err) => logger.warn({ err }, 'ledger subscription backfill failed'));
      return { ready, close: () => removeSubscriber(sub) };
    },
    stop() {
      stopped = true;
      unlisten();
      for (const sub of [...subscribers]) removeSubscriber(sub);
    },
  };
}

export type { EventKind };
