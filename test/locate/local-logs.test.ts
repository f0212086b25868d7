/**
 * Finding local logs: partition pruning, plain folders and files, and damaged gzip files whose
 * readable prefix is still used (real zlib, real DuckDB).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { findLocalLogs } from '../../lib/locate/local-logs.ts';
import { checkLocalPaths } from '../../lib/locate/local-sources.ts';
import { DEFAULT_LIMITS } from '../../lib/locate/log-intake.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { SOURCES } from '../../lib/sources/index.ts';
import { buildWindowsNormaliseQuery } from '../../lib/sources/windows.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport } from '../helpers/local-export.ts';
import { inFolder, logFolder, logonIdOf, windows4634 } from '../helpers/log-folder.ts';

const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
const line = (n: number) => windows4634(n, { TargetLogonId: logonIdOf(n), Message: 'x'.repeat(200) });

describe('findLocalLogs', () => {
  it('reads only the dt= partitions of the window, and names files relative to the logs root', async () => {
    const days = ['2024-03-03', '2024-03-04', '2024-03-05', '2024-03-06'];
    const { root } = await logFolder({
      ...Object.fromEntries(days.map((d) => [`windows/dt=${d}/a.json`, `${line(1)}\n`])),
      'windows/dt=2024-03-05/notes.txt': 'not a log',
    });
    const found = await findLocalLogs(root, 'windows', day('2024-03-04'), day('2024-03-06'));
    expect(found.files.map((f) => f.key)).toEqual([
      'windows/dt=2024-03-04/a.json',
      'windows/dt=2024-03-05/a.json',
    ]);
  });

  it.each([
    [
      'cloudtrail',
      (d: string) => `cloudtrail/AWSLogs/111122223333/CloudTrail/eu-west-1/${d.replaceAll('-', '/')}`,
    ],
    ['ocsf', (d: string) => `ocsf/region=eu-west-1/accountId=111122223333/eventDay=${d.replaceAll('-', '')}`],
  ])('prunes %s by the day folders of its raw-table layout, plus its delivery lag', async (source, folder) => {
    const days = ['2024-03-03', '2024-03-04', '2024-03-05', '2024-03-06'];
    const { root } = await logFolder(
      Object.fromEntries(days.map((d) => [`${folder(d)}/a.json`, '{"Records":[]}\n'])),
    );
    const found = await findLocalLogs(root, source, day('2024-03-04'), day('2024-03-05'));
    // CloudTrail reads the next day too (files land in their delivery day's folder); OCSF's
    // eventDay is the events' day (deliveryLagDays 0), as on Athena and Trino.
    const lag = SOURCES[source]!.rawTable.deliveryLagDays;
    expect(found.inputs.map((f) => f.key)).toEqual(days.slice(1, 2 + lag).map((d) => `${folder(d)}/a.json`));
    // only a source of one JSON record per line has its lenient-extras lines marked by the intake
    expect(found.lenientJsonMarked).toBe(SOURCES[source]?.jsonLines === true);
  });

  it('takes a plain folder (recursively) or a single file', async () => {
    const { root } = await logFolder({
      'x/y/b.jsonl': `${line(1)}\n`,
      'a.json.gz': gzipSync(`${line(2)}\n`),
    });
    expect((await findLocalLogs(root, 'windows', 0, day('2030-01-01'))).files.map((f) => f.key)).toEqual([
      'a.json.gz',
      'x/y/b.jsonl',
    ]);
    expect((await findLocalLogs(join(root, 'a.json.gz'), 'windows', 0, 1)).files.map((f) => f.key)).toEqual([
      'a.json.gz',
    ]);
  });

  it('refuses a path that does not exist with LOGS_NOT_FOUND', async () => {
    const err = await findLocalLogs('/nonexistent/logs', 'windows', 0, 1).catch((e: unknown) => e);
    expect(isSessiontrailError(err, 'LOGS_NOT_FOUND')).toBe(true);
  });

  it("refuses a device with the same LOGS_NOT_FOUND message as the export's path check (one check)", async () => {
    const listed = await findLocalLogs('/dev/null', 'windows', 0, 1).catch((e: unknown) => e);
    const checked = await checkLocalPaths('/dev/null', tmpdir()).catch((e: unknown) => e);
    expect(isSessiontrailError(listed, 'LOGS_NOT_FOUND')).toBe(true);
    expect((listed as Error).message).toMatch(/--logs \/dev\/null is neither a folder nor a regular file/);
    expect((listed as Error).message).toBe((checked as Error).message);
  });

  it('reports a truncated gzip file and still uses its readable lines (DuckDB alone would drop the tail silently)', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => line(i + 1));
    const whole = gzipSync(`${lines.join('\n')}\n`);
    const { root } = await logFolder({ 'cut.json.gz': whole.subarray(0, Math.floor(whole.length * 0.6)) });
    const found = await findLocalLogs(root, 'windows', 0, day('2030-01-01'));
    expect(found.problems).toEqual([
      expect.objectContaining({ key: 'cut.json.gz', reason: 'truncated_gzip' }),
    ]);
    const engine = await DuckDbEngine.open({ threads: 1 });
    try {
      await engine.materialize(
        'l',
        buildWindowsNormaliseQuery(engine.dialect, { kind: 'files', files: found.files }),
      );
      const { rows } = await engine.select({
        name: 't',
        sql: `SELECT status, count(*) AS n, min(object_key) AS k FROM l GROUP BY status ORDER BY status`,
        params: [],
      });
      const events = rows.find((r) => r.status === 'event');
      expect(Number(events?.n)).toBeGreaterThan(500);
      expect(Number(events?.n)).toBeLessThan(2000);
      expect(events?.k).toBe('cut.json.gz');
      // The line cut in the middle is counted as malformed, not lost.
      expect(rows.find((r) => r.status === 'rejected')?.n).toBe(1);
    } finally {
      await engine.close();
      await found.cleanup();
    }
  });
});

/** A Windows 4634 line (a logoff: an event of the source) with its own record number. */
const logoff = (n: number, host = 'WS01') => windows4634(n, { Hostname: host, TargetLogonId: logonIdOf(n) });
const WINDOW = { kind: 'review' as const, from: '2024-03-05T00:00:00Z', to: '2024-03-06T00:00:00Z' };

