/**
 * The real CloudTrail datasets (../shared/datasets/cloudtrail: invictus-ir MIT, stratus-red-team
 * Apache-2.0): the findings that ../shared/datasets/README.md lists, asserted on packs built end to
 * end with real DuckDB, and every file read without a crash. Every number asserted is either in that
 * README, counted here with plain Node over the files (JSON.parse), or explained with the command that
 * finds it in test/fixtures/DATASET-FACTS.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack, Session } from '../../lib/evidence/model.ts';
import { validateEvidence } from '../../lib/evidence/schema.ts';
import { buildRenderModel } from '../../lib/render/render-model.ts';
import { sealFor } from '../fixtures/seal-facts.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

const INVICTUS = dataset('cloudtrail', 'invictus-ir');
const STRATUS = dataset('cloudtrail', 'stratus-red-team');
let keyPath: string;

beforeAll(async () => {
  keyPath = await makeKey();
});

/** A CloudTrail record, as far as these counts read it. */
interface Rec {
  readonly eventSource?: string;
  readonly eventName?: string;
  readonly errorCode?: string;
  readonly eventTime?: string;
  readonly userIdentity?: {
    readonly type?: string;
    readonly arn?: string;
    readonly accessKeyId?: string;
    readonly sessionContext?: { readonly attributes?: { readonly creationDate?: string } };
  };
  readonly responseElements?: { readonly credentials?: { readonly accessKeyId?: string } } | null;
}

const jsonFiles = (dir: string) =>
  (readdirSync(dir, { recursive: true }) as string[]).filter((name) => name.endsWith('.json'));

/** Every record of the folder's files, read with JSON.parse: the independent reading. */
function recordsOf(dir: string): Rec[] {
  return jsonFiles(dir).flatMap((name) => {
    const doc = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { Records?: Rec[] } | Rec[];
    return Array.isArray(doc) ? doc : (doc.Records ?? []);
  });
}
const recordsIn = (dir: string) => recordsOf(dir).length;

const CREDENTIAL_EVENTS = [
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'GetSessionToken',
  'GetFederationToken',
];
const PRINCIPALS = ['IAMUser', 'Root', 'AssumedRole', 'FederatedUser', 'IdentityCenterUser'];
const issuesCredentials = (r: Rec) =>
  r.eventSource === 'sts.amazonaws.com' &&
  CREDENTIAL_EVENTS.includes(r.eventName ?? '') &&
  r.errorCode === undefined &&
  r.responseElements?.credentials?.accessKeyId !== undefined;

/**
 * Why a record is skipped, by the source's rules restated (lib/sources/cloudtrail.ts header):
 * sign-in steps other than ConsoleLogin / SwitchRole, then calls by no principal (AWS services,
 * other accounts, no identity) unless they issue credentials. `null`: not skipped.
 */
function skipReason(r: Rec): string | null {
  if (r.eventSource === 'signin.amazonaws.com')
    return ['ConsoleLogin', 'SwitchRole'].includes(r.eventName ?? '') ? null : 'sign_in_step';
  if (issuesCredentials(r)) return null;
  const type = r.userIdentity?.type;
  if (type !== undefined && PRINCIPALS.includes(type)) return null;
  if (type === undefined) return 'service_event';
  if (type === 'AWSService') return 'aws_service_caller';
  return type === 'AWSAccount' ? 'other_account_caller' : 'other_identity_type';
}

const countBy = <T>(items: readonly T[], key: (t: T) => string | null) => {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== null) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};
const signedBy = (recs: readonly Rec[], key: string) =>
  recs.filter((r) => r.userIdentity?.accessKeyId === key);

const byLogon = (p: EvidencePack, logonId: string): Session => {
  const s = p.sessions.find((x) => x.logon_id === logonId);
  if (s === undefined) throw new Error(`no session ${logonId} in the pack`);
  return s;
};

