/**
 * The CloudTrail sample's ground truth against packs built end to end (real DuckDB, real store, real
 * key, the default configuration): every privileged session found, none invented, every activity
 * event attributed to its true session, every bad file, duplicate and skipped record counted.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack, Session } from '../../lib/evidence/model.ts';
import { validateEvidence } from '../../lib/evidence/schema.ts';
import {
  type CloudTrailGroundTruth,
  type CtGtSession,
  generateCloudTrailSample,
} from '../../sample/cloudtrail-sample.ts';
import { localExport, makeKey } from '../helpers/local-export.ts';

let gt: CloudTrailGroundTruth;
let review: EvidencePack;
let incident: EvidencePack;

beforeAll(async () => {
  const logs = await mkdtemp(join(tmpdir(), 'st-ct-gt-'));
  const sample = await generateCloudTrailSample({ seed: 11, days: 3, from: '2024-05-06', outDir: logs });
  gt = JSON.parse(await readFile(sample.groundTruthPath, 'utf8')) as CloudTrailGroundTruth;
  const keyPath = await makeKey();
  const window = { from: sample.window.from, to: sample.window.to, sources: ['cloudtrail'] };
  review = (await localExport(logs, { kind: 'review', ...window }, { keyPath })).result.pack;
  incident = (
    await localExport(
      logs,
      { kind: 'incident', incidentId: 'IR-CT', hosts: [gt.account], ...window },
      { keyPath },
    )
  ).result.pack;
}, 120_000);

const keyOf = (s: { logon_id: string; start: string | null }) => `${s.logon_id}|${s.start}`;

function compare(pack: EvidencePack, expected: readonly CtGtSession[]) {
  expect(pack.sessions.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
  const found = new Map(pack.sessions.map((s) => [keyOf(s), s]));
  for (const want of expected) {
    const got = found.get(keyOf(want)) as Session;
    if (got === undefined) continue;
    expect({
      key: keyOf(want),
      user: got.user.uid,
      linked: got.linked_logon_id,
      end: got.end,
      end_reason: got.end_reason,
      privileged: got.privileged,
      activity: got.activity.map((a) => a.raw_ref).sort(),
    }).toEqual({
      key: keyOf(want),
      user: want.user_uid,
      linked: want.linked_logon_id,
      end: want.end,
      end_reason: want.end_reason,
      privileged: want.privileged,
      activity: [...want.activity],
    });
  }
}

/** A pack's findings as the ground truth states them: rule id and the sorted references of its records. */
const findingsOf = (p: EvidencePack) =>
  p.findings
    .map((f) => ({ rule_id: f.rule_id, records: f.records.map((r) => r.raw_ref).sort() }))
    .sort((a, b) => (`${a.rule_id}|${a.records[0]}` < `${b.rule_id}|${b.records[0]}` ? -1 : 1));

describe('CloudTrail sample ground truth', () => {
  it('raises every planted finding (tampering, denied too; IAM writes; root; sign-in without MFA; failed sign-ins) and invents none', () => {
    expect(gt.findings.length).toBeGreaterThan(0);
    expect(findingsOf(review)).toEqual(gt.findings);
    expect(findingsOf(incident)).toEqual(gt.findings);
    const tampering = review.integrity_events.filter((e) =>
      e.event_code.startsWith('cloudtrail.amazonaws.com:'),
    );
    expect(tampering.map((e) => e.raw_ref).sort()).toEqual(
      gt.findings
        .filter((f) => f.rule_id === 'audit-logging-stopped')
        .flatMap((f) => f.records)
        .sort(),
    );
  });

  it('review pack: finds every privileged session and invents none', () => {
    const expected = gt.sessions.filter((s) => s.privileged);
    expect(expected.length).toBe(3 * 4 + 1);
    compare(review, expected);
    expect(validateEvidence(review).ok).toBe(true);
  });

  it('incident pack: every session, every activity event attributed, no orphan activity', () => {
    compare(incident, gt.sessions);
    expect(incident.orphan_activity).toEqual([]);
  });

  it('says why each session is privileged', () => {
    const because = (kind: string) =>
      new Set(
        review.sessions
          .filter((s) => gt.sessions.find((g) => keyOf(g) === keyOf(s))?.kind === kind)
          .flatMap((s) => s.privileged_because),
      );
    expect(because('sso_role')).toEqual(new Set(['account:privileged_list']));
    expect(because('role_chain')).toEqual(new Set(['action:privileged_action']));
    expect(because('long_term_key_burst')).toEqual(new Set(['action:privileged_action']));
  });

  it('counts the malformed file, the duplicates and the skipped service events', () => {
    expect(Object.fromEntries(incident.coverage.rejected.map((r) => [r.reason, r.count]))).toEqual(
      gt.rejected,
    );
    expect(Object.fromEntries(incident.coverage.skipped.map((r) => [r.reason, r.count]))).toEqual(gt.skipped);
    expect(incident.coverage.sources[0]?.duplicates_collapsed).toBe(gt.duplicates);
  });

  it('shows console sign-ins with and without MFA', () => {
    const consoles = incident.sessions.filter((s) => s.logon_id.includes('@'));
    const mfa = (s: Session) => s.details.find((d) => d.name === 'mfa')?.value;
    for (const want of gt.sessions.filter((s) => s.kind === 'console')) {
      const got = consoles.find((s) => keyOf(s) === keyOf(want));
      expect(mfa(got as Session)).toBe(want.mfa ? 'Yes' : 'No');
    }
  });
});
