/**
 * A scope that matches nothing is refused with the nearest matches; users match across the forms
 * the logs name them by. Real logs: invictus-ir CloudTrail, OTRF Windows (../shared/datasets).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { nearest } from '../../lib/evidence/scope-match.ts';
import { buildRenderModel } from '../../lib/render/render-model.ts';
import { sealFor } from '../fixtures/seal-facts.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

const INVICTUS = dataset('cloudtrail', 'invictus-ir');
const SEAL = { evidenceSha256: 'ab'.repeat(32), keyId: 'key-1', keyFingerprint: 'SHA256:fp' };
const OTRF_BACKDOOR = dataset('windows', 'otrf', 'empire_wmic_add_user_backdoor_2020-09-14080546.json.gz');
const CT = {
  kind: 'incident',
  incidentId: 'IR-1',
  from: '2023-07-10',
  to: '2023-07-11',
  sources: ['cloudtrail'],
} as const;
let keyPath: string;

beforeAll(async () => {
  keyPath = await makeKey();
});

async function refusal(logs: string, request: Parameters<typeof localExport>[1]): Promise<string> {
  try {
    await localExport(logs, request, { keyPath });
  } catch (err) {
    if (isSessiontrailError(err, 'BAD_SCOPE')) return err.message;
    throw err;
  }
  throw new Error('expected a BAD_SCOPE refusal');
}

describe('user scope across the forms the logs use', () => {
  it('finds the sessions of the IAM user bert-jan by its bare name, as by user/<name> and by its ARN', async () => {
    const ids = async (user: string) =>
      (await localExport(INVICTUS, { ...CT, users: [user] }, { keyPath })).result.pack.sessions.map(
        (s) => s.id,
      );
    const byForm = await ids('user/bert-jan');
    expect(byForm.length).toBeGreaterThan(0);
    expect(await ids('bert-jan')).toEqual(byForm);
    expect(await ids('arn:aws:iam::123837392027:user/bert-jan')).toEqual(byForm);
  }, 120_000);
});

describe("a user-scoped CloudTrail pack follows the user's role chains", () => {
  it('takes in the AssumeRole sessions whose keys were issued to bert-jan, with their calls', async () => {
    // The account-wide pack names, for each role session, the key that assumed it (detail
    // caller_key): the sessions of bert-jan are those of its identity and those assumed with its keys.
    const all = (await localExport(INVICTUS, { ...CT, users: [], hosts: ['123837392027'] }, { keyPath }))
      .result.pack;
    const own = all.sessions.filter((s) => s.account.endsWith(':user/bert-jan'));
    const keys = new Set(own.map((s) => s.logon_id));
    const assumed = all.sessions.filter((s) =>
      s.details.some((d) => d.name === 'caller_key' && keys.has(d.value)),
    );
    expect(assumed.length).toBeGreaterThan(0);
    const scoped = (await localExport(INVICTUS, { ...CT, users: ['bert-jan'] }, { keyPath })).result.pack;
    const ids = (list: readonly { logon_id: string | null; activity_count: number }[]) =>
      list.map((s) => `${s.logon_id}|${s.activity_count}`).sort();
    expect(ids(scoped.sessions)).toEqual(ids([...own, ...assumed]));
    expect(scoped.limitations).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${assumed.length} sessions are in this pack because they were assumed with credentials`),
      ),
    );
  }, 180_000);
});

describe('NetBIOS and DNS domain forms of one account', () => {
  it('finds the same sessions and orphan activity for pgustavo, THESHIRE\\pgustavo and THESHIRE.LOCAL\\pgustavo, and says how the forms were joined', async () => {
    // empire_wmic_add_user_backdoor (datasets README): the 4624s name the DNS domain
    // THESHIRE.LOCAL, the 4672 / 4688 / 4634 the NetBIOS domain THESHIRE, both with pgustavo's SID
    // S-1-5-21-4020993649-1037605423-417876593-1104.
    const SID = 'S-1-5-21-4020993649-1037605423-417876593-1104';
    const pack = async (user: string) =>
      (
        await localExport(
          OTRF_BACKDOOR,
          {
            kind: 'incident',
            incidentId: 'IR-4',
            from: '2020-09-14',
            to: '2020-09-15',
            sources: ['windows'],
            users: [user],
          },
          { keyPath },
        )
      ).result.pack;
    const view = (p: Awaited<ReturnType<typeof pack>>) => ({
      sessions: p.sessions.map((s) => `${s.host}|${s.logon_id}`),
      orphans: p.orphan_activity.map((g) => `${g.host}|${g.logon_id}|${g.event_count}`),
    });
    const bare = await pack('pgustavo');
    const netbios = await pack('THESHIRE\\pgustavo');
    const dns = await pack('theshire.local\\PGUSTAVO');
    expect(view(bare).sessions).toContain('WORKSTATION6.THESHIRE.LOCAL|0x551686');
    expect(view(netbios)).toEqual(view(bare));
    expect(view(dns)).toEqual(view(bare));
    // the bare name matches every form directly: nothing was joined
    expect(bare.pack.scope.user_ties).toBeUndefined();
    expect(dns.pack.scope.user_ties).toEqual([
      expect.objectContaining({
        user: 'theshire.local\\PGUSTAVO',
        form: 'THESHIRE\\pgustavo',
        basis: 'same_sid',
        sid: SID,
      }),
    ]);
    // the PDF says the same on its cover
    expect(buildRenderModel(dns, sealFor(dns, SEAL)).cover.facts).toContainEqual({
      label: 'Joined to a user',
      value: expect.stringMatching(
        new RegExp(
          `^THESHIRE\\\\pgustavo joined to theshire\\.local\\\\PGUSTAVO: the logs give both the SID ${SID} \\(\\d+ events\\)$`,
        ),
      ),
    });
    expect(netbios.pack.scope.user_ties).toEqual([
      expect.objectContaining({
        user: 'THESHIRE\\pgustavo',
        form: 'THESHIRE.LOCAL\\pgustavo',
        basis: 'same_sid',
        sid: SID,
      }),
    ]);
  }, 180_000);
});

describe('a scope that matches nothing', () => {
  it('is refused (BAD_SCOPE) naming the nearest accounts of the data', async () => {
    const message = await refusal(INVICTUS, { ...CT, users: ['bert-jn'] });
    expect(message).toMatch(/^user "bert-jn" matches no record of the data read; nearest: "bert-jan"/);
    expect(message).toMatch(/--allow-empty/);
  }, 60_000);

  it('is refused for a host, naming the host the data holds', async () => {
    const message = await refusal(OTRF_BACKDOOR, {
      kind: 'incident',
      incidentId: 'IR-2',
      from: '2020-09-14',
      to: '2020-09-15',
      sources: ['windows'],
      hosts: ['WORKSTATION9'],
    });
    expect(message).toMatch(
      /^host "WORKSTATION9" matches no record of the data read; nearest: "WORKSTATION5", "WORKSTATION6"/,
    );
  }, 60_000);

  it('is sealed when an empty pack is asked for on purpose, and the pack says so', async () => {
    const { result } = await localExport(
      INVICTUS,
      { ...CT, users: ['bert-jn'], allowEmpty: true },
      { keyPath },
    );
    expect(result.pack.sessions).toEqual([]);
    expect(result.pack.limitations[0]).toBe(
      "The scope's user bert-jn matched no record of the data read; this pack was asked for anyway (allow empty), so it shows nothing for them.",
    );
  }, 60_000);
});

describe('nearest', () => {
  it('orders by edit distance, case-insensitively, then by code point', () => {
    expect(nearest('WS1', ['ws10', 'WS01', 'DC01', 'ws1x'], 3)).toEqual(['WS01', 'ws10', 'ws1x']);
  });
});
