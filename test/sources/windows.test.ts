/**
 * The Windows source's normalising query, on real DuckDB: each layout, the time-field rule, logon
 * id forms, bad lines, and the real datasets counted independently with JSON.parse.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLocalLogs } from '../../lib/locate/local-logs.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { Row } from '../../lib/query/query-engine.ts';
import {
  buildWindowsNormaliseQuery,
  canonicalLogonId,
  WINDOWS_EVENT_IDS,
} from '../../lib/sources/windows.ts';
import { dataset } from '../helpers/datasets.ts';

const DATASETS = dataset('windows');
let engine: DuckDbEngine;
let dir: string;

beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'st-win-'));
});
afterAll(async () => {
  await engine.close();
});

async function normalise(lines: string[]): Promise<Row[]> {
  const path = join(dir, `f${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, `${lines.join('\n')}\n`);
  await engine.materialize(
    'lines',
    buildWindowsNormaliseQuery(engine.dialect, { kind: 'files', files: [{ path, key: 'k.json' }] }),
  );
  return (
    await engine.select({
      name: 't',
      sql: 'SELECT * FROM lines ORDER BY status, reason, record_no',
      params: [],
    })
  ).rows;
}

const logon = {
  TargetUserSid: 'S-1-5-21-1-2-3-1105',
  TargetUserName: 'adm.jdoe',
  TargetDomainName: 'CORP',
  TargetLogonId: '0x00000000003A1F2C',
  TargetLinkedLogonId: '0x3a1f0b',
  LogonType: '10',
  ElevatedToken: '%%1842',
  IpAddress: '10.20.30.40',
  WorkstationName: 'SRV01',
  LogonProcessName: 'User32 ',
  AuthenticationPackageName: 'Negotiate',
};

describe('buildWindowsNormaliseQuery', () => {
  it.each([
    [
      'NXLog flat: @timestamp (collector) because EventTime has no zone',
      {
        '@timestamp': '2024-03-05T14:02:13.482Z',
        EventTime: '2024-03-05 15:02:11',
        Hostname: 'srv01.corp.example',
        Channel: 'security',
        EventID: 4624,
        RecordNumber: 918273,
        SourceModuleType: 'im_msvistalog',
        ...logon,
      },
      '2024-03-05T14:02:13.482Z',
      '@timestamp (collector receipt time, UTC; EventTime has no zone)',
    ],
    [
      'newer flat export: TimeCreated (UTC)',
      {
        '@timestamp': '2024-03-05T14:02:15.000Z',
        TimeCreated: '2024-03-05T14:02:11.482Z',
        Hostname: 'SRV01.CORP.EXAMPLE',
        Channel: 'Security',
        EventID: 4624,
        RecordNumber: 918273,
        ...logon,
      },
      '2024-03-05T14:02:11.482Z',
      'TimeCreated (event time, UTC)',
    ],
    [
      'NXLog flat with an offset in EventTime',
      {
        '@timestamp': '2024-03-05T14:02:15.000Z',
        EventTime: '2024-03-05T16:02:11.482+02:00',
        Hostname: 'srv01.corp.example',
        Channel: 'Security',
        EventID: 4624,
        RecordNumber: 918273,
        ...logon,
      },
      '2024-03-05T14:02:11.482Z',
      'EventTime (event time with UTC offset)',
    ],
    [
      'Winlogbeat 6 (event_data)',
      {
        '@timestamp': '2024-03-05T14:02:11.482Z',
        event_id: 4624,
        log_name: 'Security',
        computer_name: 'srv01.corp.example',
        record_number: '918273',
        event_data: logon,
      },
      '2024-03-05T14:02:11.482Z',
      '@timestamp (Winlogbeat event time, UTC)',
    ],
    [
      'Winlogbeat 8 ECS (winlog.event_data, event_id as string)',
      {
        '@timestamp': '2024-03-05T14:02:11.482Z',
        event: { code: '4624' },
        host: { name: 'other-agent' },
        winlog: {
          channel: 'Security',
          computer_name: 'srv01.corp.example',
          event_id: '4624',
          record_id: '918273',
          event_data: logon,
        },
      },
      '2024-03-05T14:02:11.482Z',
      '@timestamp (Winlogbeat event time, UTC)',
    ],
    [
      'evtx_dump (Event.System, Event.EventData), 100 ns time truncated to ms',
      {
        Event: {
          System: {
            EventID: 4624,
            EventRecordID: 918273,
            Channel: 'Security',
            Computer: 'srv01.corp.example',
            TimeCreated: { '#attributes': { SystemTime: '2024-03-05T14:02:11.482999900Z' } },
          },
          EventData: logon,
        },
      },
      '2024-03-05T14:02:11.482Z',
      'Event.System.TimeCreated.SystemTime (event time, UTC)',
    ],
  ])('maps a 4624 of the %s layout', async (_name, record, time, timeField) => {
    const [row] = await normalise([JSON.stringify(record)]);
    expect(row).toMatchObject({
      status: 'event',
      host: 'SRV01.CORP.EXAMPLE',
      record_no: 918273,
      record_uid: 'SRV01.CORP.EXAMPLE|security|918273|4624',
      event_code: '4624',
      kind: 'logon',
      time_ms: Date.parse(time),
      time_field: timeField,
      session_uid: '0x3a1f2c',
      linked_session_uid: '0x3a1f0b',
      user_uid: 'S-1-5-21-1-2-3-1105',
      user_name: 'adm.jdoe',
      user_domain: 'CORP',
      logon_type_id: 10,
      is_elevated: true,
      src_ip: '10.20.30.40',
      src_host: 'SRV01',
      logon_process: 'User32',
      auth_package: 'Negotiate',
      raw_ref: 'k.json#record=918273',
    });
  });

  it('measures the collector lag of an NXLog record from its zone-less EventTime and the inferred UTC offset', async () => {
    // EventTime 15:02:11 local, @timestamp 14:02:13.482Z: 1 h (UTC+01:00) plus 2.482 s of lag.
    const flat = (extra: Record<string, unknown>) =>
      JSON.stringify({
        Hostname: 'SRV01',
        Channel: 'security',
        EventID: 4634,
        TargetLogonId: '0x1',
        ...extra,
      });
    const rows = await normalise([
      flat({ RecordNumber: 1, '@timestamp': '2024-03-05T14:02:13.482Z', EventTime: '2024-03-05 15:02:11' }),
      // UTC-04:00 (the OTRF hosts), received 61 s late after a reboot backlog
      flat({ RecordNumber: 2, '@timestamp': '2024-03-05T19:03:12.000Z', EventTime: '2024-03-05 15:02:11' }),
      // a zone-less EventTime that is no time, and a TimeCreated-timed record: nothing measured
      flat({ RecordNumber: 3, '@timestamp': '2024-03-05T19:03:12.000Z', EventTime: 'yesterday' }),
      flat({ RecordNumber: 4, TimeCreated: '2024-03-05T19:03:12.000Z', EventTime: '2024-03-05 15:02:11' }),
    ]);
    expect(rows.map((r) => [r.record_no, r.details === null ? null : JSON.parse(String(r.details))])).toEqual(
      [
        [1, { collector_lag_ms: '2482', event_time_utc_offset_min: '60' }],
        [2, { collector_lag_ms: '61000', event_time_utc_offset_min: '-240' }],
        [3, null],
        [4, null],
      ],
    );
  });

  it('gives a 4688 to the target logon when it is set, else to the creator, and reads the token type', async () => {
    const base = {
      '@timestamp': '2024-03-05T14:03:00.000Z',
      Hostname: 'WS01',
      Channel: 'Security',
      EventID: 4688,
      NewProcessName: 'C:\\Windows\\System32\\cmd.exe',
      CommandLine: 'cmd /c whoami',
      ParentProcessName: 'C:\\Windows\\explorer.exe',
    };
    const rows = await normalise([
      JSON.stringify({
        ...base,
        RecordNumber: 1,
        SubjectLogonId: '0x3e7',
        SubjectUserSid: 'S-1-5-18',
        SubjectUserName: 'WS01$',
        TargetLogonId: '0x4A5AF0',
        TargetUserSid: 'S-1-5-21-1-2-3-1105',
        TargetUserName: 'adm.jdoe',
        TargetDomainName: 'CORP',
        TokenElevationType: '%%1937',
      }),
      JSON.stringify({
        ...base,
        RecordNumber: 2,
        SubjectLogonId: '0x4a5af0',
        SubjectUserSid: 'S-1-5-21-1-2-3-1105',
        SubjectUserName: 'adm.jdoe',
        TargetLogonId: '0x0',
        TargetUserSid: 'S-1-0-0',
        TargetUserName: '-',
        TokenElevationType: '%%1938',
      }),
    ]);
    expect(rows.map((r) => [r.session_uid, r.user_name, r.is_elevated, r.process, r.command_line])).toEqual([
      ['0x4a5af0', 'adm.jdoe', true, 'C:\\Windows\\System32\\cmd.exe', 'cmd /c whoami'],
      ['0x4a5af0', 'adm.jdoe', false, 'C:\\Windows\\System32\\cmd.exe', 'cmd /c whoami'],
    ]);
  });

  // Field names as the Microsoft event docs give them (Audit User Account Management, Audit Security
  // Group Management, Audit Audit Policy Change).
  const subject = {
    SubjectUserSid: 'S-1-5-21-1-2-3-1105',
    SubjectUserName: 'adm.jdoe',
    SubjectDomainName: 'CORP',
    SubjectLogonId: '0x3A1F2C',
  };
  const account = { TargetUserName: 'backdoor', TargetDomainName: 'WS01', TargetSid: 'S-1-5-21-1-2-3-1107' };
  it.each([
    [4722, account, 'activity', 'user_enabled', 'WS01\\backdoor S-1-5-21-1-2-3-1107'],
    [4723, account, 'activity', 'password_change_attempted', 'WS01\\backdoor S-1-5-21-1-2-3-1107'],
    [4725, account, 'activity', 'user_disabled', 'WS01\\backdoor S-1-5-21-1-2-3-1107'],
    [4738, account, 'activity', 'user_changed', 'WS01\\backdoor S-1-5-21-1-2-3-1107'],
    [4767, account, 'activity', 'user_unlocked', 'WS01\\backdoor S-1-5-21-1-2-3-1107'],
    [
      4733,
      { MemberSid: 'S-1-5-21-1-2-3-1107', TargetUserName: 'Administrators', TargetDomainName: 'Builtin' },
      'activity',
      'group_member_removed',
      'S-1-5-21-1-2-3-1107 -> Builtin\\Administrators',
    ],
    [
      4729,
      { MemberName: 'CN=x', TargetUserName: 'Domain Admins', TargetDomainName: 'CORP' },
      'activity',
      'group_member_removed',
      'CN=x -> CORP\\Domain Admins',
    ],
    [
      4757,
      { MemberName: 'CN=x', TargetUserName: 'Enterprise Admins', TargetDomainName: 'CORP' },
      'activity',
      'group_member_removed',
      'CN=x -> CORP\\Enterprise Admins',
    ],
    [
      4740,
      { TargetUserName: 'jdoe', TargetDomainName: 'WS07', TargetSid: 'S-1-5-21-1-2-3-1200' },
      'activity',
      'user_locked_out',
      'jdoe S-1-5-21-1-2-3-1200 caller computer WS07',
    ],
    [
      4765,
      { ...account, SourceUserName: 'CORP2\\admin', SidList: '%{S-1-5-21-9-9-9-500}' },
      'activity',
      'sid_history_added',
      'WS01\\backdoor S-1-5-21-1-2-3-1107 from CORP2\\admin SIDs %{S-1-5-21-9-9-9-500}',
    ],
    [
      4781,
      { OldTargetUserName: 'svc', NewTargetUserName: 'svc2', TargetSid: 'S-1-5-21-1-2-3-1300' },
      'activity',
      'user_renamed',
      'svc -> svc2 S-1-5-21-1-2-3-1300',
    ],
    [4794, { Workstation: 'DC01', Status: '0x0' }, 'activity', 'dsrm_password_set', 'from DC01 status 0x0'],
    [
      4719,
      { SubcategoryId: '%%12290', AuditPolicyChanges: '%%8448, %%8450' },
      'integrity',
      'audit_policy_changed',
      '%%12290 %%8448, %%8450',
    ],
    [
      4912,
      { TargetUserSid: 'S-1-5-21-1-2-3-1105', SubcategoryId: '%%12544', AuditPolicyChanges: '%%8452' },
      'integrity',
      'audit_policy_changed',
      'for S-1-5-21-1-2-3-1105 %%12544 %%8452',
    ],
    [4906, { CrashOnAuditFailValue: '0' }, 'integrity', 'audit_policy_changed', 'CrashOnAuditFail 0'],
  ])('maps %i to %s %s, with its subject and target', async (id, data, kind, action, target) => {
    const [row] = await normalise([
      JSON.stringify({
        '@timestamp': '2024-03-05T14:05:00.000Z',
        Hostname: 'WS01',
        Channel: 'Security',
        EventID: id,
        RecordNumber: 77,
        ...subject,
        ...data,
      }),
    ]);
    expect(row).toMatchObject({
      status: 'event',
      kind,
      action,
      target,
      user_name: 'adm.jdoe',
      session_uid: id === 4906 ? null : '0x3a1f2c',
    });
  });

  it('normalises the privilege list of a 4672 whatever its separators', async () => {
    const [row] = await normalise([
      JSON.stringify({
        '@timestamp': '2024-03-05T14:02:11.483Z',
        Hostname: 'WS01',
        Channel: 'Security',
        EventID: 4672,
        RecordNumber: 3,
        SubjectLogonId: '0x3a1f2c',
        SubjectUserName: 'adm.jdoe',
        PrivilegeList: 'SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\n\t\t\tSeDebugPrivilege',
      }),
    ]);
    expect(row).toMatchObject({
      kind: 'privilege',
      privileges: 'SeSecurityPrivilege SeBackupPrivilege SeDebugPrivilege',
    });
  });

  it('counts bad lines by reason and never takes a zone-less time as UTC', async () => {
    const ok = { Hostname: 'WS01', Channel: 'Security', EventID: 4634, TargetLogonId: '0x1' };
    const rows = await normalise([
      '{"EventID": 4624, "Hostname": ',
      'this is not json',
      JSON.stringify({
        ...ok,
        EventID: undefined,
        '@timestamp': '2024-03-05T14:02:11.000Z',
        RecordNumber: 1,
      }),
      JSON.stringify({ ...ok, RecordNumber: 2 }),
      JSON.stringify({ ...ok, RecordNumber: 3, EventTime: '2024-03-05 15:02:11' }),
      JSON.stringify({ ...ok, RecordNumber: 4, '@timestamp': 'yesterday-ish Z' }),
      JSON.stringify({
        ...ok,
        RecordNumber: 5,
        '@timestamp': '2024-03-05T14:02:11.000Z',
        Hostname: undefined,
      }),
      JSON.stringify({
        ...ok,
        RecordNumber: 6,
        '@timestamp': '2024-03-05T14:02:11.000Z',
        Channel: 'Microsoft-Windows-Sysmon/Operational',
        EventID: 1,
      }),
      JSON.stringify({ ...ok, RecordNumber: 7, '@timestamp': '2024-03-05T14:02:11.000Z', EventID: 5156 }),
      JSON.stringify({ ...ok, RecordNumber: 8, '@timestamp': '2024-03-05T14:02:11.000Z' }),
    ]);
    const tally = rows.map((r) => `${r.status}:${r.reason ?? ''}`).sort();
    expect(tally).toEqual([
      'event:',
      'rejected:bad_time',
      'rejected:malformed_json',
      'rejected:malformed_json',
      'rejected:missing_event_id',
      'rejected:missing_host',
      'rejected:missing_time',
      'rejected:no_time_with_zone',
      'skipped:other_channel',
      'skipped:other_event_id',
    ]);
  });
});

describe('services installed and scheduled tasks created (real OTRF lines)', () => {
  // test/fixtures/otrf-held-out/README.md: a remote privileged logon that installs a service, and
  // one that creates a scheduled task. Both are what the session did; skipped as other_event_id,
  // the pack showed the first session with no activity at all.
  it('maps 4697 and 4698 to the activity of the subject logon, naming the service or task', async () => {
    const fixtures = join(import.meta.dirname, '../fixtures/otrf-held-out');
    const lines = [
      ...(
        await readFile(join(fixtures, 'covenant_sharpsc_create_dcerpc_smb_svcctl-session.json'), 'utf8')
      ).split('\n'),
      ...(await readFile(join(fixtures, 'schtask_create-4698.json'), 'utf8')).split('\n'),
    ].filter((l) => l !== '');
    const rows = await normalise(lines);
    expect(rows.map((r) => `${r.status}:${r.event_code}`).sort()).toEqual([
      'event:4624',
      'event:4634',
      'event:4672',
      'event:4697',
      'event:4698',
    ]);
    expect(rows.find((r) => r.event_code === '4697')).toMatchObject({
      kind: 'activity',
      action: 'service_installed',
      host: 'WORKSTATION6.THESHIRE.LOCAL',
      session_uid: '0xba93e3',
      user_name: 'pgustavo',
      target: 'Cyb3rWard0g C:\\Windows\\System32\\GruntHTTP2.exe as LocalSystem',
      time_ms: Date.parse('2020-08-06T06:27:32.796Z'),
    });
    // the logon the service was installed from
    expect(rows.find((r) => r.event_code === '4624')?.session_uid).toBe('0xba93e3');
    expect(rows.find((r) => r.event_code === '4698')).toMatchObject({
      kind: 'activity',
      action: 'scheduled_task_created',
      session_uid: '0xead4335',
      user_name: 'pgustavo',
      target: '\\Microsoft\\Windows\\SoftwareProtectionPlatform\\EventCacheManager',
    });
  });
});

describe('computer account changed (real OTRF line)', () => {
  // test/fixtures/otrf-held-out/README.md: Zerologon (CVE-2020-1472) resets the domain controller's
  // machine account password through Netlogon as ANONYMOUS LOGON; the 4742 is its only Security
  // trace, and was skipped as other_event_id, so the pack showed nothing of it.
  it('maps 4742 to the activity of the subject logon, naming the computer account and its password reset', async () => {
    const line = (
      await readFile(
        join(
          import.meta.dirname,
          '../fixtures/otrf-held-out/mimikatz_CVE-2020-1472_Unauthenticated_NetrServerAuthenticate2-4742.json',
        ),
        'utf8',
      )
    ).trim();
    const rows = await normalise([line]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'event',
      event_code: '4742',
      kind: 'activity',
      action: 'computer_account_changed',
      host: 'MORDORDC.THESHIRE.LOCAL',
      session_uid: '0x3e6',
      user_name: 'ANONYMOUS LOGON',
      target:
        'THESHIRE\\MORDORDC$ S-1-5-21-265287011-2876628551-1792472658-1000 password last set 9/16/2020 11:40:05 PM',
    });
  });
});

describe('records whose only time has no zone (real OTRF lines)', () => {
  // test/fixtures/otrf-held-out/README.md: an export whose TimeCreated is host-local time without a
  // zone, with no @timestamp and no record number. Never taken as UTC, so rejected: the reason says
  // the time has no zone (they were "missing_time", though each line has a TimeCreated), and each
  // is named by its line's digest (they were named by their file alone, five times the same
  // example): the same reference on every engine, Trino numbering no lines.
  it('rejects them as no_time_with_zone, each referred to by its line', async () => {
    const path = join(
      import.meta.dirname,
      '../fixtures/otrf-held-out/cmd_psexec_lsa_secrets_dump-lines-1-10.json',
    );
    await engine.materialize(
      'lines',
      buildWindowsNormaliseQuery(engine.dialect, { kind: 'files', files: [{ path, key: 'k.json' }] }),
    );
    const rows = (await engine.select({ name: 't', sql: 'SELECT * FROM lines ORDER BY raw_ref', params: [] }))
      .rows;
    // the digest of the line as read: the capture's CR LF ending is no part of it
    const [first, second] = (await readFile(path, 'utf8')).split('\r\n');
    const ref = (line: string | undefined) =>
      `k.json#sha256=${createHash('sha256')
        .update(line ?? '')
        .digest('hex')
        .slice(0, 16)}`;
    const expected = [
      ['rejected', 'no_time_with_zone', '1102', ref(first)],
      ['rejected', 'no_time_with_zone', '4697', ref(second)],
    ].sort((a, b) => String(a[3]).localeCompare(String(b[3])));
    expect(rows.map((r) => [r.status, r.reason, r.event_code, r.raw_ref])).toEqual(expected);
  });
});

describe('canonicalLogonId', () => {
  it.each([
    ['0x00000000000003E7', '0x3e7'],
    ['0x3e7', '0x3e7'],
    [' 0X3E7 ', '0x3e7'],
    ['0x0', '0x0'],
    ['0x0000', '0x0'],
    ['999', null],
    ['-', null],
  ])('reads %s as %s', (input, expected) => {
    expect(canonicalLogonId(input)).toBe(expected);
  });
});

/** Independent count: parse every line with JSON.parse and apply the documented rules. */
function expectedCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line);
    } catch {
      counts.set('rejected', (counts.get('rejected') ?? 0) + 1);
      continue;
    }
    const sys = (rec.Event as { System?: Record<string, unknown> } | undefined)?.System;
    const winlog = rec.winlog as Record<string, unknown> | undefined;
    const id = String(rec.EventID ?? rec.event_id ?? winlog?.event_id ?? sys?.EventID ?? '');
    const channel = String(
      rec.Channel ?? rec.log_name ?? winlog?.channel ?? sys?.Channel ?? '',
    ).toLowerCase();
    const key =
      channel === 'security' && (WINDOWS_EVENT_IDS as readonly string[]).includes(id) ? id : 'skipped';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('the real Windows datasets', () => {
  it.each([
    ['otrf'],
    ['evtx-to-mitre-attack/jsonl'],
  ])('classifies every line of %s exactly as an independent JSON.parse count does', async (folder) => {
    const found = await findLocalLogs(join(DATASETS, folder), 'windows', 0, Date.parse('2100-01-01'));
    expect(found.problems).toEqual([]);
    let text = '';
    for (const f of found.files) {
      const bytes = await readFile(f.path);
      text += `${(f.path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')}\n`;
    }
    const expected = expectedCounts(text);
    await engine.materialize(
      'lines',
      buildWindowsNormaliseQuery(engine.dialect, { kind: 'files', files: found.files }),
    );
    const rows = (
      await engine.select({
        name: 't',
        sql: `SELECT CASE WHEN status = 'event' THEN event_code ELSE status END AS k, count(*) AS n FROM lines GROUP BY 1`,
        params: [],
      })
    ).rows;
    const actual = new Map(rows.map((r) => [String(r.k), Number(r.n)]));
    expect(Object.fromEntries([...actual].sort())).toEqual(Object.fromEntries([...expected].sort()));
    expect(found.files.length).toBe(
      (await readdir(join(DATASETS, folder), { recursive: true })).filter((n) =>
        /\.(json|jsonl)(\.gz)?$/.test(String(n)),
      ).length,
    );
  });
});
