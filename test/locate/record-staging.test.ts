/**
 * The record staging against moto S3 on 127.0.0.1: delivered `{"Records":[…]}` objects of a
 * window are split per record into the staging layout, a file cut mid-record keeps its whole
 * records, a bad record is rejected alone with its position, and a rerun reuses what was staged;
 * OCSF JSON in Security Lake folders is staged with each record's position in its file.
 */
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceTableOf } from '../../lib/locate/raw-input-plan.ts';
import { stagedKeysOf, stageRecords } from '../../lib/locate/record-staging.ts';
import { stagingOf, tableLocator } from '../../lib/locate/table-locator.ts';
import { cloudTrailRawTable } from '../../lib/sources/cloudtrail-raw-table.ts';
import { OCSF_JSON_TABLE } from '../../lib/sources/ocsf-raw-table.ts';
import { s3StagingBucket } from '../../lib/storage/s3-staging-bucket.ts';
import { cloudTrailRecord, logFolder } from '../helpers/log-folder.ts';
import { type MotoServer, startMotoServer } from '../helpers/moto-server.ts';

const BUCKET = 'staging-logs';
const ACCOUNT = '111122223333';

const record = (n: number) => cloudTrailRecord(n, 'ListUsers', ACCOUNT);
const doc = (records: readonly object[]) => JSON.stringify({ Records: records });

