/**
 * The Linux sample's ground truth against packs built end to end (real DuckDB, real store, real
 * key), once per source: every privileged session found and none invented, every activity record
 * attributed to its true session or reported as orphan activity, every bad line counted, and the
 * session details carrying the TTY and sudo facts.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack, Session } from '../../lib/evidence/model.ts';
import { validateEvidence } from '../../lib/evidence/schema.ts';
import { UNSET_SESSION } from '../../lib/sources/linux-auditd.ts';
import type { LinuxGroundTruth, LinuxGtSession } from '../../sample/linux-ground-truth.ts';
import { generateLinuxSample } from '../../sample/linux-sample.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

let gt: LinuxGroundTruth;
const packs: Record<string, { review: EvidencePack; incident: EvidencePack }> = {};
const SOURCES = ['linux_auditd', 'linux_auth'] as const;

beforeAll(async () => {
  const logs = await mkdtemp(join(tmpdir(), 'st-lsample-'));
  const sample = await generateLinuxSample({ seed: 11, hosts: 4, days: 3, from: '2024-05-06', outDir: logs });
  gt = JSON.parse(await readFile(sample.groundTruthPath, 'utf8')) as LinuxGroundTruth;
  const keyPath = await makeKey();
  for (const source of SOURCES) {
    const window = { from: sample.window.from, to: sample.window.to, sources: [source] };
    packs[source] = {
      review: (await localExport(logs, { kind: 'review', ...window }, { keyPath })).result.pack,
      incident: (
        await localExport(
          logs,
          { kind: 'incident', incidentId: 'IR-9', hosts: gt.hosts, ...window },
          { keyPath },
        )
      ).result.pack,
    };
  }
}, 180_000);

const suffix = (rawRef: string) => rawRef.slice(rawRef.indexOf('#') + 1).replace(/^sha256=/, '');

function bootOrdinal(pack: EvidencePack, s: Session): number {
  if (s.boot_time === null) return 0;
  return pack.integrity_events.filter(
    (e) => e.kind === 'boot' && e.host === s.host && e.time <= (s.boot_time as string),
  ).length;
}

const keys = {
  linux_auditd: {
    got: (p: EvidencePack, s: Session) => `${s.host}|boot#${bootOrdinal(p, s)}|ses=${s.logon_id}`,
    want: (s: LinuxGtSession) => `${s.host}|boot#${s.boot_ordinal}|ses=${s.ses}`,
    activity: (s: LinuxGtSession) => s.auditd_activity,
  },
  linux_auth: {
    got: (_p: EvidencePack, s: Session) => `${s.host}|${s.logon_id}`,
    want: (s: LinuxGtSession) => `${s.host}|${s.auth_session}`,
    activity: (s: LinuxGtSession) => s.auth_activity,
  },
};

function compare(source: (typeof SOURCES)[number], pack: EvidencePack, expected: readonly LinuxGtSession[]) {
  const k = keys[source];
  const found = new Map(pack.sessions.map((s) => [k.got(pack, s), s]));
  const wanted = new Map(expected.map((s) => [k.want(s), s]));
  expect([...found.keys()].sort()).toEqual([...wanted.keys()].sort());
  for (const [key, want] of wanted) {
    const got = found.get(key);
    if (got === undefined) continue;
    expect({
      key,
      user: got.user.name,
      uid: got.user.uid ?? want.user_uid,
      end_reason: got.end_reason,
    }).toEqual({
      key,
      user: want.user_name,
      uid: want.user_uid,
      end_reason: want.end_reason,
    });
    // auth.log stamps are whole seconds
    expect(Math.abs(Date.parse(got.start as string) - Date.parse(want.start)), key).toBeLessThan(1000);
    if (want.end === null) expect(got.end, key).toBeNull();
    else expect(Math.abs(Date.parse(got.end as string) - Date.parse(want.end)), key).toBeLessThan(1000);
    expect(got.activity.map((a) => suffix(a.raw_ref)).sort(), key).toEqual([...k.activity(want)].sort());
  }
}

describe.each(SOURCES)('Linux sample ground truth through %s', (source) => {
  it('finds every privileged session and invents none (review pack)', () => {
    const { review } = packs[source] as { review: EvidencePack };
    const expected = gt.sessions.filter((s) => s.privileged);
    expect(expected.length).toBeGreaterThan(15);
    compare(source, review, expected);
    expect(validateEvidence(review).ok).toBe(true);
  });

  it('holds every session, privileged or not, in the incident pack', () => {
    compare(source, (packs[source] as { incident: EvidencePack }).incident, gt.sessions);
  });

  it('reports activity without a login session as orphan activity, none dropped', () => {
    const { review } = packs[source] as { review: EvidencePack };
    const got = review.orphan_activity.flatMap((g) =>
      g.events.map((e) => `${g.host}|${g.logon_id}|${suffix(e.raw_ref)}`),
    );
    const want =
      source === 'linux_auditd'
        ? gt.orphans.auditd.flatMap((o) => o.records.map((r) => `${o.host}|${o.session}|${r}`))
        : gt.orphans.auth.flatMap((o) => o.lines.map((l) => `${o.host}|${o.session}|${l}`));
    expect(got.sort()).toEqual(want.sort());
  });

  it.runIf(source === 'linux_auditd')(
    'follows a su started by a service without a login session into its shell, under the caller named by the log',
    () => {
      const { review } = packs[source] as { review: EvidencePack };
      const want = gt.orphans.auditd.filter((o) => o.session.startsWith(`${UNSET_SESSION}:su[`));
      expect(want.length).toBeGreaterThan(0);
      for (const o of want) {
        const group = review.orphan_activity.find((g) => g.host === o.host && g.logon_id === o.session);
        // the generator's service account: uid 34, named `backup` by the records' ENRICHED UID field
        expect(group?.user).toEqual({ uid: '34', name: 'backup', domain: null });
        expect(group?.likely_reason).toBe('no_login_session');
        expect(group?.events.map((e) => e.command_line).filter((c) => c !== null)).toEqual([
          'bash -c tar czf /backup/etc.tgz /etc',
          'tar czf /backup/etc.tgz /etc',
        ]);
      }
    },
  );

  it('counts every bad line, skipped record and duplicate', () => {
    const { review } = packs[source] as { review: EvidencePack };
    const counts = source === 'linux_auditd' ? gt.auditd_counts : gt.auth_counts;
    expect(Object.fromEntries(review.coverage.rejected.map((r) => [r.reason, r.count]))).toEqual(
      counts.rejected,
    );
    expect(Object.fromEntries(review.coverage.skipped.map((r) => [r.reason, r.count]))).toEqual(
      counts.skipped,
    );
    expect(review.coverage.sources[0]?.records_used).toBe(counts.events);
    if (source === 'linux_auditd')
      expect(review.coverage.sources[0]?.duplicates_collapsed).toBe(gt.auditd_counts.duplicates);
  });

  it('shows the TTY and the sudo facts in the details of a session that used sudo', () => {
    const { review } = packs[source] as { review: EvidencePack };
    const want = gt.sessions.find((s) => s.sudo_commands > 0) as LinuxGtSession;
    const got = review.sessions.find(
      (s) => keys[source].got(review, s) === keys[source].want(want),
    ) as Session;
    const details = Object.fromEntries(got.details.map((d) => [d.name, d.value]));
    expect(details).toMatchObject({
      tty: source === 'linux_auditd' ? want.tty : (want.tty as string).replace('/dev/', ''),
      elevated_to_root_via: 'sudo',
      sudo_commands: String(want.sudo_commands),
    });
    expect(got.privileged_because).toEqual(['elevated_token']);
  });
});
