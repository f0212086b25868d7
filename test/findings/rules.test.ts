/**
 * The findings rule catalogue, each rule on real DuckDB over a tiny hand-written table of normalised
 * events: every rule has a non-compliant case (it raises the finding) and a compliant one (it does
 * not), as cdk-nag's rule packs test theirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, DEFAULT_FINDINGS, parseConfig } from '../../lib/config/config.ts';
import { FINDING_RULES } from '../../lib/findings/rules/index.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import { CASES, failed, logon, process, win } from './rule-cases.ts';
import { runFindings } from './rule-harness.ts';

let engine: DuckDbEngine;
beforeAll(async () => {
  engine = await DuckDbEngine.open({ threads: 1 });
});
afterAll(async () => {
  await engine.close();
});

describe('findings rules', () => {
  const cases = CASES.map(([rule, name, events, expected, statement, config]) => ({
    rule,
    name,
    events,
    expected,
    statement,
    config,
  }));
  it.each(cases)('$rule on $name', async ({ rule: ruleId, events, expected, statement, config }) => {
    // Prepare
    const rule = FINDING_RULES.find((r) => r.id === ruleId);
    expect(rule).toBeDefined();
    // Act
    const rows = await runFindings(engine, events, [rule!], config === undefined ? {} : { config });
    // Assess
    const keys = new Set(rows.map((r) => r.finding_key));
    expect(keys.size).toBe(expected);
    if (statement !== undefined) expect(String(rows[0]?.statement)).toContain(statement);
  });

  it('has a non-compliant and a compliant case for every rule of the catalogue', () => {
    for (const rule of FINDING_RULES) {
      const cases = CASES.filter((c) => c[0] === rule.id);
      expect(
        cases.some((c) => c[3] > 0),
        rule.id,
      ).toBe(true);
      expect(
        cases.some((c) => c[3] === 0),
        rule.id,
      ).toBe(true);
    }
  });

  it('gives every rule an id, sources, a rationale and at least one reference', () => {
    const ids = FINDING_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of FINDING_RULES) {
      expect(r.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(r.sources.length).toBeGreaterThan(0);
      expect(r.rationale.length).toBeGreaterThan(20);
      expect(r.references.length).toBeGreaterThan(0);
    }
  });
});

describe('findings query', () => {
  it('keeps a finding whose subject a suppression rule matches, marked with that rule', async () => {
    const rows = await runFindings(engine, [
      win('4720', 'activity', 'user_created', {
        user_uid: 'S-1-5-18',
        user_name: 'WS01$',
        session_uid: '0x3e7',
      }),
    ]);
    expect(rows.map((r) => [r.rule_id, r.suppressed_by])).toEqual([['account-created', 'system-accounts']]);
  });

  it('ties a finding to the session half its record ran under', async () => {
    const rows = await runFindings(engine, [
      logon({ record_uid: 'logon-1' }),
      win('4732', 'activity', 'group_member_added', { time: 2 }),
    ]);
    const row = rows.find((r) => r.rule_id === 'group-membership-changed');
    expect(row).toMatchObject({ instance_uid: 'logon-1', in_pack: true, suppressed_by: null });
  });

  it('gives the secret it found, for redaction, and nothing of it in the statement', async () => {
    const rows = await runFindings(engine, [
      process('C:\\windows\\system32\\net1 user /add backdoor paw0rd1'),
    ]);
    expect(rows.map((r) => r.secret)).toEqual(['paw0rd1']);
    expect(String(rows[0]?.statement)).not.toContain('paw0rd1');
  });

  it.each([
    ['net user backdoor S3cret! /add', 'S3cret!'],
    ['NET USER /ADD /domain svc Pa55', 'Pa55'],
    ["powershell $p = ConvertTo-SecureString 'Winter2024' -AsPlainText -Force", 'Winter2024'],
    ['mysql --password=hunter2 -u root', 'hunter2'],
    ['sqlcmd -S db -U sa -Password Tr0ub4dor', 'Tr0ub4dor'],
    ['curl "https://x/?a=1" -d password=abc123&x=1', 'abc123'],
    ['sshpass -p s3kr1t ssh host', 's3kr1t'],
  ])('finds the secret in %s', async (line, secret) => {
    const rows = await runFindings(engine, [process(line)]);
    expect(rows.map((r) => r.secret)).toEqual([secret]);
  });

  it('reads its thresholds from the configuration', async () => {
    const strict = parseConfig({ findings: { spray_accounts: 2, burst_gap_seconds: 1 } });
    expect(DEFAULT_FINDINGS.spray_accounts).toBe(3);
    const events = [failed(1, 'alice'), failed(1.5, 'bob'), failed(100, 'carol')];
    const spray = FINDING_RULES.filter((r) => r.id === 'password-spray');
    expect(await runFindings(engine, events, spray, { config: DEFAULT_CONFIG })).toHaveLength(0);
    expect(
      new Set((await runFindings(engine, events, spray, { config: strict })).map((r) => r.finding_key)).size,
    ).toBe(1);
  });
});
