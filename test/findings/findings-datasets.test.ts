/**
 * Findings on the real datasets (../shared/datasets, README there): each finding the issue names is
 * raised, with its references, and the PDF's findings pages show it. Expected counts are derived
 * from the raw records with JSON.parse, not copied from our output.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack, Finding } from '../../lib/evidence/model.ts';
import { validateEvidence } from '../../lib/evidence/schema.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

let keyPath: string;
beforeAll(async () => {
  keyPath = await makeKey();
});

interface Built {
  readonly pack: EvidencePack;
  readonly json: string;
  /** pdftotext of the register part of the findings pages (from "Findings" to "Review sign-off"), whitespace collapsed. */
  readonly register: string;
  readonly pdfText: string;
}

async function build(logs: string, request: Parameters<typeof localExport>[1]): Promise<Built> {
  const { result, storeRoot } = await localExport(logs, request, { keyPath });
  const dir = join(storeRoot, result.dir);
  const pdfText = execFileSync('pdftotext', ['-enc', 'UTF-8', join(dir, 'evidence.pdf'), '-']).toString(
    'utf8',
  );
  const pages = pdfText.split('\f');
  // Page 1 is the cover; the findings pages follow it, up to the sign-off block.
  const findingsPages = pages.slice(1).join('\n');
  const end = findingsPages.indexOf('Review sign-off');
  const register = findingsPages.slice(0, end).replace(/\s+/g, ' ');
  return { pack: result.pack, json: readFileSync(join(dir, 'evidence.json'), 'utf8'), register, pdfText };
}

const of = (p: EvidencePack, rule: string) => p.findings.filter((f) => f.rule_id === rule);
const occurrences = (text: string, word: string) => text.split(word).length - 1;

interface CtRecord {
  eventName: string;
  eventSource: string;
  errorCode?: string;
  additionalEventData?: { MFAUsed?: string };
  userIdentity?: { type?: string };
  responseElements?: { ConsoleLogin?: string };
}
function invictusRecords(): CtRecord[] {
  const dir = dataset('cloudtrail', 'invictus-ir');
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((n) => n.endsWith('.json'))
    .flatMap((n) => (JSON.parse(readFileSync(join(dir, n), 'utf8')) as { Records: CtRecord[] }).Records);
}

