/**
 * Figure 6: batched ledger appends through `kernel.ledger.append`, against raw inserts of the same
 * rows (events + subject rows) in transactions of the same size on the same schema.
 */
import pg from 'pg';
import { newId, type Kernel, type NewEvent } from '../../src/kernel/index.js';
import { createPostgresDatabase, openKernel, openRawSqlite, progress, round, tempDir } from './util.js';

type RevokedEvent = NewEvent<'kernel.token.revoked'>;

function syntheticEvents(n: number): RevokedEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: 'kernel.token.revoked',
    subjects: [`user:default/bench-${i % 100}`],
    actor: 'system:bench',
    payload: { tokenId: `token-${i}`, userId: `user-${i % 100}` },
  }));
}

async function appendAll(kernel: Kernel, events: readonly RevokedEvent[], batch: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += batch) await kernel.ledger.append(events.slice(i, i + batch));
  return performance.now() - t0;
}

/** Each row as the ledger stores it; built inside the timed loop, as the kernel's append does. */
function toRow(event: RevokedEvent, time: string) {
  return [newId(), time, event.kind, event.actor ?? null, JSON.stringify(event.subjects ?? []), JSON.stringify(event.payload)] as const;
}

async function rawSqlite(events: readonly RevokedEvent[], batch: number): Promise<{ ms: number; pragmas: Record<string, number | string> }> {
  const { db, pragmas } = await openRawSqlite('ledger-raw');
  try {
    const insertEvent = db.prepare('insert into kernel_events (id, time, kind, actor, subjects, payload) values (?, ?, ?, ?, ?, ?)');
    const insertSubject = db.prepare('insert into kernel_event_subjects (subject, seq) values (?, ?)');
    const appendBatch = db.transaction((slice: readonly RevokedEvent[]) => {
      const time = new Date().toISOString();
      for (const event of slice) {
        const seq = insertEvent.run(...toRow(event, time)).lastInsertRowid;
        for (const subject of event.subjects ?? []) insertSubject.run(subject, seq);
      }
    });
    const t0 = performance.now();
    for (let i = 0; i < events.length; i += batch) appendBatch(events.slice(i, i + batch));
    return { ms: performance.now() - t0, pragmas };
  } finally {
    db.close();
  }
}

/** The same rows through one pg client: per batch one transaction of multi-row INSERTs of 500 rows, as the kernel chunks them. */
async function rawPostgres(url: string, events: readonly RevokedEvent[], batch: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t0 = performance.now();
    for (let i = 0; i < events.length; i += batch) {
      const time = new Date().toISOString();
      await client.query('begin');
      for (let j = i; j < Math.min(i + batch, events.length); j += 500) {
        const chunk = events.slice(j, Math.min(j + 500, i + batch));
        const rows = chunk.map((e) => toRow(e, time));
        const values = rows.map((_, r) => `($${r * 6 + 1}, $${r * 6 + 2}, $${r * 6 + 3}, $${r * 6 + 4}, $${r * 6 + 5}, $${r * 6 + 6})`).join(', ');
        const inserted = await client.query<{ seq: number; id: string }>(
          `insert into kernel_events (id, time, kind, actor, subjects, payload) values ${values} returning seq, id`,
          rows.flat(),
        );
        const seqById = new Map(inserted.rows.map((r) => [r.id, r.seq]));
        const subjects = chunk.flatMap((e, r) => (e.subjects ?? []).map((s) => [s, seqById.get(rows[r]![0])!] as const));
        const subjectValues = subjects.map((_, r) => `($${r * 2 + 1}, $${r * 2 + 2})`).join(', ');
        await client.query(`insert into kernel_event_subjects (subject, seq) values ${subjectValues}`, subjects.flat());
      }
      await client.query('commit');
    }
    return performance.now() - t0;
  } finally {
    await client.end();
  }
}

const perS = (n: number, ms: number) => round((n / ms) * 1000, 0);

export async function measureLedgerSqlite(n = 100_000, batch = 1000) {
  const events = syntheticEvents(n);
  const kernel = await openKernel({ dataDir: tempDir('ledger-sqlite') });
  const ms = await appendAll(kernel, events, batch);
  const lastSeq = await kernel.ledger.lastSeq();
  await kernel.close();
  const baseline = await rawSqlite(events, batch);
  const eventsPerS = perS(n, ms);
  const baselineEventsPerS = perS(n, baseline.ms);
  progress(`ledger sqlite: ${eventsPerS} events/s (raw better-sqlite3 ${baselineEventsPerS}/s)`);
  return {
    events: n,
    batch,
    lastSeq,
    elapsedMs: round(ms, 1),
    eventsPerS,
    baselineEventsPerS,
    ratio: round(eventsPerS / baselineEventsPerS, 3),
    baselinePragmas: baseline.pragmas,
  };
}

export async function measureLedgerPostgres(n = 100_000, batch = 1000) {
  const events = syntheticEvents(n);
  const db = await createPostgresDatabase();
  const rawDb = await createPostgresDatabase();
  try {
    const kernel = await openKernel({ dataDir: tempDir('ledger-pg'), databaseUrl: db.url });
    const ms = await appendAll(kernel, events, batch);
    const lastSeq = await kernel.ledger.lastSeq();
    await kernel.close();
    await (await openKernel({ dataDir: tempDir('ledger-pg-raw'), databaseUrl: rawDb.url })).close();
    const baselineMs = await rawPostgres(rawDb.url, events, batch);
    const eventsPerS = perS(n, ms);
    const baselineEventsPerS = perS(n, baselineMs);
    progress(`ledger postgres: ${eventsPerS} events/s (raw pg ${baselineEventsPerS}/s)`);
    return {
      events: n,
      batch,
      lastSeq,
      elapsedMs: round(ms, 1),
      eventsPerS,
      baselineEventsPerS,
      ratio: round(eventsPerS / baselineEventsPerS, 3),
      baselineNote: 'raw pg client, same rows and 500-row multi-row INSERTs per transaction of 1000, without Kysely, the ordered-log lock or NOTIFY',
    };
  } finally {
    await db.drop();
    await rawDb.drop();
  }
}
