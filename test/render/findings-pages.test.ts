/**
 * The findings pages and the row budget, rendered by the real PDF code and read back with poppler:
 * a session of 5,000 activity rows whose three finding rows sit in the middle shows those rows.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, EvidencePack, Finding } from '../../lib/evidence/model.ts';
import { renderPdf } from '../../lib/render/pdf/render-pdf.ts';
import {
  buildRenderModel,
  DEFAULT_MAX_ACTIVITY_ROWS,
  type RenderModel,
  sessionDestination,
} from '../../lib/render/render-model.ts';
import { populatedPack } from '../fixtures/minimal-pack.ts';
import { sealFor } from '../fixtures/seal-facts.ts';

const ROWS = 5000;
const FINDING_ROWS = [2000, 2500, 3000];
const seal = { evidenceSha256: 'ab'.repeat(32), keyId: 'k-1', keyFingerprint: 'SHA256:x' };

function bigPack(): EvidencePack {
  const base = populatedPack();
  const session = base.sessions[0];
  if (session === undefined) throw new Error('the fixture has a session');
  const start = Date.parse('2024-01-10T09:00:00.000Z');
  const activity: ActivityEvent[] = Array.from({ length: ROWS }, (_, i) => ({
    time: new Date(start + i * 1000).toISOString(),
    event_code: '4688',
    action: 'process_created',
    logon_id: session.logon_id,
    half: null,
    user_name: 'adm-jdoe',
    process: 'C:\\Windows\\System32\\cmd.exe',
    parent_process: null,
    command_line: FINDING_ROWS.includes(i) ? `finding-row-${i}` : `routine-${i}`,
    target: null,
    privileges: [],
    raw_ref: `s3://logs/w.json#record=${i}`,
  }));
  const findings: Finding[] = FINDING_ROWS.map((i, k) => ({
    id: `f${k}`,
    rule_id: 'secret-on-command-line',
    category: 'secret_exposure',
    severity: 'high',
    time: activity[i]?.time as string,
    host: session.host,
    source: session.source,
    account: session.account,
    statement: `statement of finding ${k + 1}`,
    session: { id: session.id, logon_id: session.logon_id, half: null },
    orphan: null,
    records: [
      { time: activity[i]?.time as string, event_code: '4688', raw_ref: `s3://logs/w.json#record=${i}` },
    ],
    suppressed_by: k === 1 ? 'system-accounts' : null,
    redacted: false,
  }));
  return {
    ...base,
    sessions: [{ ...session, activity, activity_count: ROWS }],
    findings,
    workpaper: { control_reference: 'SOX ITGC AC-07' },
  };
}

describe('findings pages and the row budget', () => {
  let dir: string;
  let model: RenderModel;
  let text: string;
  beforeAll(async () => {
    const pack = bigPack();
    dir = mkdtempSync(join(tmpdir(), 'st-findings-pdf-'));
    model = buildRenderModel(pack, sealFor(pack, seal));
    const pdf = await renderPdf(model, new TextEncoder().encode(JSON.stringify(pack)));
    writeFileSync(join(dir, 'evidence.pdf'), pdf);
    text = execFileSync('pdftotext', ['-enc', 'UTF-8', join(dir, 'evidence.pdf'), '-']).toString('utf8');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the three finding rows of a 5,000-row session beyond the budget, marked with their numbers', () => {
    const s = model.sessions.at(0);
    expect(s?.findingNumbers).toEqual([1, 2, 3]);
    for (const i of FINDING_ROWS) expect(text).toContain(`finding-row-${i}`);
    expect(text).not.toContain(`routine-${(FINDING_ROWS[0] as number) - 1}`);
    for (const n of [1, 2, 3]) expect(text).toMatch(new RegExp(`F${n} 4688`));
    expect(s?.omittedRows).toBe(ROWS - DEFAULT_MAX_ACTIVITY_ROWS - FINDING_ROWS.length);
  });

  it('says how many rows it left out around each finding row', () => {
    const flat = text.replace(/\s+/g, ' ');
    const [a, b, c] = FINDING_ROWS as [number, number, number];
    expect(flat).toContain(
      `${a - DEFAULT_MAX_ACTIVITY_ROWS} rows omitted here (rows ${DEFAULT_MAX_ACTIVITY_ROWS + 1}-${a} of ${ROWS})`,
    );
    expect(flat).toContain(`${b - a - 1} rows omitted here (rows ${a + 2}-${b} of ${ROWS})`);
    expect(flat).toContain(`${ROWS - c - 1} rows omitted here (rows ${c + 2}-${ROWS} of ${ROWS})`);
  });

  it('explains in its legend every event code the PDF prints', () => {
    const legend = new Set(model.findings.legend.rows.map((r) => r[0]));
    const printed = new Set<string>();
    for (const s of model.sessions)
      for (const r of s.activity.rows) if (r[1] !== '—') printed.add((r[1] ?? '').replace(/^(F\d+ )+/, ''));
    for (const r of model.dataQuality.integrity.rows) printed.add(r[2] ?? '');
    for (const r of model.dataQuality.fieldPopulation.rows) printed.add(r[1] ?? '');
    expect(printed.size).toBeGreaterThan(1);
    expect([...printed].filter((c) => !legend.has(c))).toEqual([]);
    expect(text).toContain('Windows: a new process has been created');
  });

  it('links each register row to the page of its session: a GoTo to a named destination that poppler finds on that page', () => {
    const pdfPath = join(dir, 'evidence.pdf');
    const raw = readFileSync(pdfPath, 'latin1');
    const session = model.sessions.at(0);
    if (session === undefined) throw new Error('the fixture has a session');
    // One link annotation per register row, each a GoTo to its session's destination.
    expect(raw.match(/\/Subtype \/Link/g)).toHaveLength(FINDING_ROWS.length);
    const targets = [...raw.matchAll(/\/S \/GoTo\n\/D \(([^)]*)\)/g)].map((m) => m[1]);
    expect(targets).toEqual(FINDING_ROWS.map(() => sessionDestination(session.id)));
    expect(model.findings.registerLinks).toEqual(targets);
    // pdfinfo lists each named destination with its page: the page that shows the session's heading.
    const dests = execFileSync('pdfinfo', ['-dests', pdfPath]).toString('utf8');
    const line = dests.split('\n').find((l) => l.includes(`"${sessionDestination(session.id)}"`));
    const page = Number(/^\s*(\d+)/.exec(line ?? '')?.[1]);
    expect(page).toBeGreaterThan(2);
    const pageText = execFileSync('pdftotext', [
      '-f',
      String(page),
      '-l',
      String(page),
      '-enc',
      'UTF-8',
      pdfPath,
      '-',
    ])
      .toString('utf8')
      .replace(/\s+/g, ' ');
    expect(pageText).toContain(`1. ${session.title}`);
    expect(pageText).toContain(session.id);
  });

  it('opens with the register after the cover, the summary sentence, the sign-off and the legend', () => {
    const pages = text.split('\f');
    const findingsPage = pages[1] ?? '';
    expect(findingsPage).toContain('Findings');
    expect(findingsPage.replace(/\s+/g, ' ')).toContain(
      'This pack holds 3 findings: 3 high, 0 medium, 0 low',
    );
    for (const n of [1, 2, 3]) expect(findingsPage).toContain(`statement of finding ${n}`);
    expect(findingsPage.replace(/\s+/g, ' ')).toContain(
      'matches suppression rule system-accounts; shown regardless',
    );
    expect(findingsPage).toContain('Disposition');
    expect(findingsPage).toContain('Reviewed by');
    expect(findingsPage).toContain('SOX ITGC AC-07');
    expect(findingsPage).toContain('a new process has been created');
    const summary = pages.findIndex((p) => p.includes('Completeness verdicts'));
    expect(summary).toBeGreaterThan(1);
    expect((pages[summary] ?? '').replace(/\s+/g, ' ')).toContain('This pack holds 3 findings');
  });
});