async function windowsLayout(files: Record<string, string | Buffer>): Promise<string> {
  return (await logFolder(inFolder('windows', files), 'st-hostile-')).root;
}

const coverageOf = (pack: EvidencePack, source = 'windows') => ({
  source: pack.coverage.sources.find((s) => s.source === source),
  rejected: Object.fromEntries(
    pack.coverage.rejected.filter((r) => r.source === source).map((r) => [r.reason, r]),
  ),
  inputs: (pack.inputs ?? []).filter((i) => i.source === source),
});

describe('bad input degrades, never aborts (issue 10)', () => {
  it('rejects a line of invalid UTF-8, a raw 0x01, a lone CR and an over-16-MiB line by reason with its line number; reads CR LF lines', async () => {
    const body = Buffer.concat([
      Buffer.from(`${logoff(1)}\r\n${logoff(2)}\r\n${logoff(3)}\n`), // two captures: CR LF then LF
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]), // line 4: not UTF-8
      Buffer.from(`{"a":"\u0001"}\n`), // line 5: raw 0x01
      Buffer.from(`${logoff(6)}\r${logoff(7)}\n`), // line 6: a CR inside a line
      Buffer.from(`{"x":"${'y'.repeat(16 * 1024 * 1024)}"}\n`), // line 7: over 16 MiB
      Buffer.from('   \n\n'), // lines 8, 9: blank, no records
      Buffer.from(`${logoff(10)}\n`),
    ]);
    const logs = await windowsLayout({ 'dt=2024-03-05/a.json': body });
    const { result } = await localExport(logs, { ...WINDOW, sources: ['windows'] });
    const c = coverageOf(result.pack);
    expect(c.rejected.invalid_utf8?.examples).toEqual(['windows/dt=2024-03-05/a.json#line=4']);
    expect(c.rejected.control_character?.examples).toEqual([
      'windows/dt=2024-03-05/a.json#line=5',
      'windows/dt=2024-03-05/a.json#line=6',
    ]);
    expect(c.rejected.line_too_long?.examples).toEqual(['windows/dt=2024-03-05/a.json#line=7']);
    // 4 logoffs read (lines 1-3 and 10), 4 lines rejected, blank lines no records.
    expect(c.source).toMatchObject({ records_read: 8, records_used: 4, records_rejected: 4 });
    expect(c.inputs).toEqual([
      expect.objectContaining({
        key: 'windows/dt=2024-03-05/a.json',
        status: 'read',
        records: 8,
        // Read whole: every byte of the plain file, its 10 lines; listed with its size and digest as stored.
        range: { bytes: body.length, last_line: 10 },
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      }),
    ]);
  }, 60_000);

  it('reads auditd ENRICHED lines, whose 0x1D separator is the format, and still rejects 0x1D in a Windows line', async () => {
    // auditd.conf(5): log_format = ENRICHED appends the interpreted fields after a 0x1D byte.
    const { root } = await logFolder(
      {
        'linux_auditd/dt=2024-03-05/web01.log': `type=USER_CMD msg=audit(1709632800.000:1): pid=9 uid=1000 auid=1000 ses=2 msg='cwd="/" cmd="id" exe="/usr/bin/sudo" terminal=pts/0 res=success'\u001dUID="alice" AUID="alice"\n`,
        'windows/dt=2024-03-05/a.json': `{"a":"\u001d"}\n${logoff(2)}\n`,
      },
      'st-enriched-',
    );
    const auditd = coverageOf(
      (await localExport(root, { ...WINDOW, sources: ['linux_auditd'] })).result.pack,
      'linux_auditd',
    );
    expect(auditd.rejected).toEqual({});
    expect(auditd.source).toMatchObject({ records_read: 1, records_used: 1 });
    const windows = coverageOf((await localExport(root, { ...WINDOW, sources: ['windows'] })).result.pack);
    expect(windows.rejected.control_character?.examples).toEqual(['windows/dt=2024-03-05/a.json#line=1']);
  }, 60_000);

  it('reports an unreadable file as unreadable_file and reads the others', async () => {
    const logs = await windowsLayout({ 'dt=2024-03-05/good.json': `${logoff(1)}\n` });
    // /proc/self/mem is a regular file that no one can read from offset 0 (EIO), root included.
    await symlink('/proc/self/mem', join(logs, 'windows', 'dt=2024-03-05', 'bad.json'));
    const { result } = await localExport(logs, { ...WINDOW, sources: ['windows'] });
    const c = coverageOf(result.pack);
    expect(c.rejected.unreadable_file?.examples).toEqual(['windows/dt=2024-03-05/bad.json']);
    expect(c.inputs.map((i) => [i.key, i.status, i.reason])).toEqual([
      ['windows/dt=2024-03-05/bad.json', 'unreadable', 'unreadable_file'],
      ['windows/dt=2024-03-05/good.json', 'read', null],
    ]);
    expect(c.source?.records_used).toBe(1);
  });

  it('reads an intact gzip with trailing bytes whole, a multi-member gzip whole, and a plain file named .json.gz as text', async () => {
    const lines = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => `${logoff(from + i)}\n`).join('');
    const logs = await windowsLayout({
      'dt=2024-03-05/trailing.json.gz': Buffer.concat([
        gzipSync(lines(1, 40)),
        Buffer.from('garbage after it'),
      ]),
      'dt=2024-03-05/members.json.gz': Buffer.concat([gzipSync(lines(100, 10)), gzipSync(lines(110, 10))]),
      'dt=2024-03-05/plain.json.gz': lines(200, 5),
    });
    const { result } = await localExport(logs, { ...WINDOW, sources: ['windows'] });
    const c = coverageOf(result.pack);
    expect(c.source).toMatchObject({ records_used: 65 });
    expect(c.inputs.map((i) => [i.key.split('/').pop(), i.status, i.reason, i.records])).toEqual([
      ['members.json.gz', 'read', null, 20],
      ['plain.json.gz', 'read', null, 5],
      ['trailing.json.gz', 'damaged', 'trailing_bytes', 40],
    ]);
  });

  it('reads what a cut gzip holds and reports it as truncated_gzip', async () => {
    const whole = gzipSync(Array.from({ length: 3000 }, (_, i) => `${logoff(i)}\n`).join(''));
    const logs = await windowsLayout({ 'dt=2024-03-05/cut.json.gz': whole.subarray(0, whole.length >> 1) });
    const { result } = await localExport(logs, { ...WINDOW, sources: ['windows'] });
    const c = coverageOf(result.pack);
    expect(c.inputs[0]).toMatchObject({ status: 'damaged', reason: 'truncated_gzip' });
    expect(c.rejected.truncated_gzip?.count).toBe(1);
    expect(c.source?.records_used).toBeGreaterThan(500);
  });

  it('reports an empty and a truncated .parquet as damaged and goes on', async () => {
    const sample = dataset('ocsf', 'security-lake-samples');
    const parquet = (await readdir(sample, { recursive: true })).find((f) => f.endsWith('.parquet'));
    const bytes = await readFile(join(sample, parquet as string));
    const { root } = await logFolder(
      { 'ocsf/empty.parquet': '', 'ocsf/cut.parquet': bytes.subarray(0, bytes.length >> 1) },
      'st-parquet-',
    );
    const { result } = await localExport(root, { ...WINDOW, sources: ['ocsf'] });
    const c = coverageOf(result.pack, 'ocsf');
    expect(c.inputs.map((i) => [i.key, i.status, i.reason])).toEqual([
      ['ocsf/cut.parquet', 'damaged', 'truncated_parquet'],
      ['ocsf/empty.parquet', 'skipped', 'empty_file'],
    ]);
    expect(c.rejected.truncated_parquet?.count).toBe(1);
  });

  it('splits a CloudTrail {"Records":[…]} document so that one bad record (lone \\ud800, raw CR in a string, cut) rejects that record only', async () => {
    const rec = (i: number, extra = '') =>
      `{"eventVersion":"1.08","eventTime":"2024-03-05T10:00:${String(i).padStart(2, '0')}Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"us-east-1","eventID":"e-${i}","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u${extra}","accessKeyId":"AKIA${i}"}}`;
    const records = Array.from({ length: 13 }, (_, i) => rec(i));
    records[3] = rec(3, '\\ud800');
    records[7] = rec(7, '\r');
    const { root } = await logFolder(
      {
        'cloudtrail/a_CloudTrail_x.json': `\ufeff{"Records":[\r\n${records.join(',\r\n')}]}`,
        'cloudtrail/b_CloudTrail_x.json': `{"Records":[${rec(20)},${rec(21).slice(0, 50)}`,
      },
      'st-ct-',
    );
    const { result } = await localExport(root, { ...WINDOW, sources: ['cloudtrail'] });
    const c = coverageOf(result.pack, 'cloudtrail');
    expect(c.rejected.lone_surrogate?.examples).toEqual(['cloudtrail/a_CloudTrail_x.json#record=3']);
    expect(c.rejected.control_character?.examples).toEqual(['cloudtrail/a_CloudTrail_x.json#record=7']);
    expect(c.rejected.truncated_record?.examples).toEqual(['cloudtrail/b_CloudTrail_x.json#record=1']);
    expect(c.inputs.map((i) => [i.key, i.records])).toEqual([
      ['cloudtrail/a_CloudTrail_x.json', 13],
      ['cloudtrail/b_CloudTrail_x.json', 2],
    ]);
    expect(c.source?.records_read).toBe(15);
    expect(c.source?.records_rejected).toBe(3);
  });

  it('stops a gzip bomb at the decompressed-size limit, reports it, and stays far below 2 GB', async () => {
    // 80 members of 64 MiB of NUL bytes: 5 MiB on disk, 5 GiB decompressed, over the 4 GiB default.
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const logs = await windowsLayout({
      'dt=2024-03-05/bomb.json.gz': Buffer.concat(Array.from({ length: 80 }, () => member)),
      'dt=2024-03-05/good.json': `${logoff(1)}\n`,
    });
    const { result } = await localExport(logs, { ...WINDOW, sources: ['windows'] });
    const c = coverageOf(result.pack);
    expect(c.inputs.find((i) => i.key.endsWith('bomb.json.gz'))).toMatchObject({
      status: 'damaged',
      reason: 'decompressed_too_large',
    });
    expect(c.rejected.decompressed_too_large?.count).toBe(1);
    expect(c.source?.records_used).toBe(1);
    expect(process.resourceUsage().maxRSS * 1024).toBeLessThan(2 * 1024 ** 3);
  }, 60_000);

  it('applies a smaller decompressed-size limit when given one', async () => {
    const logs = await windowsLayout({
      'dt=2024-03-05/big.json.gz': gzipSync(
        Array.from({ length: 2000 }, (_, i) => `${logoff(i)}\n`).join(''),
      ),
    });
    const found = await findLocalLogs(logs, 'windows', day('2024-03-05'), day('2024-03-06'), {
      ...DEFAULT_LIMITS,
      maxDecompressedBytes: 64 * 1024,
    });
    await found.cleanup();
    expect(found.inputs[0]).toMatchObject({ status: 'damaged', reason: 'decompressed_too_large' });
    expect(found.files).toEqual([]);
  });
});

