/**
 * A record's position survives the intake's rejects: when all but one record of a CloudTrail
 * document are rejected before the engine, the kept record is still cited by its own index in the
 * delivered file, never as record 0 (real DuckDB, real intake).
 */
import { describe, expect, it } from 'vitest';
import { localExport } from '../helpers/local-export.ts';
import { cloudTrailRecord, logFolder } from '../helpers/log-folder.ts';

const ACCOUNT = '111122223333';
const record = (n: number) => cloudTrailRecord(n, 'CreateUser', ACCOUNT);

async function trail(records: readonly object[], loneSurrogateAt: readonly number[]): Promise<string> {
  // A lone surrogate escape makes a record invalid JSON text for every engine: the intake rejects it.
  const text = JSON.stringify({
    Records: records.map((r, i) => (loneSurrogateAt.includes(i) ? { ...r, eventName: '@@BAD@@' } : r)),
  }).replaceAll('@@BAD@@', '\\ud800');
  const folder = `cloudtrail/AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2024/03/04`;
  return (await logFolder({ [`${folder}/trail.json`]: text }, 'st-positions-')).root;
}

const refsOf = (json: string) => [...new Set(json.match(/trail\.json#record=\d+/g) ?? [])].sort();

describe('record positions after rejects (DuckDB)', () => {
  it.each([
    ['the first of two records rejected', [0], ['trail.json#record=0', 'trail.json#record=1']],
    [
      'the first two of three rejected',
      [0, 1],
      ['trail.json#record=0', 'trail.json#record=1', 'trail.json#record=2'],
    ],
    ['the last of two rejected', [1], ['trail.json#record=0', 'trail.json#record=1']],
  ])('cites the kept record by its own index when %s', async (_what, bad, expected) => {
    const logs = await trail([record(1), record(2), record(3)].slice(0, expected.length), bad);
    const { result } = await localExport(logs, {
      kind: 'review',
      from: '2024-03-04T00:00:00Z',
      to: '2024-03-05T00:00:00Z',
      sources: ['cloudtrail'],
    });
    const json = JSON.stringify(result.pack);
    // Every index is cited once: the rejected ones among the rejects, the kept one by its session.
    expect(refsOf(json)).toEqual(expected);
  });
});
