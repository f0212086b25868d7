/**
 * A CloudTrail file larger than Athena's 32 MB row limit (Athena user guide, "Service Quotas": row
 * or column size), generated into a temporary folder (never committed): `SESSIONS` instance-profile
 * sessions, each an `AssumeRole` by ec2.amazonaws.com and `CALLS` calls under the key it returned,
 * each call's request padded so that the document passes 50 MiB, plus one JSON value that is no
 * CloudTrail record in the middle.
 *
 * DuckDB reads it through the local intake, which splits the `{"Records":[…]}` document into one
 * line per record: every record is read, the bad one alone is rejected.
 *
 * Trino reads it through the staging (lib/locate/record-staging.ts), which splits it with the
 * same code into per-record lines that the table reads, one row per record: the same counts, no
 * line near the catalog's 32 MB line limit (`hive.text.max-line-length`, Athena's row limit). The
 * delivered file itself is never a table's file: Trino 476 ran out of memory on it as one line.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { findLocalLogs } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { QueryEngine, Row } from '../../lib/query/query-engine.ts';
import { buildCloudTrailNormaliseQuery } from '../../lib/sources/cloudtrail.ts';
import { CLOUDTRAIL_RAW_TABLE } from '../../lib/sources/cloudtrail-raw-table.ts';
import {
  registerRawTables,
  testEngine,
  trinoAvailability,
  uniqueName,
} from '../query/trino/trino-test-server.ts';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const DAY = '2024-05-06';
const SESSIONS = 400;
const CALLS = 80;
/** Characters of padding in each call's request, so that the document passes 50 MiB. */
const PADDING = 1400;
const MIB = 1024 * 1024;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const uuid = (n: number) => `${hex(n, 8)}-0000-4000-8000-${hex(n, 12)}`;
const at = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The document: session i's AssumeRole, then its calls; records in time order; one bad value in the middle. */
function largeDocument(): { readonly text: string; readonly records: number } {
  const start = Date.parse(`${DAY}T00:00:00Z`);
  const records: unknown[] = [];
  let id = 0;
  for (let s = 0; s < SESSIONS; s++) {
    const key = `ASIA${hex(s, 16).toUpperCase()}`;
    const t0 = start + s * 60_000;
    const role = `arn:aws:iam::${ACCOUNT}:role/app-${s % 7}`;
    records.push({
      eventVersion: '1.08',
      userIdentity: { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' },
      eventTime: at(t0),
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      awsRegion: REGION,
      sourceIPAddress: 'ec2.amazonaws.com',
      userAgent: 'ec2.amazonaws.com',
      requestParameters: { roleArn: role, roleSessionName: `i-${hex(s, 17)}` },
      responseElements: {
        credentials: { accessKeyId: key, expiration: 'May 6, 2024, 6:00:00 PM' },
      },
      eventID: uuid(id++),
      eventType: 'AwsApiCall',
      recipientAccountId: ACCOUNT,
    });
    for (let c = 0; c < CALLS; c++) {
      records.push({
        eventVersion: '1.08',
        userIdentity: {
          type: 'AssumedRole',
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app-${s % 7}/i-${hex(s, 17)}`,
          accountId: ACCOUNT,
          accessKeyId: key,
        },
        eventTime: at(t0 + (c + 1) * 500),
        eventSource: 'ec2.amazonaws.com',
        eventName: 'DescribeInstances',
        awsRegion: REGION,
        sourceIPAddress: '198.51.100.7',
        userAgent: 'aws-sdk-java/1.12.0',
        requestParameters: { filterSet: { items: [{ name: 'tag:padding', value: 'x'.repeat(PADDING) }] } },
        responseElements: null,
        eventID: uuid(id++),
        eventType: 'AwsApiCall',
        recipientAccountId: ACCOUNT,
      });
    }
    if (s === SESSIONS / 2) records.push({ note: 'a JSON value that is no CloudTrail record' });
  }
  return { text: JSON.stringify({ Records: records }), records: records.length };
}

async function normalised(engine: QueryEngine, query: ReturnType<typeof buildCloudTrailNormaliseQuery>) {
  await engine.materialize('large_ct', query);
  const { rows } = await engine.select({
    name: 'rows',
    sql: `SELECT * FROM ${engine.dialect.workTable('large_ct')}`,
    params: [],
  });
  return rows as Row[];
}

/** Writes the generated document, gzip, where CloudTrail delivers it under a fresh logs root. */
async function deliverLargeFile(): Promise<{ readonly root: string; readonly records: number }> {
  const root = await mkdtemp(join(tmpdir(), 'st-ct-large-'));
  const doc = largeDocument();
  expect(Buffer.byteLength(doc.text)).toBeGreaterThan(50 * MIB);
  const dir = join(root, 'cloudtrail', 'AWSLogs', ACCOUNT, 'CloudTrail', REGION, ...DAY.split('-'));
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, `${ACCOUNT}_CloudTrail_${REGION}_20240506T0005Z_large.json.gz`),
    gzipSync(doc.text),
  );
  return { root, records: doc.records };
}

/** What both engines must read of the file: every session's logon and calls, the bad value alone rejected. */
function expectEveryRecord(rows: readonly Row[], records: number): void {
  const count = (status: string) => rows.filter((r) => r.status === status).length;
  expect(count('event')).toBe(SESSIONS * (1 + CALLS));
  expect(count('rejected')).toBe(1);
  expect(rows.find((r) => r.status === 'rejected')?.reason).toBe('not_a_cloudtrail_record');
  // Each record of the file but the bad one is an event of its own (its eventID, once).
  const uids = new Set(rows.filter((r) => r.status === 'event').map((r) => r.record_uid));
  expect(uids.size).toBe(records - 1);
}

const trino = await trinoAvailability();

describe('CloudTrail: one file over 50 MiB (generated)', () => {
  it('DuckDB, through the local intake, reads every record of it and rejects only its one bad record', async () => {
    const { root, records } = await deliverLargeFile();
    const duck = await DuckDbEngine.open({ threads: 1 });
    try {
      const doc = { records };
      const from = Date.parse(`${DAY}T00:00:00Z`);
      const found = await findLocalLogs(root, 'cloudtrail', from, from + 86_400_000);
      try {
        const rows = await normalised(
          duck,
          buildCloudTrailNormaliseQuery(duck.dialect, { kind: 'files', files: found.files }),
        );
        expectEveryRecord(rows, doc.records);
      } finally {
        await found.cleanup();
      }
    } finally {
      await duck.close();
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);

  it.skipIf(trino.unavailable !== null)(
    'Trino, through the staging, reads every record of it one row per record and rejects only its one bad record',
    async () => {
      const { root, records } = await deliverLargeFile();
      const schema = uniqueName('raw_large');
      const tri = testEngine(trino.url as string, schema);
      try {
        // Stages the file (split per record) and creates the table over the staged copies only.
        const staged = await registerRawTables(tri, root, schema, ['cloudtrail']);
        try {
          const dir = join(root, CLOUDTRAIL_RAW_TABLE.location);
          const copies = ((await readdir(dir, { recursive: true })) as string[]).filter((f) =>
            f.endsWith('.ndjson.gz'),
          );
          expect(copies).toHaveLength(1);
          const lines = gunzipSync(await readFile(join(dir, copies[0] as string)))
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== '');
          // One line per record, the bad value included (it is valid JSON: the SQL rejects it).
          expect(lines).toHaveLength(records);
          expect(Math.max(...lines.map((l) => Buffer.byteLength(l)))).toBeLessThan(4096);
          const from = Date.parse(`${DAY}T00:00:00Z`);
          const rows = await normalised(
            tri,
            buildCloudTrailNormaliseQuery(
              tri.dialect,
              tri.rawInput('cloudtrail', from, from + 86_400_000, staged.keyPrefix),
            ),
          );
          expectEveryRecord(rows, records);
        } finally {
          await staged.remove();
        }
      } finally {
        await tri.close();
        await rm(root, { recursive: true, force: true });
      }
    },
    600_000,
  );
});
