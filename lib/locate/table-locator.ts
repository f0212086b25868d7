/**
 * The locator over raw tables in a catalog: the deployment's Glue tables read by Athena, or the
 * Hive tables of a Trino catalog (`sessiontrail export --engine trino`). Each source's table is
 * filtered on its day partition as {@link planRawInput} plans it. The engine reads the objects
 * itself, so there are no file problems to report and nothing to clean up.
 */
import { SessiontrailError } from '../errors.ts';
import { planRawInput, type SourceTable } from './raw-input-plan.ts';
import type { LocatedInput, RawLogLocator } from './raw-log-locator.ts';

/**
 * A locator over `tables`, one per source; `sources()` lists exactly these.
 * `locate` throws SessiontrailError `BAD_REQUEST` for a source that has no table.
 */
export function tableLocator(tables: Readonly<Record<string, SourceTable>>): RawLogLocator {
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
      return { input: planRawInput(table, fromMs, toMs), problems: [], cleanup: async () => {} };
    },
  };
}
