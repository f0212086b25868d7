/**
 * The Windows edge-case lines (`windows-edge-cases.ts`) on DuckDB alone, with no Trino: each case's
 * normalised rows compared with rows written here from the line text and the rules of
 * `buildWindowsNormaliseQuery` (never copied from a run). The DuckDB-vs-Trino comparison of the same
 * lines is `windows-edge-lines.test.ts`; together they pin both engines to these rows.
 *
 * The rules applied below, from `lib/sources/windows.ts` and `lib/query/dialects/dialect.ts`:
 * - a line that is not RFC 8259 JSON (trailing commas, NaN, two documents, garbage) is rejected as
 *   `malformed_json` with every other column NULL; valid JSON without an event id is rejected as
 *   `missing_event_id`;
 * - the time is taken only with a zone (`Z`, `±HH:MM`, `±HHMM`); a TimeCreated or EventTime with
 *   none is no usable time (`no_time_with_zone`), no time field at all is `missing_time`, one outside `ISO_TIME_PROFILE` or not a real instant is `bad_time`;
 *   times are floored to the millisecond;
 * - integers (event id, record number, logon type) only from ASCII decimal texts
 *   (`INTEGER_TEXT`), else NULL; host names trimmed and upper-cased; logon ids canonical
 *   (`0x` + lower-case hex, no leading zeros), else NULL; `%%1842` is elevated;
 * - a JSON object, array or null where text is expected gives NULL; a boolean gives its text.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localLocator } from '../../lib/locate/local-logs.ts';
import type { RawInput } from '../../lib/query/dialects/dialect.ts';
import { duckdbDialect, LENIENT_JSON } from '../../lib/query/dialects/duckdb-dialect.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { CellValue, Row } from '../../lib/query/query-engine.ts';
import { buildWindowsNormaliseQuery } from '../../lib/sources/windows.ts';
import { CASES, KNOWN } from './windows-edge-cases.ts';

const COLUMNS = [
  'status',
  'reason',
  'host',
  'record_no',
  'event_code',
  'kind',
  'time_ms',
  'time_field',
  'session_uid',
  'linked_session_uid',
  'user_uid',
  'user_name',
  'user_domain',
  'logon_type_id',
  'is_elevated',
  'privileges',
  'src_ip',
  'raw_ref',
] as const;
type Expected = { [K in (typeof COLUMNS)[number]]?: CellValue };

const TIME_CREATED = 'TimeCreated (event time, UTC)';
const EVTX_TIME = 'Event.System.TimeCreated.SystemTime (event time, UTC)';
const COLLECTOR = '@timestamp (collector receipt time, UTC; EventTime has no zone)';
const at = (iso: string) => Date.parse(iso);

/** The base line of the cases (`base` in windows-edge-cases.ts) as the source normalises it. */
const EVENT: Expected = {
  status: 'event',
  reason: null,
  host: 'WS01.CORP.EXAMPLE',
  record_no: 100,
  event_code: '4624',
  kind: 'logon',
  time_ms: at('2021-03-04T05:06:07.123Z'),
  time_field: TIME_CREATED,
  // 0x00000000000003E7 in canonical form.
  session_uid: '0x3e7',
  linked_session_uid: null,
  user_uid: 'S-1-5-21-1-2-3-1001',
  user_name: 'alice',
  user_domain: 'CORP',
  logon_type_id: 10,
  is_elevated: true,
  privileges: null,
  src_ip: null,
};
const NOTHING: Expected = Object.fromEntries(COLUMNS.map((c) => [c, null]));
/** The base line rejected for its time: the system fields are kept, the event fields are not. */
const badTime = (over: Expected = {}): Expected => ({
  ...NOTHING,
  status: 'rejected',
  reason: 'bad_time',
  host: 'WS01.CORP.EXAMPLE',
  record_no: 100,
  event_code: '4624',
  time_field: TIME_CREATED,
  ...over,
});
const MALFORMED: Expected = { ...NOTHING, status: 'rejected', reason: 'malformed_json' };
/** Valid JSON that is no event record: no event id, no host, no time field with a zone. */
const NO_EVENT_ID: Expected = {
  ...NOTHING,
  status: 'rejected',
  reason: 'missing_event_id',
  time_field: COLLECTOR,
};

