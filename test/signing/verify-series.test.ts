import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import { verifySeries } from '../../lib/signing/verify-series.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';
import { evidenceFor, type Fixture, prepare, seal } from './pack-fixture.ts';

const SERIES = 'review-monthly';
/** Five monthly reviews, January to May 2024: consecutive windows, so no cadence gap. */
const MONTHS = ['2024-01', '2024-02', '2024-03', '2024-04', '2024-05', '2024-06'];
const ids = MONTHS.slice(0, 5).map((m) => `review-${m}`);

describe('verifySeries on a 5-pack monthly review series', () => {
  let f: Fixture;
  let root: string;
  let series: string;

  beforeEach(async () => {
    f = await prepare();
    for (const [i, id] of ids.entries()) {
      const window = { from: `${MONTHS[i]}-01T00:00:00.000Z`, to: `${MONTHS[i + 1]}-01T00:00:00.000Z` };
      await seal(f, id, {
        series: SERIES,
        evidence: evidenceFor(id, SERIES, window),
        clock: fixedClock(window.to),
      });
    }
    root = join(f.root, 'store');
    series = join(root, SERIES);
  });
  afterEach(async () => {
    await rm(f.root, { recursive: true, force: true });
  });

  const check = async (expectedHead?: number) =>
    verifySeries({
      store: new FsEvidenceStore(root),
      series: SERIES,
      trustedKeys: [f.publicKeyPem],
      ...(expectedHead === undefined ? {} : { expectedHead }),
    });
  const codesOf = (r: Awaited<ReturnType<typeof check>>) => [...new Set(r.checks.map((c) => c.code))].sort();

  it('accepts the intact series: sequences 1..5, each linked to the one before, no cadence gap', async () => {
    // Act
    const result = await check(5);

    // Assess
    expect(result.checks).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.head).toBe(5);
    expect(result.packs.map((p) => p.sequence).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it.each([
    ['the first', [0]],
    ['a middle one', [2]],
    ['the last', [4]],
    ['two in a row', [1, 2]],
  ])('reports SERIES_MISSING_SEQUENCE, and only that, when %s is deleted', async (_what, gone) => {
    // Prepare
    for (const i of gone) await rm(join(series, ids[i] as string), { recursive: true, force: true });

    // Act
    const result = await check();

    // Assess: the _sequence records outlive the packs, so even the last one's deletion shows.
    const missing = result.checks.filter((c) => c.code === 'SERIES_MISSING_SEQUENCE').map((c) => c.file);
    expect(missing).toEqual(gone.map((i) => `${SERIES}/_sequence/${i + 1}.json`));
    expect(codesOf(result)).toEqual(['SERIES_MISSING_SEQUENCE']);
  });

  it('reports SERIES_HEAD_MISSING when the last pack is deleted together with its sequence records', async () => {
    // Prepare: on a folder store the records can be deleted too; on S3 Object Lock keeps them.
    await rm(join(series, ids[4] as string), { recursive: true, force: true });
    await rm(join(series, '_sequence', '5.json'));
    await rm(join(series, '_sequence', '5.seal.json'));

    // Act
    const result = await check(5);

    // Assess
    expect(codesOf(result)).toEqual(['SERIES_HEAD_MISSING']);
    expect(result.head).toBe(4);
  });

  it.each([
    ['the first', 0],
    ['a middle one', 2],
    ['the last', 4],
  ])('reports SERIES_REPLACED_PACK when %s is replaced by a pack re-sealed by another key', async (_what, i) => {
    // Prepare: an attacker re-seals the pack of that id with their own key into a scratch store,
    // then puts it in place of the genuine one.
    const attacker = await prepare();
    const id = ids[i] as string;
    await seal(attacker, id, { series: SERIES, evidence: evidenceFor(id, SERIES) });
    await rm(join(series, id), { recursive: true, force: true });
    await cp(join(attacker.root, 'store', SERIES, id), join(series, id), { recursive: true });
    await rm(attacker.root, { recursive: true, force: true });

    // Act
    const result = await check();

    // Assess
    expect(codesOf(result)).toEqual(['SERIES_REPLACED_PACK']);
    expect(result.checks.find((c) => c.code === 'SERIES_REPLACED_PACK')?.file).toBe(id);
  });

  it.each([
    ['the first two', 0, 1],
    ['two in the middle', 2, 3],
    ['the first and the last', 0, 4],
  ])('reports SERIES_REORDERED when %s packs are swapped', async (_what, a, b) => {
    // Prepare
    const [pa, pb] = [join(series, ids[a] as string), join(series, ids[b] as string)];
    await rename(pa, `${pa}.tmp`);
    await rename(pb, pa);
    await rename(`${pa}.tmp`, pb);

    // Act
    const result = await check();

    // Assess
    expect(codesOf(result)).toEqual(['SERIES_REORDERED']);
    expect(result.checks.map((c) => c.file).sort()).toEqual([ids[a], ids[b]].sort());
  });

  it('reports SERIES_BROKEN_LINK when a genuine pack of the same sequence from a fork replaces one in the chain', async () => {
    // Prepare: a second series folder sealed with the same key (a fork made elsewhere), whose
    // pack 2 names another pack 1; moved into this series in place of pack 2's folder content.
    const forkRoot = await mkdtemp(join(f.root, 'fork-'));
    const fork = { store: new FsEvidenceStore(forkRoot), signer: f.signer };
    await seal(fork, 'review-2023-12', { series: SERIES, evidence: evidenceFor('review-2023-12', SERIES) });
    const window = { from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' };
    await seal(fork, ids[1] as string, {
      series: SERIES,
      evidence: evidenceFor(ids[1] as string, SERIES, window),
    });
    await rm(join(series, ids[1] as string), { recursive: true, force: true });
    await cp(join(forkRoot, SERIES, ids[1] as string), join(series, ids[1] as string), { recursive: true });

    // Act
    const result = await check();

    // Assess: it verifies on its own, but names a previous pack this series never had, and is not
    // the manifest the series recorded when sequence 2 was sealed.
    expect(codesOf(result)).toEqual(['SERIES_BROKEN_LINK', 'SERIES_REPLACED_PACK']);
  });

  it('reports SERIES_FORK when two packs claim the same sequence number', async () => {
    // Prepare: a genuine pack from a fork (same key, sequence 2) added beside the chain.
    const forkRoot = await mkdtemp(join(f.root, 'fork-'));
    const fork = { store: new FsEvidenceStore(forkRoot), signer: f.signer };
    await seal(fork, 'review-2023-12', { series: SERIES, evidence: evidenceFor('review-2023-12', SERIES) });
    await seal(fork, 'review-extra', { series: SERIES, evidence: evidenceFor('review-extra', SERIES) });
    await cp(join(forkRoot, SERIES, 'review-extra'), join(series, 'review-extra'), { recursive: true });

    // Act
    const result = await check();

    // Assess
    expect(codesOf(result)).toContain('SERIES_FORK');
  });

  it('reports SERIES_CADENCE_GAP when a review series skips a month', async () => {
    // Prepare: the sixth review covers July, leaving June without one.
    const window = { from: '2024-07-01T00:00:00.000Z', to: '2024-08-01T00:00:00.000Z' };
    await seal(f, 'review-2024-07', {
      series: SERIES,
      evidence: evidenceFor('review-2024-07', SERIES, window),
    });

    // Act
    const result = await check();

    // Assess
    expect(codesOf(result)).toEqual(['SERIES_CADENCE_GAP']);
    expect(result.checks[0]?.message).toContain('2024-06-01T00:00:00.000Z to 2024-07-01T00:00:00.000Z');
  });
});
