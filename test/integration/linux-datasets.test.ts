/**
 * Real auditd captures end to end into signed packs (real DuckDB, store and key): the sessions, the
 * orphan activity and the counts a careful reader finds in them (how: test/fixtures/DATASET-FACTS.md,
 * or counted here over the files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { validateEvidence } from '../../lib/evidence/schema.ts';
import { dataset } from '../helpers/datasets.ts';
import { localExport } from '../helpers/local-export.ts';

let rhel7: EvidencePack;
let otrf: EvidencePack;

beforeAll(async () => {
  rhel7 = (
    await localExport(dataset('linux/go-libaudit/audit-rhel7.log'), {
      kind: 'incident',
      incidentId: 'IR-7',
      hosts: ['AUDIT-RHEL7'],
      sources: ['linux_auditd'],
      from: '2016-12-07T00:00:00Z',
      to: '2016-12-08T00:00:00Z',
    })
  ).result.pack;
  otrf = (
    await localExport(dataset('linux/otrf'), {
      kind: 'incident',
      incidentId: 'IR-8',
      hosts: ['SH'],
      sources: ['linux_auditd'],
      from: '2020-11-10T00:00:00Z',
      to: '2020-11-11T00:00:00Z',
    })
  ).result.pack;
}, 120_000);

describe('go-libaudit RHEL 7 capture', () => {
  it('rebuilds the one ssh session of andrew_kroh with its TTY, address and logoff', () => {
    expect(validateEvidence(rhel7).ok).toBe(true);
    expect(rhel7.sessions.map((s) => [s.logon_id, s.account, s.src_ip, s.end_reason, s.privileged])).toEqual([
      ['1', 'andrew_kroh', '96.241.146.97', 'logoff', false],
    ]);
    expect(rhel7.sessions[0]?.details).toContainEqual({ name: 'tty', value: '/dev/pts/0' });
  });

  it('reports the boot, the audit rule change, the audit daemon stop, and the useradd of the boot as orphan activity', () => {
    // The capture's one CONFIG_CHANGE (audit(1481077231.371:478), auid=1000 op="add_rule") changes
    // what is audited: an integrity event between the boots and the daemon's stop.
    expect(rhel7.integrity_events.map((e) => e.kind)).toEqual([
      'boot',
      'boot',
      'audit_policy_changed',
      'audit_service_stopped',
    ]);
    expect(rhel7.integrity_events[2]?.raw_ref).toMatch(/#audit\(1481077231\.371:478\)\/CONFIG_CHANGE$/);
    // auid unset: each PAM or account-management process is its own group, keyed by program and pid
    const unset = Object.fromEntries(
      rhel7.orphan_activity
        .filter((g) => g.logon_id?.startsWith('unset:'))
        .map((g) => [g.logon_id, g.events.map((e) => e.action)]),
    );
    expect(unset).toMatchObject({
      'unset:groupadd[1235]': ['group_created', 'group_changed'],
      'unset:useradd[1264]': ['user_created', 'user_changed'],
    });
  });

  it('keeps the records sshd writes before the login session exists (auid unset) as orphan activity of its process', () => {
    // audit-rhel7.log, pid 1298: USER_AUTH (pubkey_auth), USER_ACCT and CRED_ACQ of andrew_kroh
    // with auid/ses 4294967295, then the LOGIN that assigns ses 1 to the same pid.
    const group = rhel7.orphan_activity.find((g) => g.logon_id === 'unset:sshd[1298]');
    expect(group?.events.map((e) => [e.action, e.target])).toEqual([
      ['authenticated', 'pubkey_auth acct andrew_kroh'],
      ['account_checked', 'PAM:accounting acct andrew_kroh on ssh'],
      ['credentials_acquired', 'PAM:setcred acct andrew_kroh on ssh'],
    ]);
    // sshd runs as uid 0; this capture (RAW format) never names uid 0, so no name is invented
    expect(group?.user).toEqual({ uid: '0', name: null, domain: null });
    expect(group?.likely_reason).toBe('no_login_session');
  });
});

describe('OTRF Linux captures', () => {
  it('shows the commands of ses 104 (login before the capture) as orphan activity', () => {
    expect(otrf.sessions).toEqual([]);
    const group = otrf.orphan_activity.find((g) => g.logon_id === '104');
    expect(group?.events.map((e) => e.command_line)).toEqual([
      'arp -a',
      'grep -v ^?',
      'dd if=/dev/zero bs=1 count=1',
    ]);
    // The lines of the folder that are no auditd record (the JSON exports beside the .log files).
    const dir = dataset('linux/otrf');
    const notAudit = readdirSync(dir)
      .filter((n) => n.endsWith('.log') || n.endsWith('.json'))
      .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n'))
      .filter((l) => l.trim() !== '' && !/^(?:node=\S+ )?type=\S+/.test(l)).length;
    expect(otrf.coverage.rejected).toEqual([
      expect.objectContaining({ reason: 'not_audit_record', count: notAudit }),
    ]);
  });
});
