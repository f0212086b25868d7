/**
 * The OCSF sample's ground truth against packs built end to end (real DuckDB): endpoint sessions
 * from Authentication logon/logoff with their Process Activity, and cloud API sessions whose IAM
 * writes make them privileged.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { generateOcsfSample, type OcsfGroundTruth } from '../../sample/ocsf-sample.ts';
import { localExport } from '../helpers/local-export.ts';

let gt: OcsfGroundTruth;
let review: EvidencePack;
let incident: EvidencePack;

beforeAll(async () => {
  const logs = await mkdtemp(join(tmpdir(), 'st-ocsf-'));
  const sample = await generateOcsfSample({ seed: 5, days: 3, from: '2024-04-01', outDir: logs });
  gt = JSON.parse(await readFile(sample.groundTruthPath, 'utf8')) as OcsfGroundTruth;
  review = (await localExport(logs, { kind: 'review', sources: ['ocsf'], ...sample.window })).result.pack;
  const hosts = [...new Set(gt.sessions.map((s) => s.host))];
  incident = (
    await localExport(logs, {
      kind: 'incident',
      incidentId: 'IR-9',
      hosts,
      sources: ['ocsf'],
      ...sample.window,
    })
  ).result.pack;
}, 120_000);

describe('OCSF sample ground truth', () => {
  it('finds every session, privileged ones in the review pack, all in the incident pack', () => {
    const key = (host: string, uid: string) => `${host}|${uid}`;
    expect(incident.sessions.map((s) => key(s.host, s.logon_id)).sort()).toEqual(
      gt.sessions.map((s) => key(s.host, s.session_uid)).sort(),
    );
    expect(review.sessions.map((s) => key(s.host, s.logon_id)).sort()).toEqual(
      gt.sessions
        .filter((s) => s.privileged)
        .map((s) => key(s.host, s.session_uid))
        .sort(),
    );
  });

  it('gives each session its start, end and activity', () => {
    for (const want of gt.sessions) {
      const got = incident.sessions.find((s) => s.host === want.host && s.logon_id === want.session_uid);
      expect(got, want.session_uid).toBeDefined();
      expect({ start: got?.start, end: got?.end, user: got?.user.uid }).toEqual({
        start: want.start,
        end: want.end,
        user: want.user_uid,
      });
      expect(got?.activity_count).toBe(want.activity.length);
    }
  });

  it('counts the records of other classes as skipped', () => {
    expect(incident.coverage.skipped.find((r) => r.reason === 'other_class')?.count).toBe(gt.skipped);
    expect(incident.orphan_activity).toEqual([]);
  });
});