describe('CloudTrail invictus-ir (incident pack over the account)', () => {
  let p: EvidencePack;
  let review: EvidencePack;
  beforeAll(async () => {
    const request = { from: '2023-07-10', to: '2023-07-11', sources: ['cloudtrail'] };
    p = (
      await localExport(
        INVICTUS,
        { ...request, kind: 'incident', incidentId: 'IR-CT', hosts: ['123837392027'] },
        { keyPath },
      )
    ).result.pack;
    review = (await localExport(INVICTUS, { ...request, kind: 'review' }, { keyPath })).result.pack;
  }, 120_000);

  it('reads every file and record: 2,900 records, no rejected, skipped only service events', () => {
    // 55 files and 2,900 records: ../shared/datasets/README.md, and counted here.
    expect(jsonFiles(INVICTUS)).toHaveLength(55);
    expect(recordsIn(INVICTUS)).toBe(2900);
    const cov = p.coverage.sources[0];
    expect(cov?.files).toBe(55);
    // The 13 rows derived from records (the caller side of 10 AssumeRole calls, 3 inferred logons) are not records read.
    expect(cov?.records_read).toBe(2900);
    expect(cov?.records_rejected).toBe(0);
    // Counted by the skip rules over the records (8, 42 and 1: test/fixtures/DATASET-FACTS.md).
    expect(Object.fromEntries(p.coverage.skipped.map((s) => [s.reason, s.count]))).toEqual(
      countBy(recordsOf(INVICTUS), skipReason),
    );
    expect(validateEvidence(p).ok).toBe(true);
  });

  it('finds bert-jan console session with MFA, and its console calls', () => {
    const s = byLogon(p, 'arn:aws:iam::123837392027:user/bert-jan@2023-07-10T12:27:45Z');
    expect(s).toMatchObject({
      source: 'cloudtrail',
      host: '123837392027',
      user: { uid: 'arn:aws:iam::123837392027:user/bert-jan' },
      start: '2023-07-10T12:27:45.000Z',
      end: '2023-07-10T12:34:46.000Z',
      end_reason: 'last_activity',
      src_ip: '10.8.8.10',
    });
    expect(s.details).toEqual(expect.arrayContaining([{ name: 'mfa', value: 'Yes' }]));
    expect(s.completeness).toMatchObject({ logoff: 'not_expected', verdict: 'complete' });
    // Her calls under console keys carry the sign-in's time as their creationDate (217, DATASET-FACTS.md).
    expect(s.activity_count).toBe(
      recordsOf(INVICTUS).filter(
        (r) =>
          r.userIdentity?.arn === 'arn:aws:iam::123837392027:user/bert-jan' &&
          r.userIdentity.accessKeyId?.startsWith('ASIA') === true &&
          r.userIdentity.sessionContext?.attributes?.creationDate === '2023-07-10T12:27:45Z',
      ).length,
    );
    expect(s.activity.every((a) => a.user_name === 'user/bert-jan')).toBe(true);
  });

  it('finds the console session of the freshly created user, without MFA', () => {
    const s = byLogon(
      p,
      'arn:aws:iam::123837392027:user/stratus-red-team-nmfalu-gfjyeaypjt@2023-07-10T12:23:15Z',
    );
    expect(s.start).toBe('2023-07-10T12:23:15.000Z');
    expect(s.src_ip).toBe('192.168.10.20');
    expect(s.details).toEqual(expect.arrayContaining([{ name: 'mfa', value: 'No' }]));
  });

  it('ties the keys that AssumeRole returned to their later calls, linked to the caller key', () => {
    const s = byLogon(p, 'ASIATFQR7NSCWLLE7IWW');
    expect(s).toMatchObject({
      user: {
        uid: 'arn:aws:sts::123837392027:assumed-role/stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1688990082523310002',
      },
      linked_logon_id: 'AKIATFQR7NSC8Q4X20BJ',
      start: '2023-07-10T11:54:47.000Z',
      // credentials.expiration "Jul 10, 2023, 12:09:47 PM" (not ISO)
      end: '2023-07-10T12:09:47.000Z',
      end_reason: 'credentials_expired',
    });
    // Every call the returned key signed (29, DATASET-FACTS.md).
    expect(s.activity_count).toBe(signedBy(recordsOf(INVICTUS), 'ASIATFQR7NSCWLLE7IWW').length);
    expect(new Set(s.activity.map((a) => a.event_code))).toEqual(
      new Set(['ec2.amazonaws.com:GetPasswordData']),
    );
    expect(s.details).toEqual(
      expect.arrayContaining([
        {
          name: 'role_arn',
          value: 'arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role',
        },
        { name: 'caller', value: 'arn:aws:iam::123837392027:user/bert-jan' },
      ]),
    );
    // One session per key that bert-jan's long-term key obtained (10 successful AssumeRole, DATASET-FACTS.md).
    const issuedByHim = signedBy(recordsOf(INVICTUS), 'AKIATFQR7NSC8Q4X20BJ').filter(issuesCredentials);
    const linked = p.sessions.filter((x) => x.linked_logon_id === 'AKIATFQR7NSC8Q4X20BJ');
    expect(linked.map((x) => x.logon_id).sort()).toEqual(
      issuedByHim.map((r) => r.responseElements?.credentials?.accessKeyId).sort(),
    );
    expect(byLogon(p, 'ASIATFQR7NSC2632JLFK').activity_count).toBe(
      signedBy(recordsOf(INVICTUS), 'ASIATFQR7NSC2632JLFK').length,
    );
  });

  it('splits the long-term key of bert-jan into an inferred session holding his AssumeRole calls', () => {
    const s = byLogon(p, 'AKIATFQR7NSC8Q4X20BJ');
    expect(s).toMatchObject({
      start: '2023-07-10T11:54:33.000Z',
      end: '2023-07-10T12:29:09.000Z',
      end_reason: 'last_activity',
      privileged: true,
      privileged_because: ['action:privileged_action'],
      // 2,104 calls: ../shared/datasets/README.md
      activity_count: 2104,
    });
    // Successful ones (each the logon of a linked session) and denied ones: 10 and 13 (DATASET-FACTS.md).
    const hisAssumes = signedBy(recordsOf(INVICTUS), 'AKIATFQR7NSC8Q4X20BJ').filter(
      (r) => r.eventName === 'AssumeRole',
    );
    const assumes = s.activity.filter((a) => a.event_code === 'sts.amazonaws.com:AssumeRole');
    expect(assumes).toHaveLength(hisAssumes.length);
    expect(assumes.filter((a) => a.action === 'AssumeRole')).toHaveLength(
      hisAssumes.filter(issuesCredentials).length,
    );
    expect(s.activity.some((a) => a.action === 'CreateUser')).toBe(true);
    expect(s.activity.some((a) => /failed: AccessDenied/.test(a.action))).toBe(true);
  });

  it('shows the stolen instance-role key used from 192.168.10.20', () => {
    const s = byLogon(p, 'ASIATFQR7NSC36DZQP7P');
    expect(s.user.uid).toBe(
      'arn:aws:sts::123837392027:assumed-role/stratus-red-team-ec2-steal-credentials-role/i-0dbc91f429e48eeed',
    );
    expect(s.linked_logon_id).toBeNull();
    expect(s.activity.map((a) => a.action).sort()).toEqual(['DescribeInstances', 'GetCallerIdentity']);
    expect(s.activity.every((a) => a.command_line?.startsWith('from 192.168.10.20'))).toBe(true);
    // the instance itself uses the other key of the same role from its own address
    expect(
      byLogon(p, 'ASIATFQR7NSCSHSEVYP5').activity.every((a) =>
        a.command_line?.startsWith('from 3.225.16.109'),
      ),
    ).toBe(true);
  });

  it('reports service-invoked calls under keys that no event issued as orphan activity', () => {
    // 36 issued keys + 2 console sign-ins + 3 long-term bursts; 13 groups of 352 calls whose
    // session began before the data: derived, with the commands, in test/fixtures/DATASET-FACTS.md.
    expect(p.summary).toMatchObject({ sessions: 41, orphan_groups: 13, orphan_events: 352 });
  });

  it('keeps only the privileged sessions in the review pack', () => {
    expect(review.sessions.map((s) => s.logon_id).sort()).toEqual([
      'AKIATFQR7NSC8Q4X20BJ',
      'ASIATFQR7NSCVW2R4OHT',
    ]);
    // an attempt at a privileged action counts, even when denied: LeaveOrganization
    expect(byLogon(review, 'ASIATFQR7NSCVW2R4OHT').activity.map((a) => a.action)).toEqual([
      'LeaveOrganization failed: AccessDenied',
    ]);
  });
});