/** Expected rows per case name; `raw_ref` is added from the file's key and the record number. */
const GOLDEN: Readonly<Record<string, readonly Expected[]>> = {
  'plain flat 4624': [EVENT],
  // Floored to the millisecond, never rounded.
  'time with 7 fractional digits': [EVENT],
  'time with 9 fractional digits': [EVENT],
  'time without fraction': [{ ...EVENT, time_ms: at('2021-03-04T05:06:07.000Z') }],
  'time with +hh:mm offset': [{ ...EVENT, time_ms: at('2021-03-04T05:06:07.500Z') }],
  'time with -hhmm offset': [{ ...EVENT, time_ms: at('2021-03-04T05:06:07.500Z') }],
  'time with a space for T': [badTime()],
  'time without seconds': [badTime()],
  'time with lower-case t': [badTime()],
  'time in 1969': [{ ...EVENT, time_ms: -1 }],
  'time of an impossible day': [badTime()],
  'time at hour 24': [badTime()],
  'time with a leap second': [badTime()],
  // A number has no zone: no usable time (flat layout, no EventTime with a zone or @timestamp either).
  'time as a number': [badTime({ reason: 'no_time_with_zone', time_field: COLLECTOR })],
  'time a hair before the next second': [{ ...EVENT, time_ms: at('2021-03-04T05:06:07.999Z') }],
  // 23:59:59.9995 floors to 23:59:59.999, 1 ms before the epoch.
  'time before 1970 with a sub-millisecond fraction': [{ ...EVENT, time_ms: -1 }],
  'time in year 1': [{ ...EVENT, time_ms: new Date('0001-01-01T00:00:00Z').getTime() }],
  'time with a decimal comma': [badTime()],
  // `+02` is no zone (two digits only): the line has no time with a zone.
  'time with an hour-only offset': [badTime({ reason: 'no_time_with_zone', time_field: COLLECTOR })],
  'time in ISO basic format': [badTime()],
  'time with an expanded year': [badTime()],
  'record number with full-width digits': [{ ...EVENT, record_no: null }],
  'record number in hex': [{ ...EVENT, record_no: null }],
  'record number as "1.0"': [{ ...EVENT, record_no: null }],
  'record number with spaces and a sign': [{ ...EVENT, record_no: 12 }],
  'logon type as a number': [EVENT],
  'logon type as a float': [{ ...EVENT, logon_type_id: null, record_no: null }],
  'record number beyond BIGINT': [{ ...EVENT, record_no: null }],
  'record number as a string': [{ ...EVENT, record_no: 101 }],
  // JSON.stringify writes 1e3 as 1000.
  'record number with exponent': [{ ...EVENT, record_no: 1000 }],
  'event id as a string': [EVENT],
  // The line's numbers: RecordNumber 1.0 is not an integer text; -0.0 is an address as text.
  // TargetUserName 1.50 and the 23-digit SID are numbers beyond what their text keeps exactly:
  // not compared here (their text is compared across engines by windows-edge-lines.test.ts).
  'numbers written unusually': [
    {
      ...EVENT,
      host: 'WS01',
      record_no: null,
      time_ms: at('2021-03-04T05:06:07.000Z'),
      session_uid: null,
      user_uid: undefined,
      user_name: undefined,
      user_domain: null,
      logon_type_id: null,
      is_elevated: null,
      src_ip: '-0.0',
    },
  ],
  // JSON.stringify writes 4624.0 as 4624.
  'event id as a float': [EVENT],
  'field that is an object': [{ ...EVENT, user_name: null, user_domain: null }],
  'field that is a boolean': [{ ...EVENT, is_elevated: null, user_name: 'false' }],
  'field that is JSON null': [{ ...EVENT, user_name: null, src_ip: null }],
  'unicode escapes': [
    {
      ...EVENT,
      host: 'WS01',
      record_no: 5,
      time_ms: at('2021-03-04T05:06:07.000Z'),
      session_uid: null,
      user_uid: null,
      user_name: 'Jörg😀',
      user_domain: 'C\\D',
      logon_type_id: null,
      is_elevated: null,
    },
  ],
  'raw non-ASCII text': [{ ...EVENT, user_name: 'Jörg 山田', src_ip: '::1' }],
  // A key given twice: the first is read (both readers look a key up from the start of the object).
  'duplicate keys': [
    {
      ...NOTHING,
      status: 'event',
      host: 'WS01',
      record_no: 6,
      event_code: '4624',
      kind: 'logon',
      time_ms: at('2021-03-04T05:06:07.000Z'),
      time_field: TIME_CREATED,
      session_uid: '0x1',
    },
  ],
  // Empty lines are no records; a line of spaces is no JSON text.
  // Blank and whitespace-only lines are no records, for every source (the intake, lib/locate/log-intake.ts).
  'blank and whitespace lines': [{ ...EVENT, record_no: 7 }],
  'CRLF line endings': [
    { ...EVENT, record_no: 8 },
    { ...EVENT, record_no: 9 },
  ],
  // Event.System present (any value, JSON null included) makes the line the evtx layout, whose
  // time is Event.System's SystemTime: none here, so no time. Without it the line stays flat.
  'flat line beside an Event object without System': [EVENT],
  'evtx layout whose System key is spelled with an escape': [
    {
      ...NOTHING,
      status: 'event',
      host: 'WS04',
      record_no: 81,
      event_code: '4624',
      kind: 'logon',
      time_ms: at('2021-03-04T05:06:07.000Z'),
      time_field: EVTX_TIME,
      session_uid: '0x9',
      logon_type_id: 2,
    },
  ],
  'flat line whose Event.System is JSON null': [badTime({ reason: 'missing_time', time_field: EVTX_TIME })],
  'flat line whose Event.System is an array': [badTime({ reason: 'missing_time', time_field: EVTX_TIME })],
  'a line that is \\N': [MALFORMED],
  'truncated JSON': [MALFORMED],
  'JSON with a trailing comma': [MALFORMED],
  'JSON with single quotes': [MALFORMED],
  'JSON with NaN': [MALFORMED],
  'JSON with -Infinity': [MALFORMED],
  'JSON with a trailing comma in an array': [MALFORMED],
  'a string that looks like a trailing comma': [{ ...EVENT, user_name: 'a,}' }],
  'JSON followed by garbage': [MALFORMED],
  'two JSON objects on a line': [MALFORMED],
  'top-level array': [NO_EVENT_ID],
  'top-level string': [NO_EVENT_ID],
  'top-level number': [NO_EVENT_ID],
  'empty object': [NO_EVENT_ID],
  'channel in lower case, padded host': [{ ...EVENT, host: 'WS01.CORP' }],
  'channel in upper and mixed case': [EVENT, { ...EVENT, record_no: 101 }],
  'hex logon id in upper case without 0x': [{ ...EVENT, session_uid: null }],
  // A 4672 names its session by SubjectLogonId; the line has no Subject account fields.
  'privilege list with tabs and CRLF': [
    {
      ...EVENT,
      event_code: '4672',
      kind: 'privilege',
      session_uid: '0x3e7',
      user_uid: null,
      user_name: null,
      user_domain: null,
      logon_type_id: null,
      is_elevated: null,
      privileges: 'SeDebugPrivilege SeBackupPrivilege',
    },
  ],
  'winlogbeat 6 layout': [
    {
      ...NOTHING,
      status: 'event',
      host: 'WS02',
      record_no: 77,
      event_code: '4624',
      kind: 'logon',
      time_ms: at('2021-03-04T05:06:07.000Z'),
      time_field: '@timestamp (Winlogbeat event time, UTC)',
      session_uid: '0x5',
      user_name: 'bob',
      logon_type_id: 3,
    },
  ],
  'ecs layout': [
    {
      ...NOTHING,
      status: 'event',
      host: 'WS03',
      record_no: 78,
      event_code: '4634',
      kind: 'logoff',
      time_ms: at('2021-03-04T05:06:07.000Z'),
      time_field: '@timestamp (Winlogbeat event time, UTC)',
      session_uid: '0x5',
    },
  ],
  'evtx layout with EventID as an object': [
    {
      ...NOTHING,
      status: 'event',
      host: 'WS04',
      record_no: 79,
      event_code: '4624',
      kind: 'logon',
      time_ms: at('2021-03-04T05:06:07.123Z'),
      time_field: 'Event.System.TimeCreated.SystemTime (event time, UTC)',
      session_uid: '0x9',
      logon_type_id: 2,
    },
  ],
  'evtx 1102 with UserData': [
    {
      ...NOTHING,
      status: 'event',
      host: 'WS04',
      record_no: 80,
      event_code: '1102',
      kind: 'integrity',
      time_ms: at('2021-03-04T05:06:08.000Z'),
      time_field: 'Event.System.TimeCreated.SystemTime (event time, UTC)',
      session_uid: '0xa',
      user_name: 'eve',
    },
  ],
  // The two documented engine differences (windows-edge-cases.ts), DuckDB's side:
  // a number beyond the double range is kept as written ...
  'number beyond the double range as a name': [{ ...EVENT, user_domain: '1e400' }],
  // ... and a lone surrogate escape makes the line malformed for DuckDB's JSON reader.
  'lone surrogate escape': [MALFORMED],
};

