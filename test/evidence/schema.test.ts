import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVIDENCE_SCHEMA_ID } from '../../lib/evidence/model.ts';
import { EVIDENCE_SCHEMA_URL, validateEvidence } from '../../lib/evidence/schema.ts';
import { minimalPack, populatedPack } from '../fixtures/minimal-pack.ts';

/** A deep, mutable copy of a fixture, for breaking it one field at a time. */
// biome-ignore lint/suspicious/noExplicitAny: tests reach into arbitrary paths to break them.
const mutable = (): any => structuredClone(populatedPack());

describe('validateEvidence', () => {
  it.each([
    ['a minimal pack', minimalPack],
    ['a pack where every object type appears', populatedPack],
  ])('accepts %s', (_name, build) => {
    // Prepare
    const pack = build();

    // Act
    const result = validateEvidence(pack);

    // Assess
    expect(result).toEqual({ ok: true });
  });

  it.each([
    '/',
    '/pack',
    '/pack/window',
    '/pack/scope',
    '/tool',
    '/summary/verdicts',
    '/accounts/0',
    '/sessions/0',
    '/sessions/0/user',
    '/sessions/0/halves/0',
    '/sessions/0/completeness',
    '/sessions/0/activity/0',
    '/coverage/sources/0',
    '/coverage/sources/0/time_fields/0',
    '/coverage/hosts/0',
    '/queries/0',
    '/orphan_activity/0',
    '/orphan_activity/0/user',
    '/orphan_activity/0/events/0',
    '/integrity_events/0',
    '/coverage/rejected/0',
    '/coverage/skipped/0',
    '/coverage/field_population/0',
    '/suppressions/0',
  ])('rejects an unknown key in the object at %s', (pointer) => {
    // Prepare
    const pack = mutable();
    const target = pointer
      .split('/')
      .filter((step) => step !== '')
      .reduce((node, step) => node[step], pack);
    target.extra = 1;

    // Act
    const result = validateEvidence(pack);

    // Assess
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toContain(`${pointer} has unknown property "extra"`);
  });

  it.each<[string, (p: ReturnType<typeof mutable>) => void, string]>([
    ['a missing required field', (p) => delete p.summary.sessions, "must have required property 'sessions'"],
    [
      'a kind outside the enum',
      (p) => {
        p.pack.kind = 'weekly';
      },
      '/pack/kind must be one of',
    ],
    [
      'an end reason outside the enum',
      (p) => {
        p.sessions[0].end_reason = 'timeout';
      },
      '/sessions/0/end_reason',
    ],
    [
      'a time with an offset',
      (p) => {
        p.sessions[0].start = '2024-01-10T10:14:55.000+01:00';
      },
      '/sessions/0/start',
    ],
    [
      'a time without milliseconds',
      (p) => {
        p.pack.data_from = '2023-12-31T00:00:00Z';
      },
      '/pack/data_from',
    ],
    [
      'an impossible date',
      (p) => {
        p.pack.window.to = '2024-02-30T00:00:00.000Z';
      },
      'format "date-time"',
    ],
    [
      'a negative count',
      (p) => {
        p.summary.hosts = -1;
      },
      '/summary/hosts must be >= 0',
    ],
    [
      'a fractional count',
      (p) => {
        p.summary.hosts = 1.5;
      },
      '/summary/hosts must be integer',
    ],
    [
      'another schema id',
      (p) => {
        p.schema = 'https://example.com/v2';
      },
      '/schema must be equal to constant',
    ],
    [
      'a third session half',
      (p) => p.sessions[0].halves.push(...p.sessions[0].halves, ...p.sessions[0].halves),
      '/sessions/0/halves',
    ],
    [
      'a series that is not a path segment',
      (p) => {
        p.pack.series = '../x';
      },
      '/pack/series',
    ],
    [
      'a number where a string or null is meant',
      (p) => {
        p.sessions[0].src_ip = 1;
      },
      '/sessions/0/src_ip',
    ],
  ])('rejects %s', (_what, breakIt, expected) => {
    // Prepare
    const pack = mutable();
    breakIt(pack);

    // Act
    const result = validateEvidence(pack);

    // Assess
    expect(result.ok).toBe(false);
    expect((result.ok ? [] : result.errors).join('\n')).toContain(expected);
  });

  it('reports every error, not just the first', () => {
    // Prepare
    const pack = mutable();
    pack.extra = 1;
    pack.summary.hosts = -1;

    // Act
    const result = validateEvidence(pack);

    // Assess
    expect(result.ok ? 0 : result.errors.length).toBeGreaterThanOrEqual(2);
  });
});

describe('evidence.schema.json', () => {
  it('carries the model id and the draft 2020-12 dialect', () => {
    // Act
    const schema = JSON.parse(readFileSync(EVIDENCE_SCHEMA_URL, 'utf8')) as Record<string, unknown>;

    // Assess
    expect(schema.$id).toBe(EVIDENCE_SCHEMA_ID);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('closes every object it describes', () => {
    // Prepare
    const schema = JSON.parse(readFileSync(EVIDENCE_SCHEMA_URL, 'utf8')) as unknown;
    const open: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const record = node as Record<string, unknown>;
      if (record.type === 'object' && record.additionalProperties !== false) open.push(path);
      for (const [key, child] of Object.entries(record)) walk(child, `${path}/${key}`);
    };

    // Act
    walk(schema, '#');

    // Assess
    expect(open).toEqual([]);
  });
});
