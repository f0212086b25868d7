/**
 * The one reading of a window or schedule time: an ISO 8601 day (`2024-07-01`, UTC midnight) or a
 * date-time with a zone, on the calendar only. `Date.parse` rolls impossible dates over
 * (`2024-02-30` becomes March 1st, `T24:00` the next day) and `Date.UTC` maps years 0-99 to
 * 1900-1999; both would pack a window other than the one asked for. Years run 0001-9999: the
 * pack's times are ISO 8601 four-digit years (RFC 3339 §5.6), and year 0000 is not one the pack
 * schema accepts.
 */

const TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))?)?$/;

/** The shape of a window time: a day (`2024-07-01`, UTC midnight) or a date-time with a zone. */
export const DAY_OR_ZONED_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** The shape of an instant: a date-time with a zone (a schedule's time). */
export const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A date-time without a zone: refused everywhere, because it would be read in the machine's zone. */
export const ZONELESS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;

/** The instant of a calendar time, or why it is none. */
export type CalendarTime = { readonly ms: number } | { readonly problem: string };

/** Days in `month` (1-12) of `year`, proleptic Gregorian. */
function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Reads `text` as a day or a zoned date-time whose every field is on the calendar: month 01-12,
 * a day the month has, hour 00-23, minute and second 00-59 (no leap second: the engines refuse
 * it), an offset up to ±23:59. Fractions beyond the millisecond are dropped (truncated).
 */
export function parseCalendarTime(text: unknown): CalendarTime {
  if (typeof text !== 'string') return { problem: 'is not text' };
  const m = TIME.exec(text);
  if (m === null) return { problem: 'is not an ISO 8601 day or date-time' };
  const [, y, mo, d, h, mi, s, frac, zone, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1) return { problem: 'has year 0000: years run from 0001' };
  if (month < 1 || month > 12) return { problem: `has month ${mo}: months run 01-12` };
  if (day < 1 || day > daysIn(year, month))
    return { problem: `has day ${d}: ${y}-${mo} has ${daysIn(year, month)} days` };
  if (h !== undefined && zone === undefined) return { problem: 'has a time but no zone (add Z or ±HH:MM)' };
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (hour > 23) return { problem: `has hour ${h}: hours run 00-23 (use 00:00 of the next day)` };
  if (minute > 59) return { problem: `has minute ${mi}: minutes run 00-59` };
  if (second > 59) return { problem: `has second ${s}: seconds run 00-59` };
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59))
    return { problem: `has offset ${sign}${oh}:${om}: offsets run up to ±23:59` };
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number((frac ?? '').padEnd(3, '0').slice(0, 3)));
  const offsetMs = oh === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const ms = date.getTime() - offsetMs;
  const utcYear = new Date(ms).getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return { problem: 'falls outside the years 0001-9999 in UTC' };
  return { ms };
}
