/**
 * The registry of log sources: one line per source. A source knows how to normalise its raw lines
 * into session events (one query) and which fields each of its event codes defines.
 */
import type { SourceTraits } from '../evidence/assemble-pack.ts';
import type { Dialect, RawInput } from '../query/dialects/dialect.ts';
import type { SqlQuery } from '../query/sql.ts';
import { type RawTableSpec, rawTableOf } from './raw-table.ts';
import { buildWindowsNormaliseQuery, WINDOWS_SOURCE, definedFields as windowsFields } from './windows.ts';

export interface SourceDefinition {
  readonly name: string;
  /** The classified-lines query (see `buildWindowsNormaliseQuery`). */
  buildNormaliseQuery(dialect: Dialect, input: RawInput): SqlQuery;
  definedFields(eventCode: string): readonly string[];
  /** The raw-line table (Glue, Hive) over the source's files. */
  readonly rawTable: RawTableSpec;
  readonly traits: SourceTraits;
}

export const SOURCES: Readonly<Record<string, SourceDefinition>> = {
  [WINDOWS_SOURCE]: {
    name: WINDOWS_SOURCE,
    buildNormaliseQuery: buildWindowsNormaliseQuery,
    definedFields: windowsFields,
    rawTable: rawTableOf(WINDOWS_SOURCE),
    traits: { privilegeEvents: true, logoffEvents: true },
  },
};

export const SOURCE_NAMES: readonly string[] = Object.keys(SOURCES).sort();
