/**
 * The evtx_dump captures of ../shared/datasets/windows/evtx-to-mitre-attack (CC0-1.0): what a
 * reader of the raw records finds, asserted on packs built end to end with real DuckDB.
 */
import { readFile } from 'node:fs/promises';
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
