/** Pure formatting for human output; every function here is unit-tested. */
import type { LedgerEventView } from '../kernel/index.js';

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `label  value` pairs with the labels padded to one width. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** Seconds as the two largest units: "45s", "3m 12s", "2h 5m", "4d 7h". */
export function formatDuration(totalS: number): string {
  const s = Math.max(0, Math.floor(totalS));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** An ISO timestamp as local "YYYY-MM-DD HH:MM", or `empty` when there is none. */
export function formatTime(iso: string | null | undefined, empty = '-'): string {
  if (iso === null || iso === undefined || iso === '') return empty;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

const maxPayloadChars = 300;

/** One line per event: time, kind, subjects, actor, compact payload (cut at 300 characters). */
export function formatEventLine(event: LedgerEventView): string {
  const subjects = event.subjects.length > 0 ? event.subjects.join(',') : '-';
  let payload = event.payload === undefined ? '' : JSON.stringify(event.payload);
  if (payload === '{}' || payload === 'null') payload = '';
  if (payload.length > maxPayloadChars) payload = `${payload.slice(0, maxPayloadChars - 1)}…`;
  return [event.time, event.kind, subjects, `by ${event.actor ?? '-'}`, payload].filter((p) => p !== '').join('  ');
}
