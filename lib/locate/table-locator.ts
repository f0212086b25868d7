/**
 * The locator over raw tables in a catalog: the deployment's Glue tables read by Athena, or the
 * Hive tables of a Trino catalog (`sessiontrail export --engine trino`). Each source's table is
 * filtered on its day partition as {@link planRawInput} plans it. The engine reads the objects
 * itself, so there are no file problems to report and nothing to clean up, except for a staged
 * table (format `records`: CloudTrail, OCSF as JSON): its delivered objects are split per record
 * first by the `stage` given ({@link stagingOf}), whose accounts are the pack's input list and problems.
 */
import { SessiontrailError } from '../errors.ts';
import { planRawInput, type SourceTable } from './raw-input-plan.ts';
import type { FileProblem, InputObject, LocatedInput, RawLogLocator } from './raw-log-locator.ts';
import { type StagingBucket, stageRecords } from './record-staging.ts';

/** Stages a source's delivered objects for `[fromMs, toMs)` before its table is read. */
export type StageTable = (
  table: SourceTable,
  fromMs: number,
  toMs: number,
) => Promise<{ readonly inputs: readonly InputObject[]; readonly problems: readonly FileProblem[] }>;

/** The {@link StageTable} over a bucket: the record staging, its files as inputs and problems. */
export function stagingOf(bucket: (table: SourceTable) => StagingBucket): StageTable {
  return async (table, fromMs, toMs) => {
    const files = await stageRecords(bucket(table), table, fromMs, toMs);
    return { inputs: files.map((f) => f.object), problems: files.flatMap((f) => f.problems) };
  };
}

/**
 * A locator over `tables`, one per source; `sources()` lists exactly these.
 * `locate` throws SessiontrailError `BAD_REQUEST` for a source that has no table.
 */
export function tableLocator(
  tables: Readonly<Record<string, SourceTable>>,
  stage?: StageTable,
): RawLogLocator {
  const names = Object.keys(tables).sort();
  return {
    sources: async () => names,
    async locate(source: string, fromMs: number, toMs: number): Promise<LocatedInput> {
      const table = tables[source];
      if (table === undefined)
        throw new SessiontrailError(
          'BAD_REQUEST',
          `source ${JSON.stringify(source)} has no table here; the tables read are: ${names.join(', ') || '(none)'}`,
        );
      const input = planRawInput(table, fromMs, toMs);
      if (table.stagedFrom !== undefined && stage !== undefined) {
        const staged = await stage(table, fromMs, toMs);
        return { input, problems: staged.problems, inputs: staged.inputs, cleanup: async () => {} };
      }
      return { input, problems: [], cleanup: async () => {} };
    },
  };
}
