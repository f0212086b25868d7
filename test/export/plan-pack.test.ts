import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type SuppressionRule } from '../../lib/config/config.ts';
import { isSessiontrailError } from '../../lib/errors.ts';
import type { ExportRequest } from '../../lib/evidence/request.ts';
import { applicableRules, planPack } from '../../lib/export/plan-pack.ts';
import type { RawLogLocator } from '../../lib/locate/raw-log-locator.ts';

/** A locator that holds `sources` and is never asked to locate anything here. */
function locatorOf(sources: readonly string[]): RawLogLocator {
  return {
    sources: async () => sources,
    locate: async () => {
      throw new Error('planning never locates logs');
    },
  } satisfies RawLogLocator;
}

const audit: ExportRequest = {
  kind: 'audit',
  from: '2024-07-01',
  to: '2024-10-01',
  users: ['CORP\\adm.alice'],
  requester: 'J. Auditor',
  reason: 'Q3 SOX review',
};

describe('planPack', () => {
  it('names the pack from its content: same request, same id; another reason or config, another id', async () => {
    // Prepare
    const locator = locatorOf(['windows']);
    // Act
    const first = await planPack(audit, DEFAULT_CONFIG, locator);
    // Assess
    expect(first.packId).toMatch(/^audit-2024-07-01-[0-9a-f]{12}$/);
    expect(first.dir).toBe(`audit/${first.packId}`);
    expect((await planPack({ ...audit }, DEFAULT_CONFIG, locator)).packId).toBe(first.packId);
    expect((await planPack({ ...audit, reason: 'Q4' }, DEFAULT_CONFIG, locator)).packId).not.toBe(
      first.packId,
    );
    expect((await planPack(audit, { ...DEFAULT_CONFIG, lookback_hours: 1 }, locator)).packId).not.toBe(
      first.packId,
    );
  });

  it('makes a control reference part of the identity, and leaves the id of a request without one unchanged', async () => {
    const locator = locatorOf(['windows']);
    const without = await planPack(audit, DEFAULT_CONFIG, locator);
    const withRef = await planPack(
      { ...audit, controlReference: ' SOX ITGC AC-07 ' },
      DEFAULT_CONFIG,
      locator,
    );
    expect(withRef.request.controlReference).toBe('SOX ITGC AC-07');
    expect(without.request.controlReference).toBeNull();
    expect(withRef.packId).not.toBe(without.packId);
    // Without a control reference, the id is the digest of the fields it always had (fixed in this test).
    expect(without.packId).toBe((await planPack({ ...audit }, DEFAULT_CONFIG, locator)).packId);
  });

  it('reads the sources the logs hold when the request names none, so a subset of sources is a different pack', async () => {
    const all = await planPack(audit, DEFAULT_CONFIG, locatorOf(['cloudtrail', 'windows']));
    const subset = await planPack(audit, DEFAULT_CONFIG, locatorOf(['windows']));
    expect(all.request.sources).toEqual(['cloudtrail', 'windows']);
    expect(subset.request.sources).toEqual(['windows']);
    expect(subset.packId).not.toBe(all.packId);
  });

  it('reads the sources the request names, whatever the logs hold', async () => {
    const plan = await planPack(
      { ...audit, sources: ['windows'] },
      DEFAULT_CONFIG,
      locatorOf(['cloudtrail']),
    );
    expect(plan.request.sources).toEqual(['windows']);
  });

  it('refuses with NO_SOURCE_DATA when the request names no source and the logs hold none', async () => {
    const err = await planPack(audit, DEFAULT_CONFIG, locatorOf([])).catch((e: unknown) => e);
    expect(isSessiontrailError(err, 'NO_SOURCE_DATA')).toBe(true);
  });

  it('starts the data read the configured look-back before the window', async () => {
    const plan = await planPack(audit, { ...DEFAULT_CONFIG, lookback_hours: 24 }, locatorOf(['windows']));
    expect(plan.dataFromMs).toBe(Date.parse('2024-06-30T00:00:00Z'));
    expect(plan.reconstruction.fromMs).toBe(Date.parse('2024-07-01T00:00:00Z'));
  });
});

describe('applicableRules', () => {
  const rule = (expires?: string): SuppressionRule => ({
    id: `r-${expires ?? 'never'}`,
    description: 'routine service logons',
    owner: 'ops',
    reason: 'routine',
    ...(expires === undefined ? {} : { expires }),
    match: { names: ['svc'] },
  });

  it.each([
    // The window ends 2024-10-01T00:00:00Z (exclusive): the rule must cover up to its last millisecond.
    ['2024-09-29', 'expired'],
    ['2024-09-30', 'active'],
    ['2024-10-01', 'active'],
    [undefined, 'active'],
  ] as const)('a rule expiring %s is %s for a window ending 2024-10-01', (expires, expected) => {
    const { active, expired } = applicableRules([rule(expires)], '2024-10-01T00:00:00.000Z');
    expect(active.length === 1 ? 'active' : 'expired').toBe(expected);
    expect(active.length + expired.length).toBe(1);
  });
});