describe('CloudTrail stratus-red-team', () => {
  let p: EvidencePack;
  let admin: EvidencePack;
  beforeAll(async () => {
    p = (
      await localExport(
        join(STRATUS, 'aws.persistence.sts-federation-token.json'),
        {
          kind: 'incident',
          incidentId: 'IR-F',
          hosts: ['742491224508'],
          from: '2024-11-30',
          to: '2024-12-01',
          sources: ['cloudtrail'],
        },
        { keyPath },
      )
    ).result.pack;
    admin = (
      await localExport(
        join(STRATUS, 'aws.persistence.iam-create-admin-user.json'),
        { kind: 'review', from: '2024-08-01', to: '2024-08-02', sources: ['cloudtrail'] },
        { keyPath },
      )
    ).result.pack;
  }, 120_000);

  it('reads all 35 files (../shared/datasets/README.md) and every record, without a rejected record', async () => {
    expect(jsonFiles(STRATUS)).toHaveLength(35);
    const records = recordsIn(STRATUS);
    const all = (
      await localExport(
        STRATUS,
        { kind: 'review', from: '2024-07-01', to: '2024-12-31', sources: ['cloudtrail'] },
        { keyPath },
      )
    ).result.pack;
    expect(all.coverage.sources[0]).toMatchObject({ files: 35, records_rejected: 0, records_skipped: 0 });
    // Rows derived from a record (the caller side of 31 credential-issuing calls, 10 inferred
    // logons) are not records read.
    expect(all.coverage.sources[0]?.records_read).toBe(records);
    expect(validateEvidence(all).ok).toBe(true);
  });

  it('turns GetFederationToken into a FederatedUser session that its key signs', () => {
    const s = byLogon(p, 'ASIASTJKC5GCM7ZE6LUP');
    expect(s).toMatchObject({
      user: { uid: 'arn:aws:sts::742491224508:federated-user/stratus_red_team' },
      linked_logon_id: 'AKIA6V1GNZTT65XQH36M',
      start: '2024-11-30T08:43:17.000Z',
      end: '2024-11-30T20:43:17.000Z',
      end_reason: 'credentials_expired',
    });
    expect(s.activity.map((a) => a.action)).toEqual(['GetCallerIdentity']);
    // the caller's session is privileged by the action (sts:GetFederationToken)
    expect(byLogon(p, 'AKIA6V1GNZTT65XQH36M').privileged_because).toEqual(['action:privileged_action']);
  });

  it('marks the session that creates an IAM admin privileged by its actions', () => {
    // The file holds the calls of one long-term key within minutes: one burst (DATASET-FACTS.md).
    expect(admin.sessions).toHaveLength(1);
    const s = admin.sessions[0] as Session;
    expect(s).toMatchObject({
      logon_id: 'AKIAOZUDECYXYM4ONAN4',
      account: 'arn:aws:iam::229654561268:user/christophe',
      privileged: true,
      privileged_because: ['action:privileged_action'],
    });
    expect(s.activity.map((a) => a.action).sort()).toEqual([
      'AttachUserPolicy',
      'CreateAccessKey',
      'CreateUser',
    ]);
    expect(s.halves[0]?.logon_ref).toMatch(/^aws\.persistence\.iam-create-admin-user\.json#record=\d$/);
  });
});

describe('CloudTrail invictus-ir: verdicts and sentences true to the source', () => {
  let p: EvidencePack;
  beforeAll(async () => {
    p = (
      await localExport(
        INVICTUS,
        {
          from: '2023-07-10',
          to: '2023-07-11',
          sources: ['cloudtrail'],
          kind: 'incident',
          incidentId: 'IR-CT2',
          hosts: ['123837392027'],
        },
        { keyPath },
      )
    ).result.pack;
  }, 120_000);

  it('says the start of a session inferred from a long-term key’s first call is inferred, not observed', () => {
    const inferred = p.sessions.filter((s) =>
      s.details.some((d) => d.name === 'how' && d.value.startsWith('inferred')),
    );
    expect(inferred.length).toBeGreaterThan(0);
    for (const s of inferred) {
      expect(s.completeness.logon).toBe('inferred');
      expect(s.completeness.verdict).toBe('incomplete');
      expect(s.completeness.reasons).toContain('start_inferred');
    }
    const observed = p.sessions.filter((s) => !inferred.includes(s));
    expect(observed.every((s) => s.completeness.logon === 'observed')).toBe(true);
  });

  it('links a session to the session in the pack whose credentials it came from', () => {
    const linked = p.sessions.filter((s) =>
      p.sessions.some((o) => o !== s && o.host === s.host && o.logon_id === s.linked_logon_id),
    );
    expect(linked.length).toBeGreaterThan(0);
    const model = buildRenderModel(
      p,
      sealFor(p, { evidenceSha256: 'ab'.repeat(32), keyId: 'k', keyFingerprint: 'fp' }),
    );
    for (const s of linked) {
      const target = p.sessions.find((o) => o !== s && o.host === s.host && o.logon_id === s.linked_logon_id);
      expect(s.details).toContainEqual({ name: 'linked_session', value: `session ${target?.id}` });
      const fact = [...model.sessions]
        .find((d) => d.id === s.id)
        ?.facts.find((f) => f.label === 'Linked session');
      expect(fact?.value).toContain('in this pack');
      expect(fact?.value).not.toContain('not in the data');
    }
  });

  it('says nothing of logoff auditing or token types, which CloudTrail does not have', () => {
    expect(p.limitations.some((l) => /logoff auditing/.test(l))).toBe(false);
    const model = buildRenderModel(
      p,
      sealFor(p, { evidenceSha256: 'ab'.repeat(32), keyId: 'k', keyFingerprint: 'fp' }),
    );
    const facts = [...model.sessions].flatMap((d) => d.facts.map((f) => f.value));
    expect(facts.some((v) => v.includes('token type not logged'))).toBe(false);
    const elevated = model.accounts.headers.indexOf('Elevated');
    expect(model.accounts.rows.every((r) => r[elevated] !== 'no')).toBe(true);
  });
});

describe('CloudTrail shipped by Logstash (eventTime moved to @timestamp), built from the invictus-ir records', () => {
  it('reads every record by @timestamp, says so, and rebuilds the same sessions as from the originals', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'st-logstash-'));
    const lines: string[] = [];
    for (const name of (readdirSync(INVICTUS, { recursive: true }) as string[]).sort()) {
      if (!name.endsWith('.json')) continue;
      const doc = JSON.parse(readFileSync(join(INVICTUS, name), 'utf8')) as {
        Records: Record<string, unknown>[];
      };
      for (const { eventTime, ...rest } of doc.Records) {
        // Logstash's date filter: the event's time becomes @timestamp, with milliseconds.
        lines.push(JSON.stringify({ '@timestamp': String(eventTime).replace(/Z$/, '.000Z'), ...rest }));
      }
    }
    await mkdir(join(dir, 'cloudtrail'), { recursive: true });
    await writeFile(join(dir, 'cloudtrail', 'logstash.json'), `${lines.join('\n')}\n`);
    const request = {
      from: '2023-07-10',
      to: '2023-07-11',
      sources: ['cloudtrail'],
      kind: 'review',
    } as const;
    const shipped = (await localExport(dir, request, { keyPath })).result.pack;
    const original = (await localExport(INVICTUS, request, { keyPath })).result.pack;
    const cov = shipped.coverage.sources[0];
    expect(cov?.records_read).toBe(recordsIn(INVICTUS));
    expect(cov?.records_rejected).toBe(0);
    expect(cov?.time_fields.map((t) => t.field)).toEqual(['@timestamp (Logstash copy of eventTime, UTC)']);
    const shape = (p: EvidencePack) =>
      p.sessions.map((s) => [s.logon_id, s.start, s.end, s.activity_count, s.completeness.verdict]);
    expect(shape(shipped)).toEqual(shape(original));
  }, 180_000);
});
