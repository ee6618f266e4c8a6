import type { Generated, Selectable } from 'kysely';
import type { Db, Dialect } from '../store/index.js';
import type { EventFilter, LedgerEvent } from './model.js';

interface LedgerTables {
  kernel_events: {
    seq: Generated<number>;
    id: string;
    time: string;
    kind: string;
    actor: string | null;
    subjects: string;
    payload: string;
  };
  kernel_event_subjects: { subject: string; seq: number };
}

type EventRow = Selectable<LedgerTables['kernel_events']>;
type NewEventRow = Omit<EventRow, 'seq'>;

/** Advisory-lock key of the ledger's ordered log. */
const LEDGER_LOG_KEY = 7_007_001;
/** Rows per INSERT: stays under SQLite's bound-parameter limit. */
const CHUNK = 500;

function toEvent(row: EventRow): LedgerEvent {
  return {
    seq: row.seq,
    id: row.id,
    time: row.time,
    kind: row.kind as LedgerEvent['kind'],
    actor: row.actor,
    subjects: JSON.parse(row.subjects) as string[],
    payload: JSON.parse(row.payload) as LedgerEvent['payload'],
  };
}

/** Appends rows in one transaction (the caller's, if `db` is one) and returns them with their seq. */
export async function insertEvents(db: Db, dialect: Dialect, rows: readonly NewEventRow[]): Promise<LedgerEvent[]> {
  return db.transaction(async (tx) => {
    const k = tx.tables<LedgerTables>();
    await dialect.lockOrderedLog(tx.tables<unknown>(), LEDGER_LOG_KEY);
    const out: LedgerEvent[] = [];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const inserted = await k.insertInto('kernel_events').values(chunk).returning(['seq', 'id']).execute();
      const seqById = new Map(inserted.map((r) => [r.id, r.seq]));
      const subjectRows: { subject: string; seq: number }[] = [];
      for (const row of chunk) {
        const seq = seqById.get(row.id)!;
        out.push(toEvent({ ...row, seq }));
        for (const subject of new Set(JSON.parse(row.subjects) as string[])) subjectRows.push({ subject, seq });
      }
      for (let j = 0; j < subjectRows.length; j += CHUNK) {
        await k.insertInto('kernel_event_subjects').values(subjectRows.slice(j, j + CHUNK)).execute();
      }
    }
    out.sort((a, b) => a.seq - b.seq);
    return out;
  });
}

/** Events matching the filter in sequence order, at most `limit`. */
export async function selectEvents(db: Db, filter: EventFilter, limit: number): Promise<LedgerEvent[]> {
  const k = db.tables<LedgerTables>();
  let q = k.selectFrom('kernel_events').selectAll('kernel_events');
  if (filter.subject !== undefined) {
    q = q
      .innerJoin('kernel_event_subjects as s', 's.seq', 'kernel_events.seq')
      .where('s.subject', '=', filter.subject);
  }
  if (filter.kinds && filter.kinds.length > 0) q = q.where('kernel_events.kind', 'in', [...filter.kinds]);
  if (filter.afterSeq !== undefined) q = q.where('kernel_events.seq', '>', filter.afterSeq);
  if (filter.since !== undefined) q = q.where('kernel_events.time', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('kernel_events.time', '<=', filter.until);
  const rows = await q.orderBy('kernel_events.seq', 'asc').limit(limit).execute();
  return rows.map(toEvent);
}

export async function selectLastSeq(db: Db): Promise<number> {
  const row = await db
    .tables<LedgerTables>()
    .selectFrom('kernel_events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}