describe('accounting (issue 10)', () => {
  it('counts a record stamped outside the window (1970 in a dt= folder of the window) as outside_window, not used', async () => {
    const stale = JSON.parse(logoff(2)) as Record<string, unknown>;
    stale['@timestamp'] = '1970-01-01T00:00:00.000Z';
    const logs = await windowsLayout({ 'dt=2024-03-05/a.json': `${logoff(1)}\n${JSON.stringify(stale)}\n` });
    const { result } = await localExport(logs, { ...WINDOW, sources: ['windows'] });
    expect(coverageOf(result.pack).source).toMatchObject({
      records_read: 2,
      records_used: 1,
      records_outside_window: 1,
    });
  });
});

describe('paths taken literally (issue 10)', () => {
  it('reads [x].json, x.json, a?.json and *.json each once, never as globs', async () => {
    const logs = await windowsLayout({
      'dt=2024-03-05/[x].json': `${logoff(1)}\n`,
      'dt=2024-03-05/x.json': `${logoff(2)}\n`,
      'dt=2024-03-05/a?.json': `${logoff(3)}\n`,
      'dt=2024-03-05/*.json': `${logoff(4)}\n`,
    });
    const { result } = await localExport(logs, { ...WINDOW, sources: ['windows'] });
    const c = coverageOf(result.pack);
    expect(c.inputs.map((i) => [i.key.split('/').pop(), i.records])).toEqual([
      ['*.json', 1],
      ['[x].json', 1],
      ['a?.json', 1],
      ['x.json', 1],
    ]);
    expect(c.source).toMatchObject({ records_read: 4, records_used: 4, duplicates_collapsed: 0 });
  });

  it('follows symlinked files and dt= folders, once, and survives a link loop', async () => {
    const { root: elsewhere } = await logFolder(
      { 'linked.json': `${logoff(1)}\n`, 'day/in-linked-folder.json': `${logoff(2)}\n` },
      'st-elsewhere-',
    );
    const logs = await windowsLayout({ 'dt=2024-03-04/own.json': `${logoff(3)}\n` });
    await symlink(join(elsewhere, 'linked.json'), join(logs, 'windows', 'dt=2024-03-04', 'linked.json'));
    await symlink(join(elsewhere, 'day'), join(logs, 'windows', 'dt=2024-03-05'));
    await symlink(join(logs, 'windows'), join(logs, 'windows', 'dt=2024-03-04', 'loop'));
    const found = await findLocalLogs(logs, 'windows', day('2024-03-04'), day('2024-03-06'));
    await found.cleanup();
    expect(found.inputs.map((i) => [i.key, i.status, i.reason])).toEqual([
      ['windows/dt=2024-03-04/linked.json', 'read', null],
      ['windows/dt=2024-03-04/loop/', 'skipped', 'folder_already_read'],
      ['windows/dt=2024-03-04/own.json', 'read', null],
      ['windows/dt=2024-03-05/in-linked-folder.json', 'read', null],
    ]);
  });

  it('reads logs given by a relative path (the links the engine reads point at absolute paths)', async () => {
    const logs = await windowsLayout({ 'dt=2024-03-05/a.json': `${logoff(1)}\n` });
    const { result } = await localExport(relative(process.cwd(), logs), { ...WINDOW, sources: ['windows'] });
    expect(coverageOf(result.pack).source?.records_used).toBe(1);
  });

  it('reads rotated names and files outside any dt= folder, and lists a file of another name as skipped', async () => {
    const logs = await windowsLayout({
      'undated.json': `${logoff(1)}\n`,
      'dt=2024-03-05/a.json.1': `${logoff(2)}\n`,
      'dt=2024-03-05/a.json.2.gz': gzipSync(`${logoff(3)}\n`),
      'dt=2024-03-05/notes.txt': 'not a log',
    });
    const { result } = await localExport(logs, { ...WINDOW, sources: ['windows'] });
    const c = coverageOf(result.pack);
    expect(c.inputs.map((i) => [i.key, i.status, i.reason])).toEqual([
      ['windows/dt=2024-03-05/a.json.1', 'read', null],
      ['windows/dt=2024-03-05/a.json.2.gz', 'read', null],
      ['windows/dt=2024-03-05/notes.txt', 'skipped', 'not_a_log_file_name'],
      ['windows/undated.json', 'read', null],
    ]);
    expect(c.source?.records_used).toBe(3);
  });
});
