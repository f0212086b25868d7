/**
 * Assembly of the findings query's rows: redaction (on by default, off when configured), references
 * to the session half, and the order of the register.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseConfig } from '../../lib/config/config.ts';
import { buildFindings, REDACTION_MARK, redactSecrets } from '../../lib/evidence/assemble-findings.ts';
import type { Row } from '../../lib/query/query-engine.ts';

const ref = 'w.json#record=7';
const activity: Row[] = [{ raw_ref: ref, command_line: 'net user /add backdoor paw0rd1' }];
const finding = (over: Record<string, string | number | boolean | null> = {}): Row => ({
  rule_id: 'secret-on-command-line',
  finding_key: 'k1',
  record_uid: 'u1',
  statement: 'CORP\\adm put a password on a command line on WS01 (net.exe)',
  subject_uid: 'S-1-5-21-1-2-3-1105',
  subject_name: 'adm',
  subject_domain: 'CORP',
  secret: 'paw0rd1',
  source: 'windows',
  host: 'WS01',
  time_ms: Date.parse('2020-09-14T12:06:04.000Z'),
  record_no: 7,
  event_code: '4688',
  kind: 'activity',
  raw_ref: ref,
  session_uid: '0x551686',
  boot_ms: -1,
  instance_uid: 'i1',
  group_uid: 'g1',
  in_pack: true,
  suppressed_by: null,
  ...over,
});
const results = { activity, orphans: [] as Row[], findings: [finding()] };
const account = (r: Row) => `${String(r.user_domain)}\\${String(r.user_name)}`;

describe('redactSecrets', () => {
  it('replaces the secret in the rows the pack shows and records which rows', () => {
    const { results: out, redacted } = redactSecrets(results, DEFAULT_CONFIG);
    expect(out.activity[0]?.command_line).toBe(`net user /add backdoor ${REDACTION_MARK}`);
    expect([...redacted]).toEqual([ref]);
    const { findings } = buildFindings(out.findings, new Map(), [], redacted, account);
    expect(findings[0]?.redacted).toBe(true);
  });

  it('leaves the command line as logged when the configuration says not to redact, and says so', () => {
    const config = parseConfig({ findings: { redact_secrets: false } });
    const { results: out, redacted } = redactSecrets(results, config);
    expect(out.activity[0]?.command_line).toBe('net user /add backdoor paw0rd1');
    const { findings } = buildFindings(out.findings, new Map(), [], redacted, account);
    expect(findings[0]?.redacted).toBe(false);
  });
});

describe('buildFindings', () => {
  it('refers to the session and the half the record ran under, and lists every rule with its count', () => {
    const session = {
      id: 's1',
      logon_id: '0x551686',
      halves: [
        { logon_id: '0x551686', elevated: true },
        { logon_id: '0x551600', elevated: false },
      ],
    };
    const { findings, finding_rules } = buildFindings(
      [finding()],
      new Map([['g1', session]]),
      [],
      new Set(),
      account,
    );
    expect(findings[0]).toMatchObject({
      rule_id: 'secret-on-command-line',
      severity: 'high',
      account: 'CORP\\adm',
      session: { id: 's1', logon_id: '0x551686', half: 'elevated' },
      orphan: null,
      records: [{ time: '2020-09-14T12:06:04.000Z', event_code: '4688', raw_ref: ref }],
      suppressed_by: null,
    });
    expect(finding_rules.find((r) => r.id === 'secret-on-command-line')?.findings).toBe(1);
    expect(finding_rules.filter((r) => r.findings === 0).length).toBe(finding_rules.length - 1);
  });

  it('orders the register by severity, then time', () => {
    const low = finding({
      rule_id: 'failed-logons',
      finding_key: 'k0',
      record_uid: 'u0',
      time_ms: 0,
      secret: null,
    });
    const { findings } = buildFindings([low, finding()], new Map(), [], new Set(), account);
    expect(findings.map((f) => f.severity)).toEqual(['high', 'low']);
  });
});