describe('CloudTrail invictus-ir review', () => {
  let b: Built;
  let records: CtRecord[];
  beforeAll(async () => {
    records = invictusRecords();
    b = await build(dataset('cloudtrail', 'invictus-ir'), {
      kind: 'review',
      from: '2023-07-10',
      to: '2023-07-11',
      sources: ['cloudtrail'],
    });
  }, 180_000);
  const calls = (name: string, failed?: boolean) =>
    records.filter(
      (r) => r.eventName === name && (failed === undefined || (r.errorCode !== undefined) === failed),
    ).length;
  const onCall = (fs: readonly Finding[], name: string) =>
    fs.filter((f) => f.records[0]?.event_code.endsWith(`:${name}`));

  it('is a valid pack whose integrity events hold the trail tampering, denied attempts included', () => {
    expect(validateEvidence(JSON.parse(b.json))).toEqual({ ok: true });
    const tamper = b.pack.integrity_events.filter((e) =>
      /:(DeleteTrail|StopLogging|PutEventSelectors)$/.test(e.event_code),
    );
    expect(tamper).toHaveLength(calls('DeleteTrail') + calls('StopLogging') + calls('PutEventSelectors'));
  });

  it('raises a finding for each DeleteTrail, each PutEventSelectors and each failed StopLogging, tied to the caller session', () => {
    const stopped = of(b.pack, 'audit-logging-stopped');
    expect(onCall(stopped, 'DeleteTrail')).toHaveLength(calls('DeleteTrail'));
    expect(onCall(stopped, 'DeleteTrail').filter((f) => !/failed/.test(f.statement))).toHaveLength(
      calls('DeleteTrail', false),
    );
    expect(
      onCall(stopped, 'StopLogging').filter((f) => /tried to stop .* \(failed: /.test(f.statement)),
    ).toHaveLength(calls('StopLogging', true));
    expect(onCall(of(b.pack, 'audit-policy-changed'), 'PutEventSelectors')).toHaveLength(
      calls('PutEventSelectors'),
    );
    const sessionIds = new Set(b.pack.sessions.map((s) => s.id));
    for (const f of [...stopped, ...of(b.pack, 'audit-policy-changed')]) {
      expect(f.account).toBe('arn:aws:iam::123837392027:user/bert-jan');
      expect(sessionIds.has(f.session?.id ?? '')).toBe(true);
      expect(f.records[0]?.raw_ref).toMatch(/\.json#record=\d+$/);
    }
  });

  it('raises findings for the IAM users created, their login profiles, and the console sign-in without MFA', () => {
    expect(of(b.pack, 'account-created')).toHaveLength(calls('CreateUser', false));
    expect(onCall(of(b.pack, 'account-changed'), 'CreateLoginProfile')).toHaveLength(
      calls('CreateLoginProfile', false),
    );
    const noMfa = records.filter(
      (r) =>
        r.eventName === 'ConsoleLogin' &&
        r.responseElements?.ConsoleLogin === 'Success' &&
        r.additionalEventData?.MFAUsed === 'No' &&
        r.userIdentity?.type === 'IAMUser',
    ).length;
    expect(noMfa).toBeGreaterThan(0);
    expect(of(b.pack, 'console-login-without-mfa')).toHaveLength(noMfa);
    expect(of(b.pack, 'console-login-without-mfa')[0]?.records[0]?.event_code).toBe(
      'signin.amazonaws.com:ConsoleLogin',
    );
  });

  it('shows them on the findings pages of the PDF, and counts them in the summary sentence', () => {
    const high = b.pack.findings.filter((f) => f.severity === 'high').length;
    expect(b.register).toContain(`This pack holds ${b.pack.findings.length} findings: ${high} high`);
    expect(occurrences(b.register, 'DeleteTrail')).toBe(calls('DeleteTrail'));
    expect(occurrences(b.register, 'StopLogging')).toBe(calls('StopLogging'));
    expect(occurrences(b.register, 'PutEventSelectors')).toBe(calls('PutEventSelectors'));
    expect(occurrences(b.register, 'CreateLoginProfile')).toBe(calls('CreateLoginProfile', false));
    expect(b.register).toContain('without MFA');
    expect(b.pdfText).toContain('Summary');
  });

  it('lists the input files in the PDF as evidence.json does, with the records outside the window per source', () => {
    const flat = b.pdfText.replace(/\s+/g, ' ');
    const inputs = b.pack.inputs ?? [];
    expect(inputs.length).toBe(
      readdirSync(dataset('cloudtrail', 'invictus-ir'), { recursive: true }).filter((n) =>
        String(n).endsWith('.json'),
      ).length,
    );
    const read = inputs.filter((f) => f.status === 'read').length;
    expect(flat).toContain(`${inputs.length} files found: ${read} read,`);
    for (const f of inputs.slice(0, 3)) expect(flat).toContain(f.key.slice(-24));
    expect(flat).toContain('Outside window');
  });

  it('names each successful trail deletion in "what this pack does not show", and never says no logging stop', () => {
    const start = b.pdfText.indexOf('What this pack does not show');
    const gaps = b.pdfText.slice(start, b.pdfText.indexOf('\f', start)).replace(/\s+/g, ' ');
    const deleted = calls('DeleteTrail', false);
    expect(deleted).toBeGreaterThan(0);
    // Grouped per account and call: "(DeleteTrail ×2, first at …)" or "(DeleteTrail at …)".
    const phrase = deleted === 1 ? 'stopped (DeleteTrail at' : `stopped (DeleteTrail ×${deleted}, first at`;
    expect(gaps).toContain(`activity on 123837392027 after audit logging was ${phrase}`);
    // The denied StopLogging calls changed nothing: they are findings, not gaps.
    expect(gaps).not.toContain('StopLogging');
    expect(b.pdfText).not.toMatch(/No log clearing|no audit stop/i);
    expect(b.pdfText.replace(/\s+/g, ' ')).toContain(
      `denied attempt: logging stopped ${calls('StopLogging', true) + calls('DeleteTrail', true)}`,
    );
  });
});

const OTRF = dataset('windows', 'otrf');

describe('OTRF psh_control_panel_execution', () => {
  let b: Built;
  beforeAll(async () => {
    b = await build(join(OTRF, 'psh_control_panel_execution_2020-10-2201312134.json.gz'), {
      kind: 'review',
      from: '2020-10-22',
      to: '2020-10-23',
    });
  }, 180_000);

  it('raises the log-cleared finding on its 1102, and the PDF shows it', () => {
    const cleared = of(b.pack, 'audit-log-cleared');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({ severity: 'high', category: 'log_tampering' });
    expect(cleared[0]?.records.map((r) => r.event_code)).toEqual(['1102']);
    expect(b.pack.integrity_events.some((e) => e.raw_ref === cleared[0]?.records[0]?.raw_ref)).toBe(true);
    expect(b.register).toContain('Security log cleared on');
  });
});

describe('OTRF empire_wmic_add_user_backdoor', () => {
  let b: Built;
  const password = (() => {
    // The password as the raw capture holds it: the last word of the `net user /add backdoor …` command line.
    const text = gunzipSync(
      readFileSync(join(OTRF, 'empire_wmic_add_user_backdoor_2020-09-14080546.json.gz')),
    ).toString('utf8');
    const line = text.split('\n').find((l) => /"CommandLine":"net user \/add backdoor /.test(l)) ?? '';
    return (JSON.parse(line) as { CommandLine: string }).CommandLine.split(' ').pop() ?? '';
  })();
  beforeAll(async () => {
    b = await build(join(OTRF, 'empire_wmic_add_user_backdoor_2020-09-14080546.json.gz'), {
      kind: 'review',
      from: '2020-09-14',
      to: '2020-09-15',
    });
  }, 180_000);

  it('raises the account creation and the group change, tied to the session that made them', () => {
    const created = of(b.pack, 'account-created');
    expect(created).toHaveLength(1);
    expect(created[0]?.statement).toMatch(/created account .*backdoor/);
    expect(created[0]?.records[0]?.event_code).toBe('4720');
    const group = of(b.pack, 'group-membership-changed');
    // Group membership changes in the capture (Security Group Management ids), counted from the raw lines.
    const raw = gunzipSync(
      readFileSync(join(OTRF, 'empire_wmic_add_user_backdoor_2020-09-14080546.json.gz')),
    ).toString('utf8');
    const groupIds = (raw.match(/"EventID":47(28|29|32|33|56|57),/g) ?? [])
      .map((m) => m.slice(10, 14))
      .sort();
    expect(groupIds.length).toBeGreaterThan(0);
    expect(group.map((f) => f.records[0]?.event_code).sort()).toEqual(groupIds);
    const s = b.pack.sessions.find((x) => x.logon_id === '0x551686');
    expect(created[0]?.session?.id).toBe(s?.id);
  });

  it('flags the password on the command line and redacts it from evidence.json and the PDF', () => {
    expect(password.length).toBeGreaterThan(3);
    const secret = of(b.pack, 'secret-on-command-line');
    expect(secret.length).toBeGreaterThan(0);
    expect(secret.every((f) => f.redacted)).toBe(true);
    expect(b.json).not.toContain(password);
    expect(b.pdfText).not.toContain(password);
    expect(b.json).toContain('user /add backdoor [REDACTED]');
    expect(b.register).toContain('put a password on a command line');
  });
});
