import { z } from 'zod';

/** One state-changing call: who, what, when, from where, outcome. */
export const AuditEntry = z.object({
  id: z.string(),
  time: z.string(),
  actor: z.string(),
  action: z.string(),
  method: z.string(),
  url: z.string(),
  ip: z.string(),
  statusCode: z.number(),
  outcome: z.enum(['success', 'denied', 'failure']),
  requestId: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditQuery = z.strictObject({
  actor: z.string().max(100).optional(),
  action: z.string().max(200).optional(),
  outcome: z.enum(['success', 'denied', 'failure']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export function outcomeForStatus(statusCode: number): AuditEntry['outcome'] {
  if (statusCode < 400) return 'success';
  if (statusCode === 401 || statusCode === 403 || statusCode === 429) return 'denied';
  return 'failure';
}
