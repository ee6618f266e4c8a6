import { authorize, type Principal } from '../auth/model.js';
import { InputError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import type { AuditEntry, AuditQuery } from './model.js';
import { insertAuditEntries, selectAuditEntries } from './store.js';

/** The audit log of state-changing calls, readable by admins. */
export interface Audit {
  record(entry: AuditEntry): Promise<void>;
  list(principal: Principal, query: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null }>;
}

export function createAudit(deps: { store: Store; logger: Logger }): Audit {
  const { store, logger } = deps;
  return {
    async record(entry) {
      try {
        await insertAuditEntries(store, [entry]);
      } catch (err) {
        // The request already happened; an unwritable audit row is logged loudly rather than lost silently.
        logger.error({ err, audit: entry }, 'could not write the audit log');
      }
    },
    async list(principal, query) {
      authorize(principal, { name: 'read the audit log', verb: 'admin' });
      const before = query.cursor ? decodeCursor(query.cursor) : undefined;
      const items = await selectAuditEntries(store, { ...query, before });
      const last = items[items.length - 1];
      return {
        items,
        nextCursor: items.length === query.limit && last ? Buffer.from(JSON.stringify([last.time, last.id])).toString('base64url') : null,
      };
    },
  };
}

function decodeCursor(cursor: string): { time: string; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') return { time: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new InputError('cursor: not a cursor this API returned; use nextCursor from the previous page');
}
