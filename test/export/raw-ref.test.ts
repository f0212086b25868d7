/**
 * Every `raw_ref` names one record of one listed input: a Windows record without its record number
 * (a log clear exported without EventRecordID, the case a real pack showed as `#record=none`) is
 * named by its file and line (`#line=N`, from 1), and that line of the listed input is that record.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localExport } from '../helpers/local-export.ts';

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ Hostname: 'WS01', Channel: 'Security', ...fields });

describe('raw_ref resolves to one record', () => {
  let root: string;
  afterAll(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it('names a record without a record number by its line, which is that record in a listed input', async () => {
    // Prepare: a log clear without RecordNumber between two logoffs that have one.
    root = await mkdtemp(join(tmpdir(), 'st-rawref-'));
    const dir = join(root, 'windows', 'dt=2024-03-05');
    await mkdir(dir, { recursive: true });
    const lines = [
      line({
        '@timestamp': '2024-03-05T10:00:01.000Z',
        EventID: 4634,
        RecordNumber: 1,
        TargetLogonId: '0x1',
      }),
      line({
        '@timestamp': '2024-03-05T10:00:02.000Z',
        EventID: 1102,
        SubjectUserName: 'mallory',
        SubjectLogonId: '0x9',
      }),
      line({
        '@timestamp': '2024-03-05T10:00:03.000Z',
        EventID: 4634,
        RecordNumber: 3,
        TargetLogonId: '0x3',
      }),
    ];
    await writeFile(join(dir, 'a.json'), `${lines.join('\n')}\n`);

    // Act
    const { result } = await localExport(root, {
      kind: 'review',
      from: '2024-03-05T00:00:00Z',
      to: '2024-03-06T00:00:00Z',
      sources: ['windows'],
    });

    // Assess
    const clear = result.pack.integrity_events.find((e) => e.kind === 'log_cleared');
    expect(clear?.raw_ref).toMatch(/^windows\/dt=2024-03-05\/a\.json#line=\d+$/);
    const [key, fragment] = (clear?.raw_ref ?? '').split('#') as [string, string];
    expect(result.pack.inputs?.map((i) => i.key)).toContain(key);
    const lineNo = Number(fragment.slice('line='.length));
    const text = await readFile(join(root, key), 'utf8');
    expect(JSON.parse(text.split('\n')[lineNo - 1] as string)).toMatchObject({
      EventID: 1102,
      SubjectUserName: 'mallory',
    });
    const refs = JSON.stringify(result.pack).match(/"raw_ref":"[^"]*"/g) ?? [];
    expect(refs.filter((r) => r.includes('#record=none'))).toEqual([]);
  }, 60_000);
});
