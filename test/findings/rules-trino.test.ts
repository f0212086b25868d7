/**
 * Conformance of the findings query: every hand-written case of the rule catalogue (rule-cases.ts)
 * run on DuckDB and on a real Trino gives the same rows, value for value. Needs TRINO_URL; skipped
 * with the reason without one, failed without one when SESSIONTRAIL_REQUIRE_TRINO=1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINDING_RULES } from '../../lib/findings/rules/index.ts';
import { DuckDbEngine } from '../../lib/query/duckdb/duckdb-engine.ts';
import type { QueryEngine } from '../../lib/query/query-engine.ts';
import { testEngine, trinoAvailability, uniqueName } from '../query/trino/trino-test-server.ts';
import { CASES } from './rule-cases.ts';
import { runFindings } from './rule-harness.ts';

const trino = await trinoAvailability();

describe.runIf(trino.unavailable !== null && trino.required)('findings on Trino (Trino required)', () => {
  it('has a reachable Trino', () => {
    throw new Error(`SESSIONTRAIL_REQUIRE_TRINO=1 but ${trino.unavailable}`);
  });
});

describe.skipIf(trino.unavailable !== null)(
  `findings rules, DuckDB vs Trino${trino.unavailable === null ? '' : ` (skipped: ${trino.unavailable})`}`,
  () => {
    let duck: DuckDbEngine;
    let tri: QueryEngine;
    beforeAll(async () => {
      duck = await DuckDbEngine.open({ threads: 1 });
      tri = testEngine(trino.url as string, 'raw', uniqueName('work_findings'));
    });
    afterAll(async () => {
      await duck.close();
      await tri.close();
    });

    it('gives the same rows on both engines for every case of every rule, and the whole catalogue at once', async () => {
      const cases = CASES.map(([rule, name, events, , , config]) => ({ rule, name, events, config }));
      for (const c of cases) {
        const rules = FINDING_RULES.filter((r) => r.id === c.rule);
        const options = c.config === undefined ? {} : { config: c.config };
        const onDuck = await runFindings(duck, c.events, rules, options);
        const onTrino = await runFindings(tri, c.events, rules, options);
        expect({ case: `${c.rule}: ${c.name}`, rows: onTrino }).toEqual({
          case: `${c.rule}: ${c.name}`,
          rows: onDuck,
        });
      }
      const all = CASES.flatMap(([, , events]) => events);
      expect(await runFindings(tri, all)).toEqual(await runFindings(duck, all));
    }, 600_000);
  },
);
