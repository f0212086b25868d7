import { describe, expect, it } from 'vitest';
import { timeAxisTicks } from '../../../lib/render/pdf/time-axis.ts';

const from = Date.parse('2024-03-01T00:00:00.000Z');
const HOUR = 3_600_000;

describe('timeAxisTicks', () => {
  it.each([
    { span: 'one hour', ms: HOUR, step: 5 * 60_000, label: '00:05' },
    { span: 'one day', ms: 24 * HOUR, step: 2 * HOUR, label: '02:00' },
    { span: 'one week', ms: 7 * 24 * HOUR, step: 24 * HOUR, label: '2024-03-02' },
    { span: 'one quarter', ms: 91 * 24 * HOUR, step: 14 * 24 * HOUR, label: '2024-03-15' },
  ])('keeps $span under the label limit with round steps', ({ ms, step, label }) => {
    const { step: chosen, ticks } = timeAxisTicks(from, from + ms, 12);
    expect(chosen).toBe(step);
    expect(ticks.length).toBeLessThanOrEqual(13);
    expect(ticks[1]?.label).toBe(label);
    expect(ticks.every((t) => t.at >= from && t.at <= from + ms)).toBe(true);
  });

  it('puts the date on the first tick of each day', () => {
    const { ticks } = timeAxisTicks(from + 20 * HOUR, from + 30 * HOUR, 12);
    expect(ticks.filter((t) => t.major).map((t) => t.label)).toEqual(['03-01 20:00', '03-02 00:00']);
  });
});
