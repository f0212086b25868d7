/**
 * Ticks for the timeline's time axis. The step is the smallest "round" step that keeps the number of
 * labels under what fits, so the same code reads well for a one-hour incident and a quarterly review.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Round steps in ascending order. Months are approximated by 30 days only beyond a quarter. */
const STEPS: readonly number[] = [
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  90 * DAY,
];

/** One tick: where (epoch ms) and its label; `major` ticks start a new day and carry the date. */
export interface Tick {
  readonly at: number;
  readonly label: string;
  readonly major: boolean;
}

/**
 * Chooses ticks between `from` and `to` (epoch ms, UTC) with at most `maxTicks` labels.
 * Steps below a day are aligned to UTC midnight, so ticks fall on round clock times; day and week
 * steps fall on midnights (weeks counted from the first midnight in the window).
 */
export function timeAxisTicks(from: number, to: number, maxTicks: number): { step: number; ticks: Tick[] } {
  const span = Math.max(to - from, 1);
  const step = STEPS.find((s) => span / s <= maxTicks) ?? STEPS[STEPS.length - 1]!;
  const first = step < DAY ? Math.ceil(from / step) * step : Math.ceil(from / DAY) * DAY;
  const ticks: Tick[] = [];
  let previousDay = '';
  for (let at = first; at <= to; at += step) {
    const iso = new Date(at).toISOString();
    const day = iso.slice(5, 10);
    const clock = iso.slice(11, 16);
    const major = day !== previousDay;
    previousDay = day;
    let label: string;
    if (step >= DAY) label = iso.slice(0, 10);
    else if (major) label = `${day} ${clock}`;
    else label = clock;
    ticks.push({ at, label, major });
  }
  return { step, ticks };
}
