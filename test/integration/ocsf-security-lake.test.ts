/**
 * Amazon Security Lake OCSF 1.0.0-rc.2 Parquet samples (../shared/datasets/ocsf, MIT-0), read with real
 * DuckDB: normalised rows, and a pack built end to end. The counts are derived here: the Parquet files
 * by listing them, their records from the original CloudTrail record each was made from (the upstream
 * README: "an inputs folder containing an original log record for each respective parquet file").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateEvidence } from '../../lib/evidence/schema.ts';
import { findLocalLogs } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../lib/query/query-engine.ts';
import { buildOcsfNormaliseQuery } from '../../lib/sources/ocsf.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport } from '../helpers/local-export.ts';

const SAMPLES = dataset('ocsf', 'security-lake-samples');
let rows: Row[];

const PARQUET = (readdirSync(SAMPLES, { recursive: true }) as string[]).filter((n) => n.endsWith('.parquet'));
/** Records in the original CloudTrail file beside each Parquet file (`input/<name>.gz`). */
const recordsOfInput = (parquet: string) => {
  const input = join(SAMPLES, dirname(parquet), 'input', basename(parquet, '.parquet'));
  const doc = JSON.parse(gunzipSync(readFileSync(input)).toString('utf8')) as { Records?: unknown[] };
  return doc.Records?.length ?? 1;
};
const RECORDS = PARQUET.reduce((n, f) => n + recordsOfInput(f), 0);

beforeAll(async () => {
  const engine = await DuckDbEngine.open({ threads: 2 });
  try {
    const found = await findLocalLogs(SAMPLES, 'ocsf', 0, Date.parse('2030-01-01'));
    await engine.materialize(
      'lines',
      buildOcsfNormaliseQuery(engine.dialect, { kind: 'files', files: found.files }),
    );
    rows = (await engine.select({ name: 't', sql: 'SELECT * FROM lines ORDER BY raw_ref', params: [] })).rows;
  } finally {
    await engine.close();
  }
}, 60_000);

const row = (file: string) => {
  const r = rows.find((x) => String(x.object_key).endsWith(`/${file}`));
  if (r === undefined) throw new Error(`no row for ${file}`);
  return r;
};

describe('OCSF Security Lake samples (Parquet)', () => {
  it('reads every Parquet file (the JSON inputs beside them are CloudTrail, not OCSF), one row per record', () => {
    expect(new Set(rows.map((r) => r.object_key)).size).toBe(PARQUET.length);
    const counts = Object.fromEntries(
      ['event', 'skipped', 'rejected'].map((s) => [s, rows.filter((r) => r.status === s).length]),
    );
    // A Parquet row is cited by its metadata.uid (no engine's Hive table numbers Parquet rows), a
    // skipped one by its file.
    for (const r of rows)
      expect(String(r.raw_ref)).toBe(
        r.status === 'event' ? `${r.object_key}#record=uid:${r.record_uid}` : String(r.object_key),
      );
    // Every record an event but CheckMfa, skipped below.
    expect(counts).toEqual({ event: RECORDS - 1, skipped: 1, rejected: 0 });
    // CheckMfa is an Authentication record but not a logon
    expect(row('CheckMfa.test.gz.parquet')).toMatchObject({
      status: 'skipped',
      reason: 'other_authentication_activity',
    });
  });

  it('maps an AssumeRole authentication to a logon keyed by the returned key, ending at expiry', () => {
    expect(row('AssumeRole.test.gz.parquet')).toMatchObject({
      status: 'event',
      source: 'ocsf',
      kind: 'logon',
      host: '111122223333',
      event_code: '300201',
      session_uid: 'AKIAQRSTUVWXYZEXAMPLE',
      linked_session_uid: 'AKIAQRSTUVWXYZEXAMPLE',
      user_uid: 'arn:aws:sts::111122223333:assumed-role/EC2-dev/JohnDoe-EC2-dev',
      time_ms: 1405696059000,
      // unmapped['responseElements.credentials.expiration'] = "Jul 18, 2023, 4:07:39 PM" (UTC)
      end_hint_ms: Date.parse('2023-07-18T16:07:39Z'),
      end_hint: 'credentials_expired',
      src_ip: '192.0.2.101',
    });
  });

  it('maps console sign-ins: success as a logon of the principal, failure as a failed logon', () => {
    expect(row('ConsoleLogin-mfa.test.gz.parquet')).toMatchObject({
      kind: 'logon',
      user_uid: 'arn:aws:iam::111122223333:user/anaya',
      session_uid: 'arn:aws:iam::111122223333:user/anaya@1668097474000',
    });
    expect(JSON.parse(String(row('ConsoleLogin-mfa.test.gz.parquet').details))).toMatchObject({
      ocsf_version: '1.0.0-rc.2',
      mfa: 'true',
    });
    expect(row('ConsoleLogin-mfa-failure.test.gz.parquet')).toMatchObject({
      kind: 'failed_logon',
      session_uid: null,
    });
  });

  it('maps account changes to activity of the signing key, with the 1.0.0-rc.2 ARN in uuid', () => {
    expect(row('CreateUser.test.gz.parquet')).toMatchObject({
      kind: 'activity',
      event_code: 'iam.amazonaws.com:CreateUser',
      action: 'CreateUser',
      session_uid: 'ASIA2W7SOKHDHBO4U2HE',
      user_uid: 'arn:aws:sts::112233445566:assumed-role/Admin/Admin-user',
      host: '112233445566',
    });
  });

  it('maps 1.0.0-rc.2 API Activity (3005) to activity of the signing key', () => {
    expect(row('UpdateTrail.test.gz.parquet')).toMatchObject({
      kind: 'activity',
      event_code: 'cloudtrail.amazonaws.com:UpdateTrail',
      session_uid: 'EXAMPLE_KEY_ID',
    });
  });

  it('builds a pack that validates against the schema', async () => {
    const { result } = await localExport(SAMPLES, {
      kind: 'incident',
      incidentId: 'IR-OCSF',
      hosts: ['111122223333', '444455556666', '112233445566'],
      from: '2014-07-18',
      to: '2014-07-19',
      sources: ['ocsf'],
    });
    expect(validateEvidence(result.pack).ok).toBe(true);
    const s = result.pack.sessions.find((x) => x.logon_id === 'AKIAQRSTUVWXYZEXAMPLE');
    expect(s).toMatchObject({
      source: 'ocsf',
      start: '2014-07-18T15:07:39.000Z',
      end_reason: 'open_at_window_end',
    });
    expect(result.pack.coverage.sources[0]).toMatchObject({ files: PARQUET.length, records_rejected: 0 });
  }, 60_000);
});
