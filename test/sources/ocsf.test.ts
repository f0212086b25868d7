/**
 * The OCSF source's normalising query on real DuckDB, over OCSF JSON lines: classes, the logon-type
 * enum by `metadata.version`, attribution keys and rejected records.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../lib/query/query-engine.ts';
import { buildOcsfNormaliseQuery } from '../../lib/sources/ocsf.ts';

let engine: DuckDbEngine;
let dir: string;

beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'st-ocsf-'));
});
afterAll(async () => {
  await engine.close();
});

async function normalise(lines: string[]): Promise<Row[]> {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, `${lines.join('\n')}\n`);
  await engine.materialize(
    'lines',
    buildOcsfNormaliseQuery(engine.dialect, { kind: 'files', files: [{ path, key: 'o.json' }] }),
  );
  return (await engine.select({ name: 't', sql: 'SELECT * FROM lines ORDER BY raw_ref', params: [] })).rows;
}

const logon = (version: string, logonTypeId: number) =>
  JSON.stringify({
    metadata: { version, uid: `uid-${version}-${logonTypeId}` },
    class_uid: 3002,
    activity_id: 1,
    status_id: 1,
    time: 1709632800000,
    device: { hostname: 'SRV01' },
    user: { uid: 'S-1-5-21-1-2-3-500', name: 'adm.jdoe', domain: 'CORP' },
    session: { uid: '0x3a1f2c', expiration_time: 1709636400000 },
    logon_type_id: logonTypeId,
  });

describe('buildOcsfNormaliseQuery', () => {
  it.each([
    ['1.1.0', 0, 0], // 0 is System up to 1.1.0
    ['1.0.0-rc.2', 0, 0],
    ['1.2.0', 0, null], // 0 is Unknown from 1.2.0
    ['1.2.0', 1, 0], // 1 is System from 1.2.0
    ['1.3.0', 10, 10],
    ['1.1.0', 99, null],
  ])('reads logon_type_id %s / %i as %s (Windows numbering)', async (version, raw, expected) => {
    const [row] = await normalise([logon(version, raw)]);
    expect(row).toMatchObject({
      status: 'event',
      kind: 'logon',
      host: 'SRV01',
      session_uid: '0x3a1f2c',
      user_uid: 'S-1-5-21-1-2-3-500',
      logon_type_id: expected,
      end_hint_ms: 1709636400000,
      end_hint: 'credentials_expired',
    });
  });

  it('attributes process and API activity by actor.session.uid, else actor.user.credential_uid', async () => {
    const rows = await normalise([
      JSON.stringify({
        metadata: { version: '1.1.0', uid: 'p1' },
        class_uid: 1007,
        activity_id: 1,
        activity_name: 'Launch',
        time: 1709632900000,
        device: { hostname: 'SRV01' },
        actor: { session: { uid: '0x3a1f2c' }, user: { uid: 'S-1-5-21-1-2-3-500', name: 'adm.jdoe' } },
        process: { file: { path: 'C:\\Windows\\System32\\net.exe' }, cmd_line: 'net user x /add' },
      }),
      JSON.stringify({
        metadata: { version: '1.1.0', uid: 'a1' },
        class_uid: 6003,
        activity_id: 1,
        time: 1709632950000,
        cloud: { region: 'eu-west-1', account: { uid: '111122223333' } },
        actor: { user: { uid: 'arn:aws:sts::111122223333:assumed-role/Admin/s', credential_uid: 'ASIAKEY' } },
        api: { operation: 'CreateUser', service: { name: 'iam.amazonaws.com' } },
      }),
      JSON.stringify({ metadata: { version: '1.1.0' }, class_uid: 4001, time: 1709632950000 }),
      JSON.stringify({ hello: 'world' }),
      '{"class_uid": 3002, ',
    ]);
    expect(rows.find((r) => r.record_uid === 'p1')).toMatchObject({
      kind: 'activity',
      session_uid: '0x3a1f2c',
      process: 'C:\\Windows\\System32\\net.exe',
      command_line: 'net user x /add',
      action: 'Launch',
    });
    expect(rows.find((r) => r.record_uid === 'a1')).toMatchObject({
      kind: 'activity',
      host: '111122223333',
      session_uid: 'ASIAKEY',
      event_code: 'iam.amazonaws.com:CreateUser',
    });
    expect(rows.filter((r) => r.status !== 'event').map((r) => [r.status, r.reason])).toEqual([
      ['skipped', 'other_class'],
      ['rejected', 'not_an_ocsf_record'],
      ['rejected', 'malformed_json'],
    ]);
  });
});
