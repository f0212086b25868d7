/**
 * Finding local logs: partition pruning, plain folders and files, and damaged gzip files whose
 * readable prefix is still used (real zlib, real DuckDB).
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { buildWindowsNormaliseQuery } from '../../lib/sources/windows.ts';
import { findLocalLogs } from '../../lib/storage/local-logs.ts';

const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
const line = (n: number) =>
  JSON.stringify({
    '@timestamp': `2024-03-05T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
    Hostname: 'WS01',
    Channel: 'Security',
    EventID: 4634,
    RecordNumber: n,
    TargetLogonId: `0x${n.toString(16)}`,
    Message: 'x'.repeat(200),
  });

describe('findLocalLogs', () => {
  it('reads only the dt= partitions of the window, and names files relative to the logs root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'st-logs-'));
    for (const d of ['2024-03-03', '2024-03-04', '2024-03-05', '2024-03-06']) {
      await mkdir(join(root, 'windows', `dt=${d}`), { recursive: true });
      await writeFile(join(root, 'windows', `dt=${d}`, 'a.json'), `${line(1)}\n`);
    }
    await writeFile(join(root, 'windows', 'dt=2024-03-05', 'notes.txt'), 'not a log');
    const found = await findLocalLogs(root, 'windows', day('2024-03-04'), day('2024-03-06'));
    expect(found.files.map((f) => f.key)).toEqual([
      'windows/dt=2024-03-04/a.json',
      'windows/dt=2024-03-05/a.json',
    ]);
  });

  it('takes a plain folder (recursively) or a single file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'st-logs-'));
    await mkdir(join(root, 'x', 'y'), { recursive: true });
    await writeFile(join(root, 'x', 'y', 'b.jsonl'), `${line(1)}\n`);
    await writeFile(join(root, 'a.json.gz'), gzipSync(`${line(2)}\n`));
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

  it('reports a truncated gzip file and still uses its readable lines (DuckDB alone would drop the tail silently)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'st-logs-'));
    const lines = Array.from({ length: 2000 }, (_, i) => line(i + 1));
    const whole = gzipSync(`${lines.join('\n')}\n`);
    await writeFile(join(root, 'cut.json.gz'), whole.subarray(0, Math.floor(whole.length * 0.6)));
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
