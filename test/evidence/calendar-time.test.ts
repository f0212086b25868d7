/**
 * One strict reading of times for the CLI, the on-demand Lambda and the schedule: calendar-valid
 * only, never rolled over into another day (issue 10).
 */
import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { parseCalendarTime } from '../../lib/evidence/calendar-time.ts';
import { validateRequest } from '../../lib/evidence/request.ts';
import { parseOnDemandEvent } from '../../lib/evidence/request-schema.ts';
import { previousMonthWindow } from '../../lib/evidence/schedule-window.ts';

describe('parseCalendarTime', () => {
  it.each([
    ['2024-02-30', /day 30: 2024-02 has 29 days/],
    ['2023-02-29', /day 29: 2023-02 has 28 days/],
    ['2024-04-31', /day 31: 2024-04 has 30 days/],
    ['2024-13-01', /month 13/],
    ['2024-00-10', /month 00/],
    ['2024-04-01T24:00:00Z', /hour 24/],
    ['2024-04-01T23:60:00Z', /minute 60/],
    ['2024-04-01T23:59:60Z', /second 60/],
    ['0000-01-01', /year 0000/],
    ['0001-01-01T00:00:00+01:00', /outside the years 0001-9999/],
    ['2024-04-01T10:00:00', /no zone/],
    ['2024-04-01T10:00:00+24:00', /offset/],
  ])('refuses %s', (text, problem) => {
    const t = parseCalendarTime(text);
    expect('problem' in t && t.problem).toMatch(problem);
  });

  it.each([
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2000-02-29T23:59:59.9999Z', Date.UTC(2000, 1, 29, 23, 59, 59, 999)],
    ['2024-04-01T02:00:00+02:00', Date.UTC(2024, 3, 1)],
    ['9999-12-31T23:59:59Z', Date.UTC(9999, 11, 31, 23, 59, 59)],
  ])('reads %s', (text, ms) => {
    expect(parseCalendarTime(text)).toEqual({ ms });
  });

  it('reads year 0050 as year 50, not 1950 as Date.UTC would', () => {
    const t = parseCalendarTime('0050-06-01');
    expect('ms' in t && new Date(t.ms).toISOString()).toBe('0050-06-01T00:00:00.000Z');
  });
});

describe('every caller refuses an impossible time with BAD_WINDOW / BAD_REQUEST', () => {
  it('the CLI and library request (validateRequest)', () => {
    for (const [from, to] of [
      ['2024-02-30', '2024-03-02'],
      ['2024-04-01', '2024-04-31'],
      ['2024-04-01T24:00:00Z', '2024-04-03'],
      ['0000-01-01', '0000-01-02'],
    ]) {
      const err = (() => {
        try {
          validateRequest({ kind: 'review', from: from as string, to: to as string });
        } catch (e) {
          return e;
        }
      })();
      expect(isSessiontrailError(err, 'BAD_WINDOW')).toBe(true);
    }
  });

  it('the on-demand Lambda event', () => {
    for (const from of ['2024-02-30', '2024-04-01T24:00:00Z', '0000-01-01']) {
      const err = (() => {
        try {
          parseOnDemandEvent({ action: 'export', kind: 'review', from, to: '2024-05-01' });
        } catch (e) {
          return e;
        }
      })();
      expect(isSessiontrailError(err, 'BAD_REQUEST')).toBe(true);
      expect((err as Error).message).toMatch(/not a real date/);
    }
  });

  it('the schedule: year 0000 is refused, year 0050 gives 0050 (never a 1900s window)', () => {
    expect(() => previousMonthWindow('0000-03-01T06:00:00Z')).toThrow(/year 0000/);
    expect(() => previousMonthWindow('2024-02-30T06:00:00Z')).toThrow(/2024-02 has 29 days/);
    expect(previousMonthWindow('0050-03-01T06:00:00Z')).toEqual({
      from: '0050-02-01T00:00:00.000Z',
      to: '0050-03-01T00:00:00.000Z',
    });
  });
});
