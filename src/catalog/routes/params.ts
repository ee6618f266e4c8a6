import { z } from 'zod';
import { InputError } from '../../kernel/index.js';
import { parseFilterParams, parsePredicate, type FilterNode, type OrderField } from '../model/filters.js';

/** A query parameter that may be repeated (`filter=a&filter=b`) or absent. */
export const repeated = z
  .union([z.string().max(10_000), z.array(z.string().max(10_000)).max(100)])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

export const intParam = (max: number) => z.coerce.number().int().min(0).max(max).optional();

/** Opaque to clients, base64 JSON to us (Backstage's client peeks for a top-level `query` key). */
const CursorContent = z.strictObject({
  v: z.literal(1),
  filter: z.array(z.string().max(10_000)).max(100).optional(),
  query: z.unknown().optional(),
  orderField: z.object({ field: z.string().max(200), order: z.enum(['asc', 'desc']) }).optional(),
  fullText: z.object({ term: z.string().max(200), fields: z.array(z.string().max(200)).max(20) }).optional(),
  offset: z.number().int().min(0),
  totalItems: z.boolean(),
});
export type CursorContent = z.infer<typeof CursorContent>;

export function encodeCursor(c: CursorContent): string {
  return Buffer.from(JSON.stringify(c)).toString('base64');
}

export function decodeCursor(cursor: string): CursorContent {
  try {
    const parsed = CursorContent.safeParse(JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  throw new InputError('Malformed cursor: use pageInfo.nextCursor or prevCursor from a previous response');
}

export function filterOf(c: { filter?: string[]; query?: unknown }): FilterNode {
  if (c.query !== undefined) return parsePredicate(c.query);
  return parseFilterParams(c.filter ?? []);
}

export function orderList(o: OrderField | undefined): OrderField[] {
  return o ? [o] : [];
}
