/**
 * The CloudTrail sample generator: deterministic bytes, CloudTrail's delivery layout, and a ground
 * truth consistent with the files it describes.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type CloudTrailGroundTruth,
  generateCloudTrailSample,
  stsExpiration,
} from '../../sample/cloudtrail-sample.ts';

async function sample(seed: number) {
  const outDir = await mkdtemp(join(tmpdir(), 'st-ct-sample-'));
  const result = await generateCloudTrailSample({ seed, days: 2, from: '2024-03-04', outDir });
  return { outDir, result };
}

describe('generateCloudTrailSample', () => {
  it('writes the same bytes for the same options', async () => {
    const a = await sample(3);
    const b = await sample(3);
    expect(a.result.files).toEqual(b.result.files);
    for (const f of [...a.result.files, 'cloudtrail-ground-truth.json'])
      expect(await readFile(join(a.outDir, f))).toEqual(await readFile(join(b.outDir, f)));
  });

  it('lays files out as CloudTrail delivers them, one {"Records":[…]} document each, gzip', async () => {
    const { outDir, result } = await sample(5);
    for (const f of result.files)
      expect(f).toMatch(
        /^cloudtrail\/AWSLogs\/111122223333\/CloudTrail\/us-east-1\/2024\/03\/0[45]\/111122223333_CloudTrail_us-east-1_2024030[45]T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/,
      );
    let records = 0;
    let malformed = 0;
    for (const f of result.files) {
      const text = gunzipSync(await readFile(join(outDir, f))).toString('utf8');
      try {
        records += (JSON.parse(text) as { Records: unknown[] }).Records.length;
      } catch {
        malformed += 1;
      }
    }
    expect(malformed).toBe(1);
    expect(records).toBe(result.records);
  });

  it('describes every session with its activity in the files', async () => {
    const { outDir, result } = await sample(9);
    const gt = JSON.parse(await readFile(result.groundTruthPath, 'utf8')) as CloudTrailGroundTruth;
    expect(gt.sessions.filter((s) => s.privileged).length).toBe(2 * 4 + 1);
    expect(new Set(gt.sessions.map((s) => s.kind))).toEqual(
      new Set(['sso_role', 'role_chain', 'console', 'long_term_key_burst']),
    );
    for (const s of gt.sessions) {
      expect(s.activity.length).toBeGreaterThan(0);
      for (const ref of s.activity) {
        const [file, idx] = ref.split('#record=') as [string, string];
        const doc = JSON.parse(gunzipSync(await readFile(join(outDir, file))).toString('utf8')) as {
          Records: { eventTime: string }[];
        };
        const t = Date.parse(doc.Records[Number(idx)]?.eventTime ?? '');
        expect(t).toBeGreaterThanOrEqual(Date.parse(s.start));
        expect(t).toBeLessThanOrEqual(Date.parse(s.end));
      }
    }
  });

  it.each([
    [Date.parse('2023-07-10T12:09:47Z'), 'Jul 10, 2023, 12:09:47 PM'],
    [Date.parse('2024-11-30T20:43:17Z'), 'Nov 30, 2024, 8:43:17 PM'],
    [Date.parse('2024-03-04T00:05:00Z'), 'Mar 4, 2024, 12:05:00 AM'],
  ])('writes credentials.expiration as STS does (%i → %s)', (ms, text) => {
    expect(stsExpiration(ms)).toBe(text);
  });
});
