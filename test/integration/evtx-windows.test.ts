/**
 * The evtx_dump captures of ../shared/datasets/windows/evtx-to-mitre-attack (CC0-1.0): what a
 * reader of the raw records finds, asserted on packs built end to end with real DuckDB.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

const PTH = dataset(
  'windows',
  'evtx-to-mitre-attack',
  'jsonl',
  'TA0008-Lateral Movement',
  'T1550-Use Alternate Authentication Material',
  'ID4624-Mimikatz Pass the hash.jsonl',
);

describe('evtx-to-mitre-attack Mimikatz pass the hash: a NewCredentials logon (type 9)', () => {
  let p: EvidencePack;
  let logon: { SubjectLogonId: string; TargetLogonId: string };
  beforeAll(async () => {
    const lines = (await readFile(PTH, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const record = lines
      .map(
        (l) =>
          JSON.parse(l) as { Event: { System: { EventID: number }; EventData?: Record<string, unknown> } },
      )
      .find((e) => e.Event.System.EventID === 4624 && e.Event.EventData?.LogonType === 9);
    logon = record?.Event.EventData as typeof logon;
    p = (
      await localExport(
        PTH,
        { kind: 'review', sources: ['windows'], from: '2021-10-20', to: '2021-10-21' },
        { keyPath: await makeKey() },
      )
    ).result.pack;
  });

  it('keeps the logon that created it and says where that logon is in the pack', () => {
    const canonical = (id: string) => `0x${id.slice(2).replace(/^0+/, '').toLowerCase()}`;
    const s = p.sessions.find((x) => x.logon_id === canonical(logon.TargetLogonId));
    expect(s?.logon_type).toBe(9);
    const detail = (name: string) => s?.details.find((d) => d.name === name)?.value;
    expect(detail('created_by_logon')).toBe(canonical(logon.SubjectLogonId));
    const creator = p.orphan_activity.find((g) => g.logon_id === canonical(logon.SubjectLogonId));
    expect(creator).toBeDefined();
    expect(detail('created_by')).toBe(
      `orphan activity of ${creator?.account} (${creator?.host} ${canonical(logon.SubjectLogonId)})`,
    );
    // 4624 version 1 has no TargetOutbound* fields: nothing is invented for them.
    expect(detail('outbound_account')).toBeUndefined();
  });
});

/**
 * `evtx_dump -o json` (omerbenamram/evtx, src/bin/evtx_dump.rs `dump_record`): for each record a
 * line `Record <EventRecordID>` (`writeln!(output, "Record {}", r.event_record_id)`), then the record
 * as serde_json pretty-prints it (two-space indent, `": "`, the top-level braces alone on their
 * lines), then a line break. `-o jsonl` is the same records, one per line, without the headers.
 */
function evtxDumpJson(jsonl: string): string {
  return jsonl
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const r = JSON.parse(l) as { Event: { System: { EventRecordID: number } } };
      return `Record ${r.Event.System.EventRecordID}\n${JSON.stringify(r, null, 2)}\n`;
    })
    .join('');
}

describe('evtx_dump -o json output (Record headers, pretty-printed records)', () => {
  const request = {
    kind: 'incident',
    incidentId: 'IR-5',
    sources: ['windows'],
    from: '2021-10-20',
    to: '2021-10-21',
    hosts: ['FS03'],
  } as const;
  const view = (p: EvidencePack) => ({
    sessions: p.sessions.map((s) => [s.host, s.logon_id, s.start, s.end, s.activity.length]),
    orphans: p.orphan_activity.map((g) => [g.host, g.logon_id, g.event_count]),
    integrity: p.integrity_events.map((e) => [e.time, e.event_code]),
    used: p.coverage.sources.map((c) => [c.records_read, c.records_used, c.records_rejected]),
  });

  it('reads the same records and builds the same pack as from -o jsonl', async () => {
    // Prepare: the dataset's capture in both evtx_dump layouts
    const jsonl = await readFile(PTH, 'utf8');
    const dir = await mkdtemp(join(tmpdir(), 'st-evtxdump-'));
    await writeFile(join(dir, 'pth.json'), evtxDumpJson(jsonl));
    const keyPath = await makeKey();
    // Act
    const fromJson = (await localExport(join(dir, 'pth.json'), request, { keyPath })).result.pack;
    const fromJsonl = (await localExport(PTH, request, { keyPath })).result.pack;
    // Assess: every record read (8 in the capture), none rejected, the same reconstruction
    const records = jsonl.split('\n').filter((l) => l.trim() !== '').length;
    expect(fromJson.coverage.sources[0]).toMatchObject({ records_read: records, records_rejected: 0 });
    expect(view(fromJson)).toEqual(view(fromJsonl));
    expect(fromJson.inputs?.[0]).toMatchObject({ status: 'read', records });
  }, 120_000);

  it('rejects a record cut short (a file truncated mid-record) by line, and reads the others', async () => {
    const text = evtxDumpJson(await readFile(PTH, 'utf8'));
    const cut = text.slice(0, text.lastIndexOf('Record ') + 200); // the last record's first lines only
    const dir = await mkdtemp(join(tmpdir(), 'st-evtxdump-'));
    await writeFile(join(dir, 'cut.json'), cut);
    const pack = (await localExport(join(dir, 'cut.json'), request, { keyPath: await makeKey() })).result
      .pack;
    const lastStart = cut.slice(0, cut.lastIndexOf('Record ')).split('\n').length + 1; // the line of its `{`
    expect(pack.coverage.rejected).toEqual([
      expect.objectContaining({
        reason: 'truncated_record',
        count: 1,
        examples: [`cut.json#line=${lastStart}`],
      }),
    ]);
    const records = text.split('\n').filter((l) => /^Record \d+$/.test(l)).length;
    const c = pack.coverage.sources[0];
    expect(c).toMatchObject({ records_read: records, records_rejected: 1 });
    expect((c?.records_used ?? 0) + (c?.records_skipped ?? 0)).toBe(records - 1);
  }, 120_000);
});
