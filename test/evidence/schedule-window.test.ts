import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { previousMonthWindow } from '../../lib/evidence/schedule-window.ts';

describe('previousMonthWindow', () => {
  it.each([
    ['2024-04-01T06:00:00Z', 'UTC', '2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
    // January reviews December of the year before.
    ['2025-01-01T06:00:00Z', 'UTC', '2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    // A leap February.
    ['2024-03-01T00:00:00Z', 'UTC', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    // A late or retried run in the same month reviews the same month.
    ['2024-04-30T23:59:59.999Z', 'UTC', '2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
    // An offset in the scheduled time is the same instant.
    ['2024-04-01T08:00:00+02:00', 'UTC', '2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
    // In Berlin, March runs from CET midnight to CEST midnight (DST starts 2024-03-31).
    ['2024-04-01T04:00:00Z', 'Europe/Berlin', '2024-02-29T23:00:00.000Z', '2024-03-31T22:00:00.000Z'],
    // 06:00 on the 1st in Auckland is still the previous day in UTC: the zone decides the month.
    ['2024-03-31T17:00:00Z', 'Pacific/Auckland', '2024-02-29T11:00:00.000Z', '2024-03-31T11:00:00.000Z'],
  ])('gives the month before %s in %s', (scheduled, zone, from, to) => {
    // Act
    const window = previousMonthWindow(scheduled, zone);
    // Assess
    expect(window).toEqual({ from, to });
  });

  it('is deterministic: the same scheduled time always gives the same window', () => {
    expect(previousMonthWindow('2024-04-01T06:00:00Z')).toEqual(previousMonthWindow('2024-04-01T06:00:00Z'));
  });

  it.each([
    '2024-04-01T06:00:00',
    '2024-04-01',
    'yesterday',
    '2024-13-01T00:00:00Z',
  ])('refuses the scheduled time %s with BAD_WINDOW', (scheduled) => {
    expect(() => previousMonthWindow(scheduled)).toThrow(
      expect.objectContaining({ code: 'BAD_WINDOW' }) as unknown as Error,
    );
  });

  it('refuses an unknown time zone with BAD_REQUEST', () => {
    let caught: unknown;
    try {
      previousMonthWindow('2024-04-01T06:00:00Z', 'Mars/Olympus');
    } catch (err) {
      caught = err;
    }
    expect(isSessiontrailError(caught, 'BAD_REQUEST')).toBe(true);
    expect((caught as Error).message).toContain('Mars/Olympus');
  });
});
