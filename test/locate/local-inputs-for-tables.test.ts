/**
 * `withLocalInputs`: raw tables over a local folder (`export --engine trino --trino-logs-root
 * local://…`) list the folder's files through the one local intake, and only when that list is
 * certainly what a table reads.
 */
import { describe, expect, it } from 'vitest';
import { findLocalLogs, withLocalInputs } from '../../lib/locate/local-logs.ts';
import type { LocatedInput, RawLogLocator } from '../../lib/locate/raw-log-locator.ts';
import { type LogFiles, logFolder, logonIdOf, windows4634 } from '../helpers/log-folder.ts';

const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
const line = (n: number) => windows4634(n, { TargetLogonId: logonIdOf(n) });

/** A table locator as the engine sees it: a table input, no list of its own. */
const tables = (): RawLogLocator & { cleaned: number } => {
  const t = {
    cleaned: 0,
    sources: async () => ['windows'],
    locate: async (): Promise<LocatedInput> => ({
      input: { kind: 'table', table: 'hive.raw.windows_raw', dtFrom: '2024-03-04', dtTo: '2024-03-05' },
      problems: [],
      cleanup: async () => {
        t.cleaned += 1;
      },
    }),
  };
  return t satisfies RawLogLocator;
};

/** Two clean day folders of Windows lines, and any extra files. */
async function folder(extra: LogFiles = {}): Promise<string> {
  const lines = `${line(1)}\n${line(2)}\n`;
  const files = { 'windows/dt=2024-03-04/a.json': lines, 'windows/dt=2024-03-05/a.json': lines, ...extra };
  return (await logFolder(files, 'st-tables-')).root;
}

describe('withLocalInputs', () => {
  it('lists the files the local intake lists, with their status, records and sha256, for clean day folders', async () => {
    // Prepare
    const root = await folder();
    const t = tables();

    // Act
    const located = await withLocalInputs(t, root).locate('windows', day('2024-03-04'), day('2024-03-06'));

    // Assess
    const local = await findLocalLogs(root, 'windows', day('2024-03-04'), day('2024-03-06'));
    await local.cleanup();
    expect(located.inputs).toEqual(local.inputs);
    expect(located.inputs?.map((i) => [i.key, i.status, i.records])).toEqual([
      ['windows/dt=2024-03-04/a.json', 'read', 2],
      ['windows/dt=2024-03-05/a.json', 'read', 2],
    ]);
    expect(located.problems).toEqual([]);
    await located.cleanup();
    expect(t.cleaned).toBe(1);
  });

  it.each<[string, LogFiles]>([
    [
      'a file a Hive table reads and the intake passes over (not a log name)',
      { 'windows/dt=2024-03-05/notes.txt': 'not a log' },
    ],
    [
      'a line the intake rejects (not UTF-8)',
      { 'windows/dt=2024-03-05/b.json': Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]) },
    ],
    [
      'a file outside any day partition, which a partitioned table does not read',
      { 'windows/loose.json': `${line(3)}\n` },
    ],
  ])('lists nothing, rather than a list that may differ from what the table read, for %s', async (_what, extra) => {
    // Prepare
    const root = await folder(extra);

    // Act
    const located = await withLocalInputs(tables(), root).locate(
      'windows',
      day('2024-03-04'),
      day('2024-03-06'),
    );

    // Assess
    expect(located.inputs).toBeUndefined();
    expect(located.problems).toEqual([]);
  });

  it('keeps the list a staged table gives (CloudTrail staging), never a second listing', async () => {
    // Prepare
    const root = await folder();
    const staged = tables();
    const listed = [
      {
        key: 'cloudtrail/x.json.gz',
        status: 'read' as const,
        reason: null,
        size: 1,
        sha256: 'a'.repeat(64),
        s3: null,
        records: 1,
        range: null,
      },
    ];
    const withList: RawLogLocator = {
      sources: staged.sources,
      locate: async (source, from, to) => ({ ...(await staged.locate(source, from, to)), inputs: listed }),
    };

    // Act
    const located = await withLocalInputs(withList, root).locate(
      'windows',
      day('2024-03-04'),
      day('2024-03-06'),
    );

    // Assess
    expect(located.inputs).toBe(listed);
  });
});
