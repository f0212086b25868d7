/**
 * The one session rule that lives in a source: calls of a CloudTrail long-term key (`AKIA…`, no
 * logon is ever logged) are split into sessions by an inactivity gap of 30 minutes
 * (`CLOUDTRAIL_INACTIVITY_GAP_MS`, domain notes §3: "bucket them by key + inactivity gap"). Tested
 * with the default gap, just inside and just outside, on the real normalising query in DuckDB.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../../lib/query/duckdb/duckdb-engine.ts';
import { buildCloudTrailNormaliseQuery } from '../../../lib/sources/cloudtrail.ts';

/** The documented gap: 30 minutes. */
const GAP_MS = 30 * 60_000;

let engine: DuckDbEngine;
let dir: string;
beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 1 });
  dir = await mkdtemp(join(tmpdir(), 'st-ct-gap-'));
});
afterAll(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (i: number, timeMs: number) => ({
  eventVersion: '1.08',
  eventID: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
  eventTime: new Date(timeMs).toISOString(),
  eventSource: 'iam.amazonaws.com',
  eventName: 'ListUsers',
  awsRegion: 'us-east-1',
  recipientAccountId: '111122223333',
  sourceIPAddress: '198.51.100.7',
  userIdentity: {
    type: 'IAMUser',
    arn: 'arn:aws:iam::111122223333:user/alice',
    accountId: '111122223333',
    accessKeyId: 'AKIAEXAMPLEALICE0001',
    userName: 'alice',
  },
});

describe('CloudTrail long-term keys: one session per burst of calls', () => {
  const t0 = Date.parse('2024-03-04T10:00:00.000Z');
  it.each<[string, number, number]>([
    ['1 ms less than the gap apart: one session', GAP_MS - 1, 1],
    ['exactly the gap apart: one session', GAP_MS, 1],
    ['1 ms more than the gap apart: two sessions', GAP_MS + 1, 2],
  ])('two calls %s', async (name, apartMs, sessions) => {
    const path = join(dir, `${name.replaceAll(' ', '-')}.json`);
    await writeFile(path, JSON.stringify({ Records: [call(1, t0), call(2, t0 + apartMs)] }));
    await engine.materialize(
      'ct_lines',
      buildCloudTrailNormaliseQuery(engine.dialect, { kind: 'files', files: [{ path, key: 'c.json' }] }),
    );
    const { rows } = await engine.select({
      name: 'read',
      sql: `SELECT time_ms, end_hint_ms, end_hint FROM ct_lines WHERE kind = 'logon' ORDER BY time_ms`,
      params: [],
    });
    expect(rows).toEqual(
      sessions === 1
        ? [{ time_ms: t0, end_hint_ms: t0 + apartMs, end_hint: 'last_activity' }]
        : [
            { time_ms: t0, end_hint_ms: t0, end_hint: 'last_activity' },
            { time_ms: t0 + apartMs, end_hint_ms: t0 + apartMs, end_hint: 'last_activity' },
          ],
    );
  });
});
