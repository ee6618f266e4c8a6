/**
 * Kyverno's `time_*` functions. Times are RFC 3339 text in and out; durations are Go duration text.
 * `time_parse`/`time_since` also take a Go layout (reference time "2006-01-02T15:04:05Z07:00"),
 * translated here for the layout elements policies use.
 */
import { formatGoDuration, parseGoDuration } from '../quantity.js';
import { FunctionError, stringArg } from './args.js';
import type { FunctionDefinition } from './types.js';

function parseRfc3339(fn: string, text: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    throw new FunctionError(fn, `parsing time ${JSON.stringify(text)} as RFC3339 failed`);
  }
  return new Date(text);
}

function formatRfc3339(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

const layoutTokens: [string, string][] = [
  ['2006', '(?<year>\\d{4})'],
  ['Z07:00', '(?<zone>Z|[+-]\\d{2}:\\d{2})'],
  ['-07:00', '(?<zone>[+-]\\d{2}:\\d{2})'],
  ['-0700', '(?<zonecompact>[+-]\\d{4})'],
  ['MST', '(?<zonename>[A-Z]{3,4})'],
  ['January', '(?<monthname>[A-Za-z]+)'],
  ['Jan', '(?<monthshort>[A-Za-z]{3})'],
  ['Monday', '[A-Za-z]+'],
  ['Mon', '[A-Za-z]{3}'],
  ['01', '(?<month>\\d{2})'],
  ['02', '(?<day>\\d{2})'],
  ['15', '(?<hour>\\d{2})'],
  ['03', '(?<hour12>\\d{2})'],
  ['04', '(?<minute>\\d{2})'],
  ['05', '(?<second>\\d{2})'],
  ['.000000000', '(?<fraction>\\.\\d{9})'],
  ['.000000', '(?<fraction>\\.\\d{6})'],
  ['.000', '(?<fraction>\\.\\d{3})'],
  ['.999999999', '(?<fraction>\\.\\d+)?'],
  ['PM', '(?<ampm>AM|PM)'],
  ['1', '(?<month>\\d{1,2})'],
  ['2', '(?<day>\\d{1,2})'],
  ['3', '(?<hour12>\\d{1,2})'],
];
const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function parseWithLayout(fn: string, layout: string, text: string): Date {
  if (layout === '') return parseRfc3339(fn, text);
  let source = '';
  for (let i = 0; i < layout.length; ) {
    const token = layoutTokens.find(([t]) => layout.startsWith(t, i));
    if (token) {
      source += token[1];
      i += token[0].length;
    } else {
      source += layout[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  const match = new RegExp(`^${source}$`).exec(text);
  const g = match?.groups;
  if (!match || !g) throw new FunctionError(fn, `parsing time ${JSON.stringify(text)} as ${JSON.stringify(layout)} failed`);
  const monthName = (g.monthname ?? g.monthshort)?.slice(0, 3).toLowerCase();
  const month = g.month ? Number(g.month) : monthName ? months.indexOf(monthName) + 1 : 1;
  let hour = g.hour ? Number(g.hour) : g.hour12 ? Number(g.hour12) % 12 : 0;
  if (g.ampm === 'PM') hour += 12;
  const zone = g.zone ?? (g.zonecompact ? `${g.zonecompact.slice(0, 3)}:${g.zonecompact.slice(3)}` : 'Z');
  const iso = `${g.year ?? '0000'}-${String(month).padStart(2, '0')}-${(g.day ?? '01').padStart(2, '0')}T${String(hour).padStart(2, '0')}:${g.minute ?? '00'}:${g.second ?? '00'}${g.fraction ?? ''}${zone}`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new FunctionError(fn, `parsing time ${JSON.stringify(text)} as ${JSON.stringify(layout)} failed`);
  return date;
}

function durationArg(fn: string, text: string): number {
  const nanoseconds = parseGoDuration(text);
  if (nanoseconds === undefined) throw new FunctionError(fn, `invalid duration ${JSON.stringify(text)}`);
  return nanoseconds;
}

export const timeFunctions: FunctionDefinition[] = [
  { name: 'time_now', arity: 0, run: () => formatRfc3339(new Date()) },
  { name: 'time_now_utc', arity: 0, run: () => formatRfc3339(new Date()) },
  { name: 'time_utc', arity: 1, run: (a) => formatRfc3339(parseRfc3339('time_utc', stringArg('time_utc', a, 0))) },
  { name: 'time_parse', arity: 2, run: (a) => formatRfc3339(parseWithLayout('time_parse', stringArg('time_parse', a, 0), stringArg('time_parse', a, 1))) },
  {
    name: 'time_since',
    arity: 3,
    run: (a) => {
      const layout = stringArg('time_since', a, 0);
      const start = parseWithLayout('time_since', layout, stringArg('time_since', a, 1));
      const endText = stringArg('time_since', a, 2);
      const end = endText === '' ? new Date() : parseWithLayout('time_since', layout, endText);
      return formatGoDuration((end.getTime() - start.getTime()) * 1e6);
    },
  },
  {
    name: 'time_add',
    arity: 2,
    run: (a) => formatRfc3339(new Date(parseRfc3339('time_add', stringArg('time_add', a, 0)).getTime() + durationArg('time_add', stringArg('time_add', a, 1)) / 1e6)),
  },
  { name: 'time_after', arity: 2, run: (a) => parseRfc3339('time_after', stringArg('time_after', a, 0)) > parseRfc3339('time_after', stringArg('time_after', a, 1)) },
  { name: 'time_before', arity: 2, run: (a) => parseRfc3339('time_before', stringArg('time_before', a, 0)) < parseRfc3339('time_before', stringArg('time_before', a, 1)) },
  {
    name: 'time_between',
    arity: 3,
    run: (a) => {
      const t = parseRfc3339('time_between', stringArg('time_between', a, 0));
      return t > parseRfc3339('time_between', stringArg('time_between', a, 1)) && t < parseRfc3339('time_between', stringArg('time_between', a, 2));
    },
  },
  {
    name: 'time_diff',
    arity: 2,
    run: (a) => formatGoDuration((parseRfc3339('time_diff', stringArg('time_diff', a, 1)).getTime() - parseRfc3339('time_diff', stringArg('time_diff', a, 0)).getTime()) * 1e6),
  },
  {
    name: 'time_truncate',
    arity: 2,
    run: (a) => {
      const t = parseRfc3339('time_truncate', stringArg('time_truncate', a, 0)).getTime();
      const step = durationArg('time_truncate', stringArg('time_truncate', a, 1)) / 1e6;
      return formatRfc3339(new Date(step > 0 ? t - (t % step) : t));
    },
  },
  {
    name: 'time_to_cron',
    arity: 1,
    run: (a) => {
      const t = parseRfc3339('time_to_cron', stringArg('time_to_cron', a, 0));
      return `${t.getUTCMinutes()} ${t.getUTCHours()} ${t.getUTCDate()} ${t.getUTCMonth() + 1} ${t.getUTCDay()}`;
    },
  },
];
