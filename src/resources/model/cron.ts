/**
 * Five-field cron schedules (minute hour day-of-month month day-of-week, in UTC) for module backup
 * schedules: `*`, numbers, ranges `a-b`, lists `a,b` and steps `*\/n`, `a-b/n`. As in cron(8), when
 * both day fields are restricted a day matching either one runs.
 */

export interface Cron {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  anyDay: boolean;
  anyWeekday: boolean;
}

function parseField(field: string, min: number, max: number): Set<number> | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return undefined;
    const from = match[1] === '*' ? min : Number(match[2]);
    const to = match[1] === '*' ? max : match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? max : from;
    const step = match[4] !== undefined ? Number(match[4]) : 1;
    if (from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** A schedule, or undefined when the text is not one. */
export function parseCron(text: string): Cron | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [minutes, hours, days, months, weekdays] = [parseField(fields[0]!, 0, 59), parseField(fields[1]!, 0, 23), parseField(fields[2]!, 1, 31), parseField(fields[3]!, 1, 12), parseField(fields[4]!, 0, 7)];
  if (!minutes || !hours || !days || !months || !weekdays) return undefined;
  if (weekdays.has(7)) weekdays.add(0);
  return { minutes, hours, days, months, weekdays, anyDay: fields[2] === '*', anyWeekday: fields[4] === '*' };
}

function dayMatches(cron: Cron, t: Date): boolean {
  const dom = cron.days.has(t.getUTCDate());
  const dow = cron.weekdays.has(t.getUTCDay());
  if (cron.anyDay && cron.anyWeekday) return true;
  if (cron.anyDay) return dow;
  if (cron.anyWeekday) return dom;
  return dom || dow;
}

// Enough steps for any schedule that matches at all (at most a few per skipped month, day and hour in 8 years).
const MAX_STEPS = 200_000;

/** The first run strictly after `after`; undefined for a schedule that never runs (e.g. 31 February). */
export function nextRun(cron: Cron, after: Date): Date | undefined {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  for (let i = 0; i < MAX_STEPS; i += 1) {
    if (!cron.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(cron, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!cron.hours.has(t.getUTCHours())) t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    else if (!cron.minutes.has(t.getUTCMinutes())) t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    else return t;
  }
  return undefined;
}

/** The last run at or before `at`; undefined when there is none in reach. */
export function previousRun(cron: Cron, at: Date): Date | undefined {
  const t = new Date(at.getTime());
  t.setUTCSeconds(0, 0);
  for (let i = 0; i < MAX_STEPS; i += 1) {
    // Day 0 of a month is the last day of the one before.
    if (!cron.months.has(t.getUTCMonth() + 1)) {
      t.setUTCDate(0);
      t.setUTCHours(23, 59, 0, 0);
    } else if (!dayMatches(cron, t)) {
      t.setUTCDate(t.getUTCDate() - 1);
      t.setUTCHours(23, 59, 0, 0);
    } else if (!cron.hours.has(t.getUTCHours())) t.setUTCHours(t.getUTCHours() - 1, 59, 0, 0);
    else if (!cron.minutes.has(t.getUTCMinutes())) t.setUTCMinutes(t.getUTCMinutes() - 1, 0, 0);
    else return t;
  }
  return undefined;
}