/**
 * The raw reference the source writes: the file key, then the record number for what has one; an
 * event without one is referred to by its line (each case is the one line of its file), a rejected
 * record without one by its line's digest (on every engine: the digest of the line as the engine
 * reads it, the intake's marker for a line it marked, so only its form is compared here; the
 * engines' agreement is windows-edge-lines.test.ts's), a skipped record without one by its file.
 */
function withRef(key: string, e: Expected): Expected {
  if (e.status === 'rejected' && e.record_no == null)
    return {
      ...e,
      raw_ref: expect.stringMatching(new RegExp(`^${key.replaceAll('.', '\\.')}#sha256=[0-9a-f]{16}$`)),
    };
  if (e.status === 'event' || e.status === 'rejected')
    return { ...e, raw_ref: e.record_no == null ? `${key}#line=1` : `${key}#record=${e.record_no}` };
  return { ...e, raw_ref: e.record_no == null ? key : `${key}#record=${e.record_no}` };
}

const ALL = [...CASES, ...KNOWN];
let engine: DuckDbEngine;
let dir: string;
const byKey = new Map<string, Row[]>();
/** The same files taken in by the local intake first, as an export reads them. */
const byKeyTakenIn = new Map<string, Row[]>();
let takenIn: RawInput;
let cleanup: (() => Promise<void>) | undefined;
const keyOf = (i: number) => `windows/case-${String(i).padStart(2, '0')}.json${i % 2 === 0 ? '' : '.gz'}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'st-edge-golden-'));
  await mkdir(join(dir, 'windows'));
  const files = [];
  for (const [i, [, content]] of ALL.entries()) {
    const key = keyOf(i);
    const path = join(dir, key);
    // Every other case gzipped, as in the cross-engine test: the reader decompresses by extension.
    await writeFile(path, i % 2 === 0 ? content : gzipSync(Buffer.from(content)));
    files.push({ path, key });
  }
  engine = await DuckDbEngine.open({ threads: 1 });
  await engine.materialize(
    'edge_lines',
    buildWindowsNormaliseQuery(engine.dialect, { kind: 'files', files }),
  );
  const { rows } = await engine.select({
    name: 'read',
    sql: `SELECT object_key, ${COLUMNS.join(', ')} FROM edge_lines ORDER BY object_key, raw_ref, status`,
    params: [],
  });
  for (const r of rows) {
    const key = String(r.object_key);
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  // The export's path: the local intake takes the files in (and replaces a line holding JSON's
  // lenient extras), the input says so, and the query checks JSON with json_valid alone.
  const located = await localLocator(dir).locate(
    'windows',
    Date.parse('2000-01-01'),
    Date.parse('2100-01-01'),
  );
  takenIn = located.input;
  cleanup = located.cleanup;
  await engine.materialize('edge_lines_taken_in', buildWindowsNormaliseQuery(engine.dialect, takenIn));
  const taken = await engine.select({
    name: 'read',
    sql: `SELECT object_key, ${COLUMNS.join(', ')} FROM edge_lines_taken_in ORDER BY object_key, raw_ref, status`,
    params: [],
  });
  for (const r of taken.rows) {
    const key = String(r.object_key);
    byKeyTakenIn.set(key, [...(byKeyTakenIn.get(key) ?? []), r]);
  }
}, 60_000);

afterAll(async () => {
  await cleanup?.();
  await engine?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('normalising edge-case lines on DuckDB, against rows written from the line text', () => {
  it('has an expectation for every case, and no expectation without a case', () => {
    expect(Object.keys(GOLDEN).sort()).toEqual(ALL.map(([name]) => name).sort());
  });

  const compared = (rows: readonly Row[], expected: readonly Expected[]) =>
    // Columns left undefined in an expectation are not compared (said why where it is written).
    rows.map((r, j) =>
      Object.fromEntries(COLUMNS.filter((c) => expected[j]?.[c] !== undefined).map((c) => [c, r[c] ?? null])),
    );
  const written = (expected: readonly Expected[]) =>
    expected.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));

  it.each(ALL.map(([name], i) => [name, i] as const))('%s', (name, i) => {
    const key = keyOf(i);
    const expected = (GOLDEN[name] ?? []).map((e) => withRef(key, e));
    expect(compared(byKey.get(key) ?? [], expected)).toEqual(written(expected));
  });

  it('reads the taken-in files with json_valid alone, where the files as stored need the pattern', () => {
    expect(takenIn).toMatchObject({ kind: 'files', lenientJsonMarked: true });
    const marked = buildWindowsNormaliseQuery(duckdbDialect, takenIn).sql;
    const stored = buildWindowsNormaliseQuery(duckdbDialect, { kind: 'files', files: [] }).sql;
    expect(marked).not.toContain(LENIENT_JSON);
    expect(stored).toContain(LENIENT_JSON);
  });

  // The intake changes a line only where it is no record as stored (CR LF endings, blank lines)
  // or holds a lenient extra: every case gives the same rows once taken in.
  it.each(ALL.map(([name], i) => [name, i] as const))('%s, taken in by the intake first', (name, i) => {
    const key = keyOf(i);
    const expected = (GOLDEN[name] ?? []).map((e) => withRef(key, e));
    expect(compared(byKeyTakenIn.get(key) ?? [], expected)).toEqual(written(expected));
  });
});
