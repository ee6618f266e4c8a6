import type { Db } from '../store/index.js';
import type { AuditEntry } from './model.js';

interface AuditTables {
  kernel_audit: {
    id: string;
    time: string;
    actor: string;
    action: string;
    method: string;
    url: string;
    ip: string;
    status_code: number;
    outcome: AuditEntry['outcome'];
    request_id: string;
  };
}
type AuditRow = AuditTables['kernel_audit'];

const toEntry = (r: AuditRow): AuditEntry => ({
  id: r.id,
  time: r.time,
  actor: r.actor,
  action: r.action,
  method: r.method,
  url: r.url,
  ip: r.ip,
  statusCode: r.status_code,
  outcome: r.outcome,
  requestId: r.request_id,
});

export async function insertAuditEntries(db: Db, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db
    .tables<AuditTables>()
    .insertInto('kernel_audit')
    .values(
      entries.map((e) => ({
        id: e.id,
        time: e.time,
        actor: e.actor,
        action: e.action,
        method: e.method,
        url: e.url,
        ip: e.ip,
        status_code: e.statusCode,
        outcome: e.outcome,
        request_id: e.requestId,
      })),
    )
    .execute();
}

/** Newest first; `before` is the (time, id) of the last entry of the previous page. */
export async function selectAuditEntries(
  db: Db,
  q: { actor?: string; action?: string; outcome?: AuditEntry['outcome']; limit: number; before?: { time: string; id: string } },
): Promise<AuditEntry[]> {
  let query = db.tables<AuditTables>().selectFrom('kernel_audit').selectAll();
  if (q.actor) query = query.where('actor', '=', q.actor);
  if (q.action) query = query.where('action', '=', q.action);
  if (q.outcome) query = query.where('outcome', '=', q.outcome);
  if (q.before) {
    const { time, id } = q.before;
    query = query.where((eb) => eb(eb.refTuple('time', 'id'), '<', eb.tuple(time, id)));
  }
  const rows = await query.orderBy('time', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map(toEntry);
}
