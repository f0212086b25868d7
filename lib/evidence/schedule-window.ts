/**
 * The window of a scheduled review, derived from the schedule's own time (EventBridge Scheduler's
 * `<aws.scheduler.scheduled-time>`, or an EventBridge event's `time`), never from the clock at run
 * time: a run delayed by the flexible window, retried an hour later or replayed next week reviews
 * the same month, and so builds the same pack.
 */
import { SessiontrailError } from '../errors.ts';
import { parseCalendarTime, ZONED_TIME } from './calendar-time.ts';

/** A review window: `[from, to)` as ISO 8601 UTC instants with milliseconds. */
export interface ReviewWindow {
  readonly from: string;
  readonly to: string;
}

/**
 * The calendar month before the month of `scheduledTime`, both read in `timeZone`: a schedule at
 * 2024-04-01T06:00Z gives `[2024-03-01T00:00Z, 2024-04-01T00:00Z)`; in `Europe/Berlin` it gives
 * Berlin's March, `[2024-02-29T23:00Z, 2024-03-31T22:00Z)`.
 *
 * @param scheduledTime ISO 8601 with a zone (`Z` or an offset), as the scheduler writes it.
 * @param timeZone an IANA zone; the schedule's own zone, so that "the 1st" means the same day.
 * @throws SessiontrailError `BAD_WINDOW` for a time without a zone or that is not a real instant;
 *   `BAD_REQUEST` for an unknown time zone.
 */
export function previousMonthWindow(scheduledTime: string, timeZone = 'UTC'): ReviewWindow {
  if (typeof scheduledTime !== 'string' || !ZONED_TIME.test(scheduledTime)) {
    throw new SessiontrailError(
      'BAD_WINDOW',
      `scheduled time: expected ISO 8601 with a zone such as 2024-04-01T06:00:00Z, received ${JSON.stringify(scheduledTime)}`,
    );
  }
  const t = parseCalendarTime(scheduledTime);
  if ('problem' in t) {
    throw new SessiontrailError(
      'BAD_WINDOW',
      `scheduled time ${scheduledTime} is not a real instant: it ${t.problem}`,
    );
  }
  const at = t.ms;
  const wall = wallClock(at, timeZone);
  // Month arithmetic on (year, month) only: day-of-month and time of day play no part.
  const thisMonth = { year: wall.year, month: wall.month };
  const previous =
    wall.month === 1 ? { year: wall.year - 1, month: 12 } : { year: wall.year, month: wall.month - 1 };
  if (previous.year < 1)
    throw new SessiontrailError(
      'BAD_WINDOW',
      `scheduled time ${scheduledTime}: the month before it is before year 0001`,
    );
  return {
    from: new Date(zonedMidnightOfFirst(previous.year, previous.month, timeZone)).toISOString(),
    to: new Date(zonedMidnightOfFirst(thisMonth.year, thisMonth.month, timeZone)).toISOString(),
  };
}

interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (cause) {
    throw new SessiontrailError(
      'BAD_REQUEST',
      `time zone: expected an IANA zone such as UTC or Europe/Berlin, received ${JSON.stringify(timeZone)}`,
      { cause },
    );
  }
}

/** The wall-clock reading of an instant in a zone. */
function wallClock(ms: number, timeZone: string): Wall {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(ms))
      .filter((p) => p.type !== 'literal')
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** `Date.UTC` without its mapping of years 0-99 to 1900-1999 (month 1-12). */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** The zone's offset from UTC at an instant, in milliseconds (wall clock minus UTC). */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const wallAsUtc = utc(w.year, w.month, w.day, w.hour, w.minute, w.second);
  return wallAsUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of 00:00 on the 1st of `month` in `timeZone`. */
function zonedMidnightOfFirst(year: number, month: number, timeZone: string): number {
  const guess = utc(year, month, 1, 0, 0, 0);
  // Two passes settle the offset; no zone changes its offset twice within hours of midnight.
  let instant = guess - offsetAt(guess, timeZone);
  instant = guess - offsetAt(instant, timeZone);
  return instant;
}
