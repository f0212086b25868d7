import { SessiontrailError } from '../../errors.ts';
import type { Dialect } from '../dialects/dialect.ts';
import { trinoDialect } from '../dialects/trino-dialect.ts';
import { identifier } from '../sql.ts';
import { athenaQuery } from './athena-sql.ts';

/** A run id: lower-case letters, digits and `_`, at most 64; it prefixes every working table of a pack. */
const RUN_ID = /^[a-z0-9_]{1,64}$/;

/**
 * Checks a run id (the per-pack prefix of working tables).
 * @throws {SessiontrailError} `BAD_IDENTIFIER` when it is not 1–64 lower-case letters, digits or `_`.
 */
export function checkRunId(runId: string): string {
  if (!RUN_ID.test(runId)) {
    throw new SessiontrailError(
      'BAD_IDENTIFIER',
      `Athena run id: expected 1 to 64 lower-case letters, digits or _, received ${JSON.stringify(runId)}`,
    );
  }
  return runId;
}

/**
 * The unquoted parts of a working table on Athena: the work database and `<runId>_<name>`.
 * Every part is validated, so the names can be written into SQL (quoted or back-ticked) safely.
 *
 * @throws {SessiontrailError} `BAD_IDENTIFIER` for a bad database, run id or table name.
 */
export function athenaWorkTableParts(
  workDatabase: string,
  runId: string,
  name: string,
): { readonly database: string; readonly table: string } {
  return { database: identifier(workDatabase), table: `${checkRunId(runId)}_${identifier(name)}` };
}

/**
 * Athena engine v3 speaks Trino SQL, so its dialect is the Trino one; only working tables differ:
 * they live in the pack's work database, prefixed with the pack's run id (several packs can run at
 * once in the same database), and are written as quoted identifiers, `"<db>"."<runId>_<name>"`;
 * and values outside WHERE clauses are written as literals ({@link athenaQuery}).
 *
 * @throws {SessiontrailError} `BAD_IDENTIFIER` for a bad work database or run id (checked here, once).
 */
export function athenaDialect(workDatabase: string, runId: string): Dialect {
  athenaWorkTableParts(workDatabase, runId, 'probe');
  return {
    ...trinoDialect(workDatabase),
    workTable: (name) => {
      const { database, table } = athenaWorkTableParts(workDatabase, runId, name);
      return `"${database}"."${table}"`;
    },
    bindValues: athenaQuery,
  };
}
