/**
 * The CloudTrail source's normalising query on real DuckDB: the file shapes (minified, pretty-printed,
 * gzip, plain array, JSON lines), malformed and empty files, the session rules and the end hints.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../lib/query/query-engine.ts';
import { buildCloudTrailNormaliseQuery } from '../../lib/sources/cloudtrail.ts';

let engine: DuckDbEngine;
let dir: string;

beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'st-ct-'));
});
afterAll(async () => {
  await engine.close();
});

async function normalise(files: Record<string, string | Buffer>, gapMs?: number): Promise<Row[]> {
  const list = [];
  for (const [key, content] of Object.entries(files)) {
    const path = join(dir, `${Math.random().toString(36).slice(2)}-${key.replaceAll('/', '_')}`);
    await writeFile(path, content);
    list.push({ path, key });
  }
  await engine.materialize(
    'lines',
    buildCloudTrailNormaliseQuery(
      engine.dialect,
      { kind: 'files', files: list },
      gapMs === undefined ? {} : { inactivityGapMs: gapMs },
    ),
  );
  return (
    await engine.select({ name: 't', sql: 'SELECT * FROM lines ORDER BY raw_ref, record_uid', params: [] })
  ).rows;
}

const ACCOUNT = '111122223333';
let n = 0;
function call(
  over: Record<string, unknown> & { eventName: string; eventTime: string },
): Record<string, unknown> {
  n += 1;
  return {
    eventVersion: '1.08',
    eventID: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
    eventSource: 'iam.amazonaws.com',
    awsRegion: 'us-east-1',
    recipientAccountId: ACCOUNT,
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    userIdentity: {
      type: 'IAMUser',
      arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      accountId: ACCOUNT,
      accessKeyId: 'AKIAEXAMPLEALICE0001',
      userName: 'alice',
    },
    ...over,
  };
}

describe('buildCloudTrailNormaliseQuery: files', () => {
  it.each([
    ['minified {"Records":[…]}', 'f.json', (r: unknown[]) => JSON.stringify({ Records: r })],
    ['pretty-printed {"Records":[…]}', 'f.json', (r: unknown[]) => JSON.stringify({ Records: r }, null, 2)],
    ['gzip', 'f.json.gz', (r: unknown[]) => gzipSync(JSON.stringify({ Records: r }))],
    ['a plain JSON array', 'f.json', (r: unknown[]) => JSON.stringify(r, null, 3)],
    ['JSON lines', 'f.json', (r: unknown[]) => `${r.map((x) => JSON.stringify(x)).join('\n')}\n`],
  ])('reads %s, one row per record with its position', async (_name, key, shape) => {
    const records = [
      call({ eventName: 'ListUsers', eventTime: '2024-03-05T10:00:00Z' }),
      call({
        eventName: 'CreateUser',
        eventTime: '2024-03-05T10:01:00Z',
        requestParameters: { userName: 'bob' },
      }),
    ];
    const rows = await normalise({ [key]: shape(records) });
    const calls = rows.filter((r) => r.kind === 'activity');
    expect(calls.map((r) => [r.raw_ref, r.event_code, r.target])).toEqual([
      [`${key}#record=0`, 'iam.amazonaws.com:ListUsers', null],
      [`${key}#record=1`, 'iam.amazonaws.com:CreateUser', 'bob'],
    ]);
  });

  it('counts a malformed file, an empty file and a non-CloudTrail record as rejected, never failing', async () => {
    const rows = await normalise({
      'bad.json': '{"Records":[{"eventID":"x",',
      'empty.json': '',
      'other.json': JSON.stringify({ Records: [{ hello: 'world' }] }),
      'good.json': JSON.stringify({
        Records: [call({ eventName: 'ListUsers', eventTime: '2024-03-05T10:00:00Z' })],
      }),
    });
    const rejected = rows.filter((r) => r.status === 'rejected').map((r) => [r.object_key, r.reason]);
    expect(rejected.sort()).toEqual([
      ['bad.json', 'malformed_json'],
      ['empty.json', 'empty_file'],
      ['other.json', 'not_a_cloudtrail_record'],
    ]);
    expect(rows.filter((r) => r.status === 'event')).toHaveLength(2); // the call and its inferred logon
  });
});

describe('buildCloudTrailNormaliseQuery: sessions', () => {
  it('makes an AssumeRole the logon of the returned key, linked to the caller, ending at expiry', async () => {
    const rows = await normalise({
      'a.json': JSON.stringify({
        Records: [
          call({
            eventSource: 'sts.amazonaws.com',
            eventName: 'AssumeRole',
            eventTime: '2023-07-10T11:54:47Z',
            requestParameters: {
              roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
              roleSessionName: 's1',
              sourceIdentity: 'alice',
            },
            responseElements: {
              credentials: { accessKeyId: 'ASIAEXAMPLEROLE00001', expiration: 'Jul 10, 2023, 12:09:47 PM' },
              assumedRoleUser: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/s1` },
              sourceIdentity: 'alice',
            },
          }),
          call({
            eventName: 'CreateUser',
            eventTime: '2023-07-10T11:55:00Z',
            userIdentity: {
              type: 'AssumedRole',
              arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/s1`,
              accountId: ACCOUNT,
              accessKeyId: 'ASIAEXAMPLEROLE00001',
              sessionContext: {
                attributes: { creationDate: '2023-07-10T11:54:47Z', mfaAuthenticated: 'false' },
              },
            },
          }),
        ],
      }),
    });
    const logon = rows.find((r) => r.kind === 'logon' && r.session_uid === 'ASIAEXAMPLEROLE00001');
    expect(logon).toMatchObject({
      host: ACCOUNT,
      user_uid: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/s1`,
      user_name: 'assumed-role/Admin/s1',
      user_domain: ACCOUNT,
      linked_session_uid: 'AKIAEXAMPLEALICE0001',
      end_hint_ms: Date.parse('2023-07-10T12:09:47Z'),
      end_hint: 'credentials_expired',
    });
    expect(JSON.parse(String(logon?.details))).toMatchObject({
      role_arn: `arn:aws:iam::${ACCOUNT}:role/Admin`,
      source_identity: 'alice',
    });
    expect(rows.find((r) => r.action === 'CreateUser')?.session_uid).toBe('ASIAEXAMPLEROLE00001');
    // the AssumeRole is also the caller's activity
    expect(rows.find((r) => String(r.record_uid).endsWith('#caller'))?.session_uid).toBe(
      'AKIAEXAMPLEALICE0001',
    );
  });

  it('ties console calls to their sign-in by principal and creationDate, whatever key they use', async () => {
    const console = (key: string, t: string) =>
      call({
        eventName: 'ListRoles',
        eventTime: t,
        sessionCredentialFromConsole: 'true',
        userIdentity: {
          type: 'IAMUser',
          arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
          accountId: ACCOUNT,
          accessKeyId: key,
          sessionContext: { attributes: { creationDate: '2024-03-05T09:00:00Z', mfaAuthenticated: 'true' } },
        },
      });
    const rows = await normalise({
      'c.json': JSON.stringify({
        Records: [
          call({
            eventSource: 'signin.amazonaws.com',
            eventName: 'ConsoleLogin',
            eventTime: '2024-03-05T09:00:00Z',
            userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT },
            responseElements: { ConsoleLogin: 'Success' },
            additionalEventData: { MFAUsed: 'Yes' },
          }),
          console('ASIACONSOLEKEY000001', '2024-03-05T09:01:00Z'),
          console('ASIACONSOLEKEY000002', '2024-03-05T09:20:00Z'),
          call({
            eventSource: 'signin.amazonaws.com',
            eventName: 'ConsoleLogin',
            eventTime: '2024-03-05T09:30:00Z',
            errorMessage: 'Failed authentication',
            userIdentity: { type: 'IAMUser', accountId: ACCOUNT, userName: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
            responseElements: { ConsoleLogin: 'Failure' },
          }),
        ],
      }),
    });
    const uid = `arn:aws:iam::${ACCOUNT}:user/alice@2024-03-05T09:00:00Z`;
    expect(rows.filter((r) => r.session_uid === uid).map((r) => r.kind)).toEqual([
      'logon',
      'activity',
      'activity',
    ]);
    expect(rows.find((r) => r.kind === 'logon')).toMatchObject({
      end_hint_ms: Date.parse('2024-03-05T09:20:00Z'),
      end_hint: 'last_activity',
    });
    expect(rows.find((r) => r.kind === 'failed_logon')).toMatchObject({
      user_uid: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      session_uid: null,
    });
  });

  it('splits a long-term key into bursts at the inactivity gap, with an inferred logon each', async () => {
    const times = [
      '2024-03-05T10:00:00Z',
      '2024-03-05T10:20:00Z',
      '2024-03-05T11:00:00Z',
      '2024-03-05T11:05:00Z',
    ];
    const records = times.map((t) => call({ eventName: 'ListUsers', eventTime: t }));
    // a duplicate of the first call (another trail's copy) changes nothing
    const rows = await normalise(
      {
        'b1.json': JSON.stringify({ Records: records }),
        'b2.json': JSON.stringify({ Records: [records[0]] }),
      },
      30 * 60_000,
    );
    const logons = rows.filter((r) => r.kind === 'logon');
    expect(
      logons.map((r) => [
        new Date(Number(r.time_ms)).toISOString(),
        new Date(Number(r.end_hint_ms)).toISOString(),
      ]),
    ).toEqual([
      ['2024-03-05T10:00:00.000Z', '2024-03-05T10:20:00.000Z'],
      ['2024-03-05T11:00:00.000Z', '2024-03-05T11:05:00.000Z'],
    ]);
    expect(
      logons.every(
        (r) => r.action === 'logon_inferred_from_activity' && r.session_uid === 'AKIAEXAMPLEALICE0001',
      ),
    ).toBe(true);
    expect(rows.filter((r) => r.kind === 'activity')).toHaveLength(5);
  });

  it('keeps a failed call as activity with its error, and skips AWS service events', async () => {
    const rows = await normalise({
      'e.json': JSON.stringify({
        Records: [
          call({
            eventName: 'AttachUserPolicy',
            eventTime: '2024-03-05T10:00:00Z',
            errorCode: 'AccessDenied',
            errorMessage: 'no',
          }),
          {
            ...call({ eventName: 'Decrypt', eventTime: '2024-03-05T10:00:00Z' }),
            userIdentity: { type: 'AWSService', invokedBy: 'kms.amazonaws.com' },
          },
        ],
      }),
    });
    expect(rows.find((r) => r.kind === 'activity')).toMatchObject({
      action: 'AttachUserPolicy failed: AccessDenied',
      target: '(AccessDenied: no)',
    });
    expect(rows.find((r) => r.status === 'skipped')?.reason).toBe('aws_service_caller');
  });

  it('classes log tampering as integrity events of the caller, denied attempts included', async () => {
    const trail = { name: 'management-events' };
    const rows = await normalise({
      't.json': JSON.stringify({
        Records: [
          call({
            eventSource: 'cloudtrail.amazonaws.com',
            eventName: 'StopLogging',
            eventTime: '2024-03-05T10:00:00Z',
            requestParameters: trail,
            errorCode: 'AccessDenied',
            errorMessage: 'no',
          }),
          call({
            eventSource: 'cloudtrail.amazonaws.com',
            eventName: 'DeleteTrail',
            eventTime: '2024-03-05T10:01:00Z',
            requestParameters: trail,
          }),
          call({
            eventSource: 'cloudtrail.amazonaws.com',
            eventName: 'PutEventSelectors',
            eventTime: '2024-03-05T10:02:00Z',
            requestParameters: { trailName: 'x' },
          }),
          call({
            eventSource: 'config.amazonaws.com',
            eventName: 'StopConfigurationRecorder',
            eventTime: '2024-03-05T10:03:00Z',
          }),
          call({
            eventSource: 'cloudtrail.amazonaws.com',
            eventName: 'DescribeTrails',
            eventTime: '2024-03-05T10:04:00Z',
          }),
        ],
      }),
    });
    const events = rows.filter((r) => r.status === 'event' && r.kind !== 'logon');
    expect(events.map((r) => [r.event_code, r.kind, r.action, r.session_uid])).toEqual([
      [
        'cloudtrail.amazonaws.com:StopLogging',
        'integrity',
        'StopLogging failed: AccessDenied',
        'AKIAEXAMPLEALICE0001',
      ],
      ['cloudtrail.amazonaws.com:DeleteTrail', 'integrity', 'DeleteTrail', 'AKIAEXAMPLEALICE0001'],
      [
        'cloudtrail.amazonaws.com:PutEventSelectors',
        'integrity',
        'PutEventSelectors',
        'AKIAEXAMPLEALICE0001',
      ],
      [
        'config.amazonaws.com:StopConfigurationRecorder',
        'integrity',
        'StopConfigurationRecorder',
        'AKIAEXAMPLEALICE0001',
      ],
      ['cloudtrail.amazonaws.com:DescribeTrails', 'activity', 'DescribeTrails', 'AKIAEXAMPLEALICE0001'],
    ]);
  });
});