describe('record staging (moto S3 on 127.0.0.1)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  const put = (key: string, body: string | Uint8Array) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `logs/${key}`, Body: body }));
  const day = (org: string, region: string, d: string) =>
    `cloudtrail/AWSLogs/${org}${ACCOUNT}/CloudTrail/${region}/2024/03/${d}`;

  beforeAll(async () => {
    moto = await startMotoServer();
    s3 = moto.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // Three whole records, gzip.
    await put(`${day('', 'us-east-1', '04')}/good.json.gz`, gzipSync(doc([record(1), record(2), record(3)])));
    // Cut off inside its third record: the first two are whole.
    const whole = doc([record(4), record(5), record(6)]);
    await put(`${day('', 'eu-west-1', '04')}/cut.json`, whole.slice(0, whole.lastIndexOf('"eventName"')));
    // The second of three records holds a lone surrogate escape, which the engines refuse.
    const bad = doc([record(7), { ...record(8), eventName: '@@BAD@@' }, record(9)]).replace(
      '@@BAD@@',
      '\\ud800',
    );
    await put(`${day('', 'us-east-1', '05')}/bad-record.json`, bad);
    // Outside the window (read days: 2024-03-04 and, for the delivery lag, 2024-03-05).
    await put(`${day('', 'us-east-1', '09')}/later.json`, doc([record(1)]));
  }, 60_000);

  afterAll(async () => {
    await moto?.stop();
  });

  const table = sourceTableOf(cloudTrailRawTable(), { database: 'raw', logsRoot: `s3://${BUCKET}/logs/` });
  const from = Date.parse('2024-03-04T00:00:00Z');
  const to = Date.parse('2024-03-05T00:00:00Z');

  async function stagedLines(
    key: string,
  ): Promise<{ key: string; position: number; record: { eventID: string } }[]> {
    const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `logs/${key}` }));
    const text = gunzipSync(await (res.Body?.transformToByteArray() ?? new Uint8Array())).toString('utf8');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
  }

  it('splits each object of the window per record; a cut file keeps its whole records, a bad record is rejected alone', async () => {
    const bucket = s3StagingBucket({ client: s3, bucket: BUCKET, prefix: 'logs' });
    const files = await stageRecords(bucket, table, from, to);
    expect(files.map((f) => f.object.key)).toEqual([
      `s3://${BUCKET}/logs/${day('', 'eu-west-1', '04')}/cut.json`,
      `s3://${BUCKET}/logs/${day('', 'us-east-1', '04')}/good.json.gz`,
      `s3://${BUCKET}/logs/${day('', 'us-east-1', '05')}/bad-record.json`,
    ]);
    const [cut, good, bad] = files;
    expect(good?.object).toMatchObject({ status: 'read', reason: null, records: 3 });
    expect(good?.problems).toEqual([]);
    expect(cut?.object).toMatchObject({ status: 'read', records: 3 });
    expect(cut?.problems).toEqual([
      {
        key: `${day('', 'eu-west-1', '04')}/cut.json`,
        reason: 'truncated_record',
        count: 1,
        examples: [`${day('', 'eu-west-1', '04')}/cut.json#record=2`],
      },
    ]);
    expect(bad?.object).toMatchObject({ status: 'read', records: 3 });
    expect(bad?.problems).toEqual([
      {
        key: `${day('', 'us-east-1', '05')}/bad-record.json`,
        reason: 'lone_surrogate',
        count: 1,
        examples: [`${day('', 'us-east-1', '05')}/bad-record.json#record=1`],
      },
    ]);
    expect(files.every((f) => !f.reused)).toBe(true);

    // The staged copies: one line per kept record, with the delivered key and the record's index.
    const lines = await stagedLines(bad?.staged as string);
    expect(lines.map((l) => [l.key, l.position, l.record.eventID])).toEqual([
      [`${day('', 'us-east-1', '05')}/bad-record.json`, 0, 'e-7'],
      [`${day('', 'us-east-1', '05')}/bad-record.json`, 2, 'e-9'],
    ]);
    expect((await stagedLines(cut?.staged as string)).map((l) => [l.position, l.record.eventID])).toEqual([
      [0, 'e-4'],
      [1, 'e-5'],
    ]);
    expect((await stagedLines(good?.staged as string)).map((l) => l.record)).toEqual([
      record(1),
      record(2),
      record(3),
    ]);
    // Under the table's layout: the staged key keeps the account/region/day folders and the ETag.
    expect(good?.staged).toBe(
      stagedKeysOf(
        'cloudtrail/AWSLogs',
        `${day('', 'us-east-1', '04')}/good.json.gz`,
        good?.object.s3?.etag as string,
      ).records,
    );
    expect(good?.staged).toMatch(
      /^cloudtrail-staging\/records\/AWSLogs\/111122223333\/CloudTrail\/us-east-1\/2024\/03\/04\/good\.json\.gz\.[0-9a-f]+\.ndjson\.gz$/,
    );
  }, 60_000);

  it('a rerun reuses every staged object and reports the same accounts, writing nothing', async () => {
    const bucket = s3StagingBucket({ client: s3, bucket: BUCKET, prefix: 'logs' });
    const list = async () =>
      (
        (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'logs/cloudtrail-staging/' })))
          .Contents ?? []
      )
        .map((o) => `${o.Key} ${o.ETag} ${o.LastModified?.toISOString()}`)
        .sort();
    const before = await list();
    const first = await stageRecords(bucket, table, from, to);
    const again = await stageRecords(bucket, table, from, to);
    expect(again.every((f) => f.reused)).toBe(true);
    expect(again.map(({ reused: _, ...f }) => f)).toEqual(first.map(({ reused: _, ...f }) => f));
    expect(await list()).toEqual(before);
    // Three delivered objects: a copy and an account each.
    expect(before).toHaveLength(6);
  }, 60_000);

  it('reads an organization trail under AWSLogs/<org-id>/', async () => {
    const org = 'o-a1b2c3d4e5';
    await put(`${day(`${org}/`, 'us-east-1', '04')}/org.json`, doc([record(1), record(2)]));
    const orgTable = sourceTableOf(cloudTrailRawTable(org), {
      database: 'raw',
      logsRoot: `s3://${BUCKET}/logs/`,
    });
    const files = await stageRecords(
      s3StagingBucket({ client: s3, bucket: BUCKET, prefix: 'logs' }),
      orgTable,
      from,
      to,
    );
    expect(files.map((f) => [f.object.key, f.object.records])).toEqual([
      [`s3://${BUCKET}/logs/${day(`${org}/`, 'us-east-1', '04')}/org.json`, 2],
    ]);
    expect(files[0]?.staged).toMatch(
      new RegExp(
        `^cloudtrail-staging/records/AWSLogs/${org}/${ACCOUNT}/CloudTrail/us-east-1/2024/03/04/org\\.json\\.`,
      ),
    );
  }, 60_000);

  it('the table locator stages CloudTrail before its table is read: the staged accounts are the input list and problems', async () => {
    const bucket = s3StagingBucket({ client: s3, bucket: BUCKET, prefix: 'logs' });
    const located = await tableLocator(
      { cloudtrail: table },
      stagingOf(() => bucket),
    ).locate('cloudtrail', from, to);
    const files = await stageRecords(bucket, table, from, to);
    expect(located.input).toMatchObject({
      kind: 'table',
      format: 'records',
      dtFrom: '2024-03-04',
      dtTo: '2024-03-05',
    });
    expect(located.inputs).toEqual(files.map((f) => f.object));
    expect(located.problems.map((p) => p.reason).sort()).toEqual(['lone_surrogate', 'truncated_record']);
    // Without a staging step (a Trino catalog whose copies exist), the table is read as it is.
    expect((await tableLocator({ cloudtrail: table }).locate('cloudtrail', from, to)).problems).toEqual([]);
  }, 60_000);

  it('writes a staged object once: a second write of the same key is refused by S3 (If-None-Match) and reported as existing', async () => {
    const bucket = s3StagingBucket({ client: s3, bucket: BUCKET, prefix: 'logs' });
    const files = await logFolder({ a: 'first', b: 'second' }, 'st-put-once-');
    const dir = files.root;
    try {
      expect(
        await bucket.putOnce('cloudtrail-staging/test/once.json', join(dir, 'a'), 'application/json'),
      ).toBe(true);
      expect(
        await bucket.putOnce('cloudtrail-staging/test/once.json', join(dir, 'b'), 'application/json'),
      ).toBe(false);
      expect(new TextDecoder().decode(await bucket.read('cloudtrail-staging/test/once.json'))).toBe('first');
    } finally {
      await files.remove();
    }
  }, 60_000);

  it('stages OCSF written as JSON in Security Lake folders the same way: positions in the file, Parquet left to its table', async () => {
    const folder = 'ocsf/region=us-east-1/accountId=111122223333/eventDay=20240304';
    const ocsf = (n: number) =>
      JSON.stringify({ class_uid: 3002, time: 1709546400000 + n, metadata: { uid: `o-${n}` } });
    await put(`${folder}/lines.json`, `${ocsf(1)}\n\nnot json\n${ocsf(2)}\n`);
    await put(`${folder}/array.json.gz`, gzipSync(`[${ocsf(3)},\n${ocsf(4)}]`));
    await put(`${folder}/rows.parquet`, 'PAR1 not staged as text PAR1');
    // Another account's folder that is not an account id: not walked.
    await put('ocsf/region=us-east-1/accountId=shared/eventDay=20240304/x.json', ocsf(9));
    const bucket = s3StagingBucket({ client: s3, bucket: BUCKET, prefix: 'logs' });
    const ocsfTable = sourceTableOf(OCSF_JSON_TABLE, { database: 'raw', logsRoot: `s3://${BUCKET}/logs/` });
    const files = await stageRecords(bucket, ocsfTable, from, to);
    expect(files.map((f) => f.object.key)).toEqual([
      `s3://${BUCKET}/logs/${folder}/array.json.gz`,
      `s3://${BUCKET}/logs/${folder}/lines.json`,
    ]);
    expect(files.map((f) => f.staged)).toEqual([
      expect.stringMatching(
        /^ocsf-staging\/records\/region=us-east-1\/accountId=111122223333\/eventDay=20240304\/array\.json\.gz\.[0-9a-f]+\.ndjson\.gz$/,
      ),
      expect.stringMatching(
        /^ocsf-staging\/records\/region=us-east-1\/accountId=111122223333\/eventDay=20240304\/lines\.json\.[0-9a-f]+\.ndjson\.gz$/,
      ),
    ]);
    const lines = (await stagedLines(files[1]?.staged as string)) as unknown as Record<string, unknown>[];
    expect(lines.map(({ key, position, problem }) => ({ key, position, problem }))).toEqual([
      { key: `${folder}/lines.json`, position: 0, problem: undefined },
      { key: `${folder}/lines.json`, position: 2, problem: 'malformed_json' },
      { key: `${folder}/lines.json`, position: 3, problem: undefined },
    ]);
    expect((await stagedLines(files[0]?.staged as string)).map((l) => l.position)).toEqual([0, 1]);
  }, 60_000);
});
